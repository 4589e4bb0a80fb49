"""Customised models: a base model plus a system prompt, examples, parameters, post-processing and retrieval
over the user's documents. Everything here receives a built base provider (calls/models.py builds it), so a
variant wraps any model without knowing how that model is reached."""

__all__: list[str] = []  # import the modules themselves
