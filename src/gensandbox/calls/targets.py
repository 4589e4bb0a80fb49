"""A model ready to call (`Target`: its definition, a connected provider, its price, its limits), built the same
way for evaluations, the gateway and audits, and what a call's ledger event says about it (`ModelFacts`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from gensandbox.calls.models import build_provider, default_concurrency, model_identity
from gensandbox.config import Config, ModelConfig
from gensandbox.providers import PriceTable, Provider
from gensandbox.types import Price

__all__ = ["ModelFacts", "Target", "output_bound", "target_for"]


@dataclass(frozen=True)
class Target:
    """A model ready to call: its definition, a connected provider, its price, its limits."""

    model: ModelConfig
    provider: Provider
    price: Price
    concurrency: int
    identity: dict = field(default_factory=dict)  # what the model is, for the cache key and the manifest


def target_for(model: ModelConfig, config: Config, prices: PriceTable) -> Target:
    provider = build_provider(model, config)
    return Target(model, provider, prices.price_for(model), default_concurrency(model),
                  model_identity(model, config))


def output_bound(model: ModelConfig) -> int | None:
    """The most output tokens one answer of `model` can have, when known: its documented maximum, else its context
    window (no answer outgrows it)."""
    return model.max_output_tokens or model.context_tokens()


@dataclass(frozen=True)
class ModelFacts:
    """What a call's ledger event says about its model beyond the sample: the provider kind, where its price came
    from, and the variant it is. A run's record keeps all of them, so a resume can rebuild the event."""

    provider: str
    price_source: str
    variant: str | None = None
    variant_version: str | None = None

    @classmethod
    def of(cls, target: Target) -> ModelFacts:
        variant = target.model.variant
        return cls(target.model.provider, target.price.source, variant.definition.name if variant else None,
                   variant.version if variant else None)
