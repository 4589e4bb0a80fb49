"""Policy audits: checks whose findings are kept beside runs (gensandbox.store.audits) for the report."""

__all__: list[str] = []  # import the modules themselves
