"""inspect_ai task for benchmarks/agent_overhead.py: the same tool-using tasks GenSandbox's agent loop gets.

inspect_ai's own tool loop (`use_tools` then `generate`, which calls the model again after each tool result until it
answers in text), with two tools that return the same canned text as GenSandbox's declarative environment. The
runner copies this file, `tool_results.json` ({tool name: result text}) and `dataset.jsonl` ({"id", "input",
"target"} per line) into one working directory, because inspect_ai refuses an absolute task path.
"""

import json
from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import json_dataset
from inspect_ai.scorer import includes
from inspect_ai.solver import generate, use_tools
from inspect_ai.tool import tool

CANNED = json.loads((Path(__file__).parent / "tool_results.json").read_text())


@tool
def get_weather():
    async def execute(city: str) -> str:
        """The current weather in a city.

        Args:
            city: The city's name.
        """
        return CANNED["get_weather"]

    return execute


@tool
def get_forecast():
    async def execute(city: str, days: int) -> str:
        """The weather forecast for a city, some days ahead.

        Args:
            city: The city's name.
            days: How many days.
        """
        return CANNED["get_forecast"]

    return execute


@task
def agent_bench() -> Task:
    return Task(dataset=json_dataset("dataset.jsonl"), solver=[use_tools(get_weather(), get_forecast()), generate()],
                scorer=includes())
