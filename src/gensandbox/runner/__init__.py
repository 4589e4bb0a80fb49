"""Batch evaluation: suites × models → scored samples in the store."""

from gensandbox.runner.execute import RunPlan, Target, execute
from gensandbox.runner.plan import build_plan, new_run_id, run_record
from gensandbox.runner.results import Aggregate, aggregate, results_json
from gensandbox.runner.suite import Item, Suite, builtin_suite_names, resolve_suite

__all__ = [
    "Aggregate",
    "Item",
    "RunPlan",
    "Suite",
    "Target",
    "aggregate",
    "build_plan",
    "builtin_suite_names",
    "execute",
    "new_run_id",
    "results_json",
    "resolve_suite",
    "run_record",
]
