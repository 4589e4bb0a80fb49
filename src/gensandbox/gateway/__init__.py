"""The OpenAI-compatible gateway: routing, keys, budgets, records."""

from gensandbox.gateway.app import create_app

__all__ = ["create_app"]
