"""Talking to models: one Provider protocol, one adapter per kind of endpoint (wire formats only; which model a
name means and how its provider is built is calls/models.py)."""

from gensandbox.providers.base import Provider
from gensandbox.providers.pricing import PriceTable, load_price_table

__all__ = [
    "PriceTable",
    "Provider",
    "load_price_table",
]
