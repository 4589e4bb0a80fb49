"""`gensandbox trace` on a real run of agent tasks (tests/agent_run.py): `--run RUN_ID` lists the episodes' sessions,
and an episode's session shows its executed tool steps with their latency and status, invalid calls marked."""

from __future__ import annotations

import json

import pytest

from gensandbox.cli.app import main
from gensandbox.cli.output import console
from tests.agent_run import EPOCHS, MODELS, RUN_ID, make_agent_run
from tests.runner.test_agent_runs import ITEMS
from tests.upstream_agent import AgentUpstream


@pytest.fixture(scope="module")
def agent_run(tmp_path_factory):
    upstream = AgentUpstream().start()
    try:
        yield make_agent_run(tmp_path_factory.mktemp("agent-trace"), upstream)
    finally:
        upstream.stop()


@pytest.fixture
def trace(agent_run, monkeypatch, capsys):
    monkeypatch.setenv("GENSANDBOX_HOME", str(agent_run.home))
    monkeypatch.setattr(console, "width", 200)  # a table's rows on one line each

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["trace", *args, "-c", str(agent_run.config)])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_run_lists_every_episode_session(trace):
    code, out, _ = trace("--run", RUN_ID, "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == len(MODELS) * len(ITEMS) * EPOCHS
    shop = next(row for row in rows if row["model"] == "agent-right" and row["item_id"] == "shop" and row["epoch"] == 1)
    assert shop == {"session": f"{RUN_ID}/agent-right/agents/shop#1", "model": "agent-right", "suite": "agents",
                    "item_id": "shop", "epoch": 1, "score": 1.0, "end": "answered", "model_calls": 2, "tool_calls": 1,
                    "invalid_calls": 0, "attack_succeeded": None}
    code, out, _ = trace("--run", RUN_ID)
    assert code == 0 and f"Agent sessions of run {RUN_ID}" in out and "gensandbox trace SESSION" in out
    assert any(f"{RUN_ID}/agent-injectable/agents/inbox#0" in line and "agent-injectable" in line and "worked" in line
               for line in out.splitlines())


def test_an_episode_shows_its_tool_steps_with_latency_and_status(trace):
    code, out, _ = trace(f"{RUN_ID}/agent-right/agents/weather#0", "--json")
    assert code == 0
    steps = [step for step in json.loads(out)["steps"]]
    assert [step["kind"] for step in steps] == ["call", "tool", "call"]
    tool = steps[1]
    assert tool["name"] == "get_weather" and tool["status"] == "ok" and tool["latency_s"] >= 0
    assert tool["error"] is None and tool["depth"] == 1 and tool["state_sha256"] is None  # canned: no state
    shop = json.loads(trace(f"{RUN_ID}/agent-right/agents/shop#0", "--json")[1])["steps"][1]
    assert shop["name"] == "add_to_cart" and len(shop["state_sha256"]) == 64


def test_an_invalid_call_is_marked_in_the_table(trace):
    # agent-unknown's first call names a tool that does not exist: recorded, not run.
    sessions = json.loads(trace("--run", RUN_ID, "--json")[1])
    session = next(row["session"] for row in sessions if row["model"] == "agent-unknown" and row["item_id"] == "shop")
    code, out, _ = trace(session)
    assert code == 0
    line = next(line for line in out.splitlines() if "tool no_such_tool" in line)
    assert "invalid: unknown tool 'no_such_tool'" in line and " s " in line
    assert any("tool add_to_cart" in line and " ok " in line for line in out.splitlines())


def test_session_and_run_are_one_or_the_other(trace):
    code, _, err = trace()
    assert code == 1 and "error: give a SESSION to show, or --run RUN_ID" in err
    code, _, err = trace("x", "--run", RUN_ID)
    assert code == 1 and "not both" in err
    code, _, err = trace("--run", "NO-SUCH-RUN")
    assert code == 1 and "error: no run `NO-SUCH-RUN`" in err
