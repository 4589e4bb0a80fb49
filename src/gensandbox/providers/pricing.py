"""Prices are data: a versioned table the user can edit, overridden per model in gensandbox.toml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from gensandbox.config import ModelConfig, read_toml, validate
from gensandbox.types import Price


class _TokenPrice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: float = Field(ge=0)
    output: float = Field(ge=0)
    source: str = ""


class _Compute(BaseModel):
    model_config = ConfigDict(extra="forbid")
    usd_per_hour: float = Field(ge=0)
    source: str = ""


class _PriceFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str
    compute: _Compute
    models: dict[str, _TokenPrice] = {}


@dataclass(frozen=True)
class PriceTable:
    version: str
    compute: _Compute
    models: dict[str, _TokenPrice]

    def price_for(self, model: ModelConfig) -> Price:
        """The model's own keys win; then the table; local models default to the compute rate."""
        if model.provider == "local":
            rate = model.compute_usd_per_hour
            source = "gensandbox.toml" if rate is not None else f"price table {self.version}: compute"
            return Price(per_compute_hour_usd=self.compute.usd_per_hour if rate is None else rate,
                         source=source)
        listed = self.models.get(model.name)
        per_input = _first(model.price_per_million_input_tokens, listed and listed.input)
        per_output = _first(model.price_per_million_output_tokens, listed and listed.output)
        if model.price_per_million_input_tokens is not None:
            source = "gensandbox.toml"
        elif listed:
            source = f"price table {self.version}"
        else:
            source = "unpriced: add price_per_million_* to gensandbox.toml"
        return Price(per_million_input_tokens_usd=per_input, per_million_output_tokens_usd=per_output,
                     source=source)


def load_price_table(path: Path) -> PriceTable:
    parsed = validate(_PriceFile, read_toml(path), str(path))
    return PriceTable(version=parsed.version, compute=parsed.compute, models=parsed.models)


def _first(*values) -> float:
    for value in values:
        if value is not None and value is not False:
            return float(value)
    return 0.0
