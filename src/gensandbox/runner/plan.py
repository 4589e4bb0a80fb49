"""Turning names (models, suites) into a runnable plan and the record that describes it."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from importlib import metadata

from gensandbox.config import Config, ModelConfig
from gensandbox.errors import UserError
from gensandbox.providers import (
    PriceTable,
    build_provider,
    default_concurrency,
    load_price_table,
    resolve_model,
)
from gensandbox.runner.execute import RunPlan, Target
from gensandbox.runner.suite import Suite, resolve_suite
from gensandbox.store import RunRecord
from gensandbox.store.sqlite import now_utc


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def build_plan(
    config: Config, model_specs: list[str], suite_specs: list[str], run_id: str | None = None
) -> tuple[RunPlan, PriceTable]:
    """Resolve everything before any call is made, so a typo fails in a second, not mid-run."""
    if not model_specs:
        raise_empty("models")
    if not suite_specs:
        raise_empty("suites")
    models = _unique([resolve_model(spec, config) for spec in model_specs])
    suites = [resolve_suite(spec, config) for spec in suite_specs]
    prices = load_price_table(config.price_file)
    targets = [
        Target(model, build_provider(model, config), prices.price_for(model), default_concurrency(model))
        for model in models
    ]
    plan = RunPlan(run_id=run_id or new_run_id(), targets=targets, suites=suites,
                   max_tokens=config.file.run.max_tokens)
    return plan, prices


def run_record(plan: RunPlan, prices: PriceTable) -> RunRecord:
    return RunRecord(
        run_id=plan.run_id,
        created_at=now_utc(),
        status="running",
        models=[_model_record(t.model, t.price) for t in plan.targets],
        suites=[_suite_record(s) for s in plan.suites],
        settings={
            "max_tokens": plan.max_tokens,
            "temperature": 0.0,
            "seed": 0,
            "price_table_version": prices.version,
            "versions": _versions(),
        },
    )


def _model_record(model: ModelConfig, price) -> dict:
    return {
        "name": model.name,
        "provider": model.provider,
        "provider_model_id": model.provider_model_id,
        "base_url": model.base_url,
        "vendor": model.vendor,
        "origin": model.origin,
        "weights": model.weights,
        "license": model.license,
        "prompt_style": model.prompt_style,
        "price": {
            "per_million_input_tokens_usd": price.per_million_input_tokens_usd,
            "per_million_output_tokens_usd": price.per_million_output_tokens_usd,
            "per_compute_hour_usd": price.per_compute_hour_usd,
            "source": price.source,
        },
    }


def _suite_record(suite: Suite) -> dict:
    return {"name": suite.name, "items": len(suite.items), "license": suite.license, "path": str(suite.path)}


def _versions() -> dict:
    found = {}
    for package in ("gensandbox", "llama-cpp-python"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


def _unique(models: list[ModelConfig]) -> list[ModelConfig]:
    seen: dict[str, ModelConfig] = {}
    for model in models:
        seen.setdefault(model.name, model)
    return list(seen.values())


def raise_empty(what: str):
    raise UserError(f"no {what} to run; name some with --{what} or in [run] of gensandbox.toml")
