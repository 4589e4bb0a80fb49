"""Talking to models: one Provider protocol, one adapter per kind of endpoint."""

from gensandbox.providers.base import Provider
from gensandbox.providers.pricing import PriceTable, load_price_table
from gensandbox.providers.registry import build_provider, default_concurrency, resolve_model

__all__ = [
    "PriceTable",
    "Provider",
    "build_provider",
    "default_concurrency",
    "load_price_table",
    "resolve_model",
]
