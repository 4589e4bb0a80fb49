"""Prices are data: a versioned table the user can edit, overridden per model in gensandbox.toml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from gensandbox.config import ModelConfig, read_toml, validate
from gensandbox.providers.regimes import SWEEP_MARK
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
    assumed_prompt_tokens_per_s: float = Field(default=60, gt=0)
    assumed_output_tokens_per_s: float = Field(default=20, gt=0)


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
        """The model's own keys in gensandbox.toml win; then this table; local models pay for compute."""
        if model.provider == "local":
            if model.compute_usd_per_hour is not None:
                return Price(per_compute_hour_usd=model.compute_usd_per_hour, source="gensandbox.toml")
            return Price(per_compute_hour_usd=self.compute.usd_per_hour,
                         source=f"price table {self.version}: compute")
        if model.price_per_million_input_tokens is not None or model.price_per_million_output_tokens is not None:
            return Price(per_million_input_tokens_usd=model.price_per_million_input_tokens or 0.0,
                         per_million_output_tokens_usd=model.price_per_million_output_tokens or 0.0,
                         source="gensandbox.toml")
        base = model.variant.definition.base if model.variant else model.name.partition(SWEEP_MARK)[0]
        listed = self.models.get(base)  # a variant or a sweep setting is priced as its base
        if listed:
            return Price(per_million_input_tokens_usd=listed.input, per_million_output_tokens_usd=listed.output,
                         source=f"price table {self.version}")
        return Price(source="unpriced: add price_per_million_* to gensandbox.toml")


def load_price_table(path: Path) -> PriceTable:
    parsed = validate(_PriceFile, read_toml(path), str(path))
    return PriceTable(version=parsed.version, compute=parsed.compute, models=parsed.models)

