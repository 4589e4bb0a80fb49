"""A plain inspect_ai agent task, with nothing in it that knows of GenSandbox: tests/gateway/test_inspect_agent.py
copies it into a working directory (inspect_ai refuses an absolute task path) and runs it with inspect's own CLI,
against `gensandbox serve` as its OpenAI-compatible model endpoint.

The model is to look a capital up with the `capital` tool; `includes()` scores the answer against the target.
The third sample's target is not the tool's answer, so a working run scores 2 of 3, not 3 of 3.
"""

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import includes
from inspect_ai.solver import generate, use_tools
from inspect_ai.tool import tool

CAPITALS = {"대한민국": "서울", "France": "Paris", "Japan": "Tokyo"}


@tool
def capital():
    async def execute(query: str) -> str:
        """The capital city of a country.

        Args:
            query: The country's name, as written in the question.
        """
        return CAPITALS.get(query.strip(), f"no capital known for {query!r}")

    return execute


@task
def capitals() -> Task:
    samples = [Sample(id="kr", input="대한민국", target="서울"),
               Sample(id="fr", input="France", target="Paris"),
               Sample(id="jp", input="Japan", target="Kyoto")]  # the tool says Tokyo: scored incorrect
    return Task(dataset=MemoryDataset(samples), solver=[use_tools(capital()), generate()], scorer=includes())
