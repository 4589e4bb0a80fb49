"""Turning names into a runnable plan, and a plan into the manifest that can rebuild it.

The manifest stored with every run holds what is needed to repeat it exactly: each suite file's
sha256, the resolved model definitions (never a secret: keys are named by environment variable),
each model's identity (GGUF sha256, or endpoint and model id), the options and seeds, and package
versions. `rerun` and `--resume` rebuild the plan from it, not from today's gensandbox.toml.
"""

from __future__ import annotations

import platform
import secrets
from datetime import UTC, datetime
from importlib import metadata

from gensandbox.calls.call import RetryPolicy
from gensandbox.calls.models import resolve_model
from gensandbox.calls.targets import Target, target_for
from gensandbox.canonical import now_utc
from gensandbox.config import Config, ModelConfig, RunConfig
from gensandbox.errors import UserError
from gensandbox.providers import PriceTable, load_price_table
from gensandbox.runner.execute import RunOptions, RunPlan
from gensandbox.runner.selection import Selection
from gensandbox.runner.suite import Suite, reopen_suite, resolve_suite
from gensandbox.store import RunRecord


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def options_from(settings: RunConfig, **overrides) -> RunOptions:
    values = {"max_tokens": settings.max_tokens, "temperature": settings.temperature, "epochs": settings.epochs,
              "seed": settings.seed, "use_cache": settings.cache, "max_cost_usd": settings.max_cost_usd}
    values |= {k: v for k, v in overrides.items() if v is not None}
    return RunOptions(**values, retry=RetryPolicy(retries=settings.retries))


def build_plan(config: Config, model_specs: list[str], suite_specs: list[str], options: RunOptions,
               run_id: str | None = None, mutators: list[str] = (),
               selection: Selection | None = None) -> tuple[RunPlan, PriceTable]:
    """Resolve everything before any call is made, so a typo fails in a second, not mid-run. `selection`
    takes only some items of each suite (--limit, --sample)."""
    if not model_specs:
        raise UserError("no models to run; name some with --models or in [run] of gensandbox.toml")
    if not suite_specs:
        raise UserError("no suites to run; name some with --suites or in [run] of gensandbox.toml")
    models = _unique([resolve_model(spec, config) for spec in model_specs])
    suites = [resolve_suite(spec, config).with_mutators(list(mutators)).with_selection(selection)
              for spec in suite_specs]
    return _plan(config, models, suites, options, run_id or new_run_id())


def rebuild_plan(config: Config, run: RunRecord, run_id: str, *, use_cache: bool | None = None,
                 max_cost_usd: float | None = None) -> tuple[RunPlan, PriceTable, dict[str, Target]]:
    """The plan a stored run was made from: its model definitions, its (unchanged) suite files, its
    options and judges. `run_id` is the same run (resume) or a new one (rerun)."""
    manifest = run.settings.get("manifest")
    if not manifest:
        raise UserError(f"run `{run.run_id}` has no manifest (made by an older GenSandbox); start a new run")
    models = [ModelConfig.model_validate(m) for m in manifest["model_definitions"]]
    selection = Selection.from_record(manifest.get("selection"))  # the same items as then
    suites = [reopen_suite(record).with_selection(selection) for record in run.suites]
    saved = dict(manifest["options"])
    saved["use_cache"] = saved["use_cache"] if use_cache is None else use_cache
    saved["max_cost_usd"] = saved["max_cost_usd"] if max_cost_usd is None else max_cost_usd
    options = RunOptions(**{k: v for k, v in saved.items() if k != "retries"},
                         retry=RetryPolicy(retries=saved["retries"]))
    plan, prices = _plan(config, models, suites, options, run_id)
    judges = [ModelConfig.model_validate(m) for m in manifest.get("judge_definitions", [])]
    return plan, prices, {m.name: target_for(m, config, prices) for m in judges}


def judge_targets(config: Config, prices: PriceTable, default_judge: str | None,
                  suites: list[Suite]) -> dict[str, Target]:
    """Every judge the run needs (--judge, or named by items), resolved before any call is made."""
    names = {default_judge} if default_judge else set()
    names |= {name for suite in suites for name in suite.judges}
    needs_judge = any("judge" in suite.scorers for suite in suites)
    if needs_judge and not names:
        raise UserError("some items are scored by a judge model: pass --judge MODEL (any configured model)")
    return {name: target_for(resolve_model(name, config), config, prices) for name in sorted(names)}


def selection_of(plan: RunPlan) -> Selection | None:
    """The items a plan takes of each suite (every suite of a plan shares one selection); None for all."""
    return next((suite.selection for suite in plan.suites), None)


def spent_so_far(store, run_id: str) -> float:
    """Money a run has already spent: calls actually made, not answers from the cache, and every judge call (a
    cached answer is graded again, at the judge's price)."""
    return sum((0.0 if row.cached else row.cost_usd) + row.judge_cost_usd for row in store.score_rows(run_id))


def _plan(config: Config, models: list[ModelConfig], suites: list[Suite], options: RunOptions,
          run_id: str) -> tuple[RunPlan, PriceTable]:
    prices = load_price_table(config.price_file)
    targets = [target_for(model, config, prices) for model in models]
    # Models that play a simulated user are resolved like the models under test (a rerun: from today's config).
    users = {name: target_for(resolve_model(name, config), config, prices)
             for name in sorted({name for suite in suites for name in suite.user_models})}
    return RunPlan(run_id=run_id, targets=targets, suites=suites, options=options, users=users), prices


def run_record(plan: RunPlan, prices: PriceTable, judges: list[Target] = (),
               default_judge: str | None = None) -> RunRecord:
    options = plan.options
    selection = selection_of(plan)
    return RunRecord(
        run_id=plan.run_id,
        created_at=now_utc(),
        status="running",
        models=[_model_record(t) for t in plan.targets],
        suites=[s.record() for s in plan.suites],
        settings={
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
            "epochs": options.epochs,
            "seed": options.seed,
            "max_cost_usd": options.max_cost_usd,
            "price_table_version": prices.version,
            "selection": selection.record() if selection else None,
            "versions": versions(),
            "manifest": {
                "options": {"max_tokens": options.max_tokens, "temperature": options.temperature,
                            "epochs": options.epochs, "seed": options.seed, "use_cache": options.use_cache,
                            "max_cost_usd": options.max_cost_usd, "retries": options.retry.retries},
                "model_definitions": [t.model.model_dump(exclude_none=True) for t in plan.targets],
                "model_identities": {t.model.name: t.identity for t in plan.targets},
                "judges": {t.model.name: t.identity for t in judges},
                "default_judge": default_judge,
                "judge_definitions": [t.model.model_dump(exclude_none=True) for t in judges],
                "selection": selection.record() if selection else None,  # --limit / --sample: the items taken
            },
        },
    )


def _model_record(target: Target) -> dict:
    model, price = target.model, target.price
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
        "identity": target.identity,
        "price": {
            "per_million_input_tokens_usd": price.per_million_input_tokens_usd,
            "per_million_output_tokens_usd": price.per_million_output_tokens_usd,
            "per_compute_hour_usd": price.per_compute_hour_usd,
            "source": price.source,
        },
    }


def versions() -> dict:
    found = {"python": platform.python_version(), "platform": platform.platform()}
    for package in ("gensandbox", "llama-cpp-python", "aiohttp", "pydantic", "numpy"):
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
