"""An unmodified inspect_ai agent task, run by inspect's own CLI with the live gateway as its model endpoint.

The task (tests/gateway/inspect_agent_task.py) gives the model a `capital` tool and loops with `generate()`;
the scripted upstream's `tool-caller` calls the tool first and then answers with what the tool said. inspect_ai
names the session only through its own `--extra-headers` option (a header on every request of the run: its
OpenAI-compatible provider drops `metadata` from the body), so the whole eval run is one session, and
`gensandbox trace` shows every sample's two model calls and, before each second call, the tool step it carried.
A task that wants a session per sample can pass the header from its own solver:
`await generate(state, extra_headers={"x-gensandbox-session": f"run-7/{state.sample_id}"})`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from gensandbox.cli.app import main
from gensandbox.config import load_config
from gensandbox.ledger.digests import event_digest
from gensandbox.ledger.writer import open_digest_keys
from tests.gateway.conftest import ledger_events

TASK_FILE = Path(__file__).with_name("inspect_agent_task.py")
SESSION = "inspect-capitals-1"
TOOL_RESULTS = {"대한민국": "서울", "France": "Paris", "Japan": "Tokyo"}


def run_inspect(workdir: Path, base_url: str) -> dict:
    """inspect's CLI as a user runs it (the task file copied in: inspect refuses an absolute task path); the log."""
    if find_spec("inspect_ai") is None:  # a dev dependency: missing means an outdated environment, not a reason to skip
        pytest.fail("inspect_ai is not installed: it is in the dev extras; run pip install -e '.[dev]'")
    shutil.copy(TASK_FILE, workdir / TASK_FILE.name)
    logs = workdir / "logs"
    # inspect keeps its own traces and buffers in the user's data directories: kept inside the test's folder.
    private = {name: str(workdir / "xdg" / name) for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")}
    environment = os.environ | private | {"GENSANDBOX_BASE_URL": base_url, "GENSANDBOX_API_KEY": "any-key",
                                          "INSPECT_DISPLAY": "none"}
    command = [sys.executable, "-m", "inspect_ai", "eval", TASK_FILE.name,
               "--model", "openai-api/gensandbox/tool-caller",
               "--extra-headers", json.dumps({"x-gensandbox-session": SESSION}),
               "--log-dir", str(logs), "--log-format", "json", "--no-log-realtime", "--max-retries", "0"]
    done = subprocess.run(command, cwd=workdir, env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    (log_file,) = logs.glob("*.json")
    return json.loads(log_file.read_text())


def test_an_inspect_agent_task_runs_through_the_gateway_and_its_steps_are_traced(gateway, recorder, tmp_path,
                                                                               capsys):
    log = run_inspect(tmp_path, gateway.base_url)

    assert log["status"] == "success"
    (score,) = log["results"]["scores"]
    assert score["name"] == "includes" and score["metrics"]["accuracy"]["value"] == 2 / 3
    graded = {sample["id"]: sample["scores"]["includes"]["value"] for sample in log["samples"]}
    assert graded == {"kr": "C", "fr": "C", "jp": "I"}  # Japan's target is Kyoto; the tool said Tokyo

    assert_the_tool_ran_in_inspect(recorder.requests)
    assert_the_trace_shows_each_step(_trace(gateway, capsys))

    # The ledger holds each tool result's keyed digest: the very text the task's tool returned, checked with the
    # project's key (and not its plain sha256, which would let anyone holding the ledger test guesses).
    events = ledger_events(gateway.home)
    assert {event["gen_ai.conversation.id"] for event in events} == {SESSION}
    recorded = {step["sha256"] for event in events for step in event.get("gensandbox.tool_steps") or []}
    key = open_digest_keys(load_config(gateway.config_path)).for_project("default")
    assert recorded == {event_digest(events[0], key, text.encode()) for text in TOOL_RESULTS.values()}
    assert not recorded & {hashlib.sha256(text.encode()).hexdigest() for text in TOOL_RESULTS.values()}


def assert_the_tool_ran_in_inspect(requests: list[dict]) -> None:
    """Each sample: a first request offering the tool, then one that carries the tool's own result back."""
    assert len(requests) == 6
    first, second = _requests_by_question(requests)
    assert set(first) == set(second) == set(TOOL_RESULTS)
    for request in first.values():
        assert [tool["function"]["name"] for tool in request["tools"]] == ["capital"]
        assert request["messages"][-1]["role"] == "user"
    for question, request in second.items():
        call, result = request["messages"][-2:]
        (asked,) = call["tool_calls"]  # as the upstream made it; inspect writes the arguments back in its own JSON
        assert asked["function"]["name"] == "capital"
        assert json.loads(asked["function"]["arguments"]) == {"query": question}
        assert result["role"] == "tool" and result["tool_call_id"] == asked["id"]
        assert result["content"] == TOOL_RESULTS[question]  # the task's tool ran, in inspect, and said this


def assert_the_trace_shows_each_step(timeline: dict) -> None:
    """Six calls and three tool steps in the run's session (the samples run at once, so they interleave)."""
    assert timeline["summary"]["calls"] == 6 and timeline["summary"]["tool_steps"] == 3
    assert timeline["summary"]["models"] == ["tool-caller"]
    steps = timeline["steps"]
    tools = [step for step in steps if step["kind"] == "tool"]
    assert [(step["name"], step["call_id"]) for step in tools] == [("capital", "call_0")] * 3
    # A tool step comes in with the call that carried its result back: the next step, from the same ledger record.
    for index, step in enumerate(steps):
        if step["kind"] == "tool":
            assert steps[index + 1]["kind"] == "call" and steps[index + 1]["seq"] == step["seq"]
    assert len({step["seq"] for step in tools}) == 3  # one per sample, each on its own second call


def _requests_by_question(requests: list[dict]) -> tuple[dict[str, dict], dict[str, dict]]:
    """The upstream's requests split into first turns and tool-result turns, keyed by the sample's question."""
    first, second = {}, {}
    for request in requests:
        question = next(m["content"] for m in request["messages"] if m["role"] == "user")
        (second if request["messages"][-1]["role"] == "tool" else first)[_text(question)] = request
    return first, second


def _text(content) -> str:
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


def _trace(gateway, capsys) -> dict:
    gateway.records()  # the batch writer has run
    capsys.readouterr()
    assert main(["trace", SESSION, "--json", "-c", str(gateway.config_path)]) == 0
    return json.loads(capsys.readouterr().out)
