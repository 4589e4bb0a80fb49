"""One call layer for evaluations, the gateway and audits: which model a name means (models.py), a model ready
to call (targets.py), one call with retry and the response cache (call.py), budgets (budget.py), and the one
builder of a call's ledger facts (records.py)."""

__all__: list[str] = []  # import the modules themselves
