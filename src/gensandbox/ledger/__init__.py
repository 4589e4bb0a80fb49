"""The audit trail: hash-chained events, signed checkpoints, receipts, verify, export and import, OTel spans."""

__all__: list[str] = []  # import the modules themselves
