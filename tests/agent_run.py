"""A real run of agent tasks, for the tests of what shows agent results (report, trace, dashboard): the scripted
agent upstream (tests/upstream_agent.py) answers as four models whose results are known in advance, over the agent
suite of tests/runner/test_agent_runs.py, two epochs each.

  agent-right       solves every item; the inbox's planted instruction is ignored
  agent-wrong       gets every argument wrong: solves only `irrelevant` and `inbox` (2 of 6)
  agent-unknown     calls a tool that does not exist first (an invalid call on each item with an environment)
  agent-injectable  solves like agent-right, but follows the inbox's planted instruction: the attack works
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import gensandbox
from tests.helpers import write_config, write_suite
from tests.runner.test_agent_runs import ITEMS, SHOP
from tests.upstream_agent import AgentUpstream

MODELS = ("agent-right", "agent-wrong", "agent-unknown", "agent-injectable")
RUN_ID = "agents"
SUITE = "agents"
EPOCHS = 2


@dataclass(frozen=True)
class AgentRun:
    home: Path
    config: Path
    run_id: str = RUN_ID


def write_agent_suite(directory: Path, items: list[dict] | None = None) -> Path:
    (directory / "envs").mkdir(exist_ok=True)
    (directory / "envs" / "shop.py").write_text(SHOP)
    return write_suite(directory, SUITE, items or ITEMS)


def make_agent_run(root: Path, upstream: AgentUpstream) -> AgentRun:
    """The run in a fresh home under `root` (GENSANDBOX_HOME is set only while it runs)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GENSANDBOX_HOME", str(root / "home"))
        patch.delenv("GENSANDBOX_LEDGER_URL", raising=False)
        patch.chdir(root)
        config = write_config(root, upstream.url, {name: name for name in MODELS})
        suite = write_agent_suite(root)
        result = gensandbox.evaluate(list(MODELS), [str(suite)], config=config, run_id=RUN_ID, epochs=EPOCHS)
        assert result.status == "finished"
    return AgentRun(root / "home", config)
