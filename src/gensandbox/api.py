"""The library API: what the CLI, the dashboard, tests and Python programs call. Each function opens what it
needs from the configuration (gensandbox.toml, or the embedded default with none) and closes it again."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from gensandbox.audits.record import RecordCheck, verify_export, verify_home
from gensandbox.config import Config, load_config
from gensandbox.runner import Aggregate, aggregate
from gensandbox.runner.results import by_model_and_suite
from gensandbox.runner.session import Evaluation, QuietObserver, RunObserver, evaluate_plan, start_evaluation
from gensandbox.store import open_store
from gensandbox.store.models import with_registered_models

__all__ = ["EvaluationResult", "evaluate", "serve", "verify_ledger"]


@dataclass(frozen=True)
class EvaluationResult:
    run_id: str
    status: str  # finished, capped, interrupted; "already-finished" for a resume with nothing left to run
    rows: list[Aggregate]  # per model and suite: score, 95% CI, latency, tokens, cost


def evaluate(models: list[str] | None = None, suites: list[str] | None = None, *,
             config: Config | Path | None = None, observer: RunObserver | None = None,
             **settings) -> EvaluationResult:
    """Evaluate `models` on `suites` (default: [run] in gensandbox.toml, or the embedded default), recorded in the
    store and on the ledger as `gensandbox run` records it. `settings`: the fields of runner.session.Evaluation
    (run_id, resume, max_cost_usd, epochs, temperature, seed, use_cache, judge, mutate, sweep, limit, sample)."""
    unknown = set(settings) - {f.name for f in fields(Evaluation)}
    if unknown:
        raise TypeError(f"evaluate() got unknown settings: {', '.join(sorted(unknown))}")
    config = config if isinstance(config, Config) else load_config(config)
    observer = observer or QuietObserver()
    store = open_store(config)
    try:
        config = with_registered_models(config, store)  # the models admins registered, beside gensandbox.toml's
        started = start_evaluation(config, store, Evaluation(models=models or [], suites=suites or [], **settings),
                                   observer)
        if started is None:
            run_id = settings["resume"]
            status = "already-finished"
        else:
            plan, scoring = started
            run_id, status = plan.run_id, evaluate_plan(plan, store, config, scoring, observer)
        rows = aggregate(store.score_rows(run_id), by_model_and_suite,
                         resamples=config.file.run.bootstrap_resamples)
    finally:
        store.close()
    return EvaluationResult(run_id, status, rows)


def serve(config: Path | None = None, host: str | None = None, port: int | None = None, workers: int = 1) -> None:
    """Serve the gateway (OpenAI- and Anthropic-shaped APIs with routing, keys, budgets and receipts) until
    stopped, as `gensandbox serve` does."""
    from gensandbox.gateway.server import serve as serve_gateway

    serve_gateway(config, host, port, workers)


def verify_ledger(export: Path | None = None, config: Config | Path | None = None,
                  public_keys: list[Path] = ()) -> RecordCheck:
    """Verify a ledger's hash chain and checkpoint signatures, as `gensandbox ledger verify` does: an export file
    (JSONL or Parquet), or this home's ledger, whose stored samples must also all have their call events.
    `public_keys`: the trusted keys (default: this home's and those of ledgers imported here)."""
    config = config if isinstance(config, Config) else load_config(config)
    if export is not None:
        return verify_export(config, export, public_keys)
    return verify_home(config, public_keys)
