"""inspect_ai task for benchmarks/runner_overhead.py: the same fixed-answer items GenSandbox gets.

The runner copies this file and `dataset.jsonl` ({"id", "input", "target"} per line) into one working
directory, because inspect_ai refuses an absolute task path.
"""

from inspect_ai import Task, task
from inspect_ai.dataset import json_dataset
from inspect_ai.scorer import includes
from inspect_ai.solver import generate


@task
def bench() -> Task:
    return Task(dataset=json_dataset("dataset.jsonl"), solver=generate(), scorer=includes())
