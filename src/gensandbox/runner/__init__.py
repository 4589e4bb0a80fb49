"""Batch evaluation: suites × models → scored samples in the store."""

from gensandbox.calls.targets import Target
from gensandbox.runner.compare import PairedComparison, compare_models
from gensandbox.runner.execute import RunOptions, RunOutcome, RunPlan, execute
from gensandbox.runner.plan import build_plan, new_run_id, rebuild_plan, run_record
from gensandbox.runner.results import Aggregate, aggregate, results_json
from gensandbox.runner.scoring import ScoringContext
from gensandbox.runner.suite import Item, Suite, builtin_suite_names, resolve_suite

__all__ = [
    "Aggregate",
    "Item",
    "PairedComparison",
    "RunOptions",
    "RunOutcome",
    "RunPlan",
    "ScoringContext",
    "Suite",
    "Target",
    "aggregate",
    "build_plan",
    "builtin_suite_names",
    "compare_models",
    "execute",
    "new_run_id",
    "rebuild_plan",
    "results_json",
    "resolve_suite",
    "run_record",
]
