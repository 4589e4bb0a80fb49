"""A home with something in every part of the dashboard: a real two-model run whose answers differ on known
items, an agent session that went through a live gateway (so there is traffic, spend and a trace), and a run of
agent tasks (tests/agent_run.py's suite, two of its items) whose episodes are traces of their own."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gensandbox.cli.app import main
from gensandbox.config import Config, load_config
from tests.agent_run import write_agent_suite
from tests.helpers import write_config, write_suite
from tests.runner.test_agent_runs import ITEMS as AGENT_ITEMS
from tests.upstream import BackgroundServer
from tests.upstream_agent import answer, completion

FLIP = "FLIP"  # the contrarian model answers prompts with this marker differently from the echo model
# Also a check that answers are escaped: in a page this must show as text and never run.
CONTRARY_ANSWER = "<script>window.__pwned = true</script><b>No.</b>"
RUN_ID = "duel"
SESSION = "agent-7"
ITEMS = [
    {"id": "q1", "language": "en", "category": "knowledge", "target": "Paris", "scorer": "includes",
     "messages": [{"role": "user", "content": "The capital of France is Paris."}]},
    {"id": "q2", "language": "en", "category": "arithmetic", "target": "4", "scorer": "includes",
     "messages": [{"role": "user", "content": f"{FLIP}: two plus two is 4."}]},
    {"id": "q3", "language": "en", "category": "knowledge", "target": "100", "scorer": "includes",
     "messages": [{"role": "user", "content": "Water boils at 100 degrees Celsius."}]},
    {"id": "k1", "language": "ko", "category": "knowledge", "target": "서울", "scorer": "includes",
     "messages": [{"role": "user", "content": "대한민국의 수도는 서울입니다."}]},
    {"id": "k2", "language": "ko", "category": "history", "target": "세종", "scorer": "includes",
     "messages": [{"role": "user", "content": f"{FLIP} 한글은 세종대왕이 만들었습니다."}]},
    {"id": "k3", "language": "ko", "category": "culture", "target": "김치", "scorer": "includes",
     "messages": [{"role": "user", "content": "김치는 발효 음식입니다."}]},
]
DIFFERING = {"q2", "k2"}
AGENT_RUN_ID = "agents"
AGENT_MODELS = ("agent-right", "agent-injectable")  # both solve the shop; only the second follows the inbox's plant
AGENT_TASKS = [item for item in AGENT_ITEMS if item["id"] in ("shop", "inbox")]
AGENT_SESSION = f"{AGENT_RUN_ID}/agent-right/agents/shop#0"


def answering_app() -> Starlette:
    """An OpenAI-compatible upstream: `echo` repeats the last user message; `contrarian` does too, except on
    prompts marked FLIP; `agent-…` models follow tests/upstream_agent.py's script."""
    calls = []

    async def chat(request: Request) -> JSONResponse:
        body = await request.json()
        if body["model"].startswith("agent-"):
            calls.append(1)
            return JSONResponse(completion(body["model"], *answer(body["model"], body["messages"]), len(calls)))
        users = [m["content"] for m in body["messages"] if m.get("role") == "user"]
        text = users[-1] if users else ""
        if body["model"] == "contrarian" and FLIP in text:
            text = CONTRARY_ANSWER
        words = len(text.split())
        return JSONResponse({
            "id": "chatcmpl-ui", "object": "chat.completion", "created": int(time.time()), "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": words + 3, "completion_tokens": words, "total_tokens": 2 * words + 3},
        })

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])


class GracefulServer(BackgroundServer):
    """Stops the way Ctrl+C does, so the app's shutdown runs (the gateway flushes and signs its ledger then)."""

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@dataclass(frozen=True)
class Scenario:
    home: Path
    config_path: Path
    config: Config


def build(home: Path, upstream_url: str) -> Scenario:
    """Needs GENSANDBOX_HOME=home while it runs; the returned config remembers the home afterwards."""
    models = {"echo": "echo", "contrarian": "contrarian"} | {name: name for name in AGENT_MODELS}
    config_path = write_config(home, upstream_url, models)
    suite = write_suite(home, "duel-suite", ITEMS)
    code = main(["run", "-c", str(config_path), "-m", "echo,contrarian", "-s", str(suite), "--run-id", RUN_ID])
    assert code == 0, "the scenario's run failed"
    agent_suite = write_agent_suite(home, AGENT_TASKS)
    code = main(["run", "-c", str(config_path), "-m", ",".join(AGENT_MODELS), "-s", str(agent_suite),
                 "--run-id", AGENT_RUN_ID])
    assert code == 0, "the scenario's agent run failed"
    config = load_config(config_path)
    _agent_session(config)
    return Scenario(home, config_path, config)


def _agent_session(config: Config) -> None:
    """Three calls of one session through a real gateway: a plan, a tool result sent back, a final answer."""
    from gensandbox.gateway import create_app
    from gensandbox.store import SQLiteStore

    server = GracefulServer(create_app(config, SQLiteStore(config.database_path)), lifespan="on").start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            first = _call(client, "echo", [{"role": "user", "content": "plan the trip"}], {})
            parent = {"x-gensandbox-parent-span": first.headers["x-gensandbox-span"]}
            tool_call = {"id": "call_1", "type": "function",
                         "function": {"name": "search_flights", "arguments": json.dumps({"to": "Jeju"})}}
            _call(client, "contrarian", [{"role": "user", "content": "plan the trip"},
                                         {"role": "assistant", "content": None, "tool_calls": [tool_call]},
                                         {"role": "tool", "tool_call_id": "call_1", "content": "KE123 09:00"}], parent)
            _call(client, "echo", [{"role": "user", "content": "book KE123"}], parent)
    finally:
        server.stop()


def _call(client: httpx.Client, model: str, messages: list[dict], headers: dict) -> httpx.Response:
    response = client.post("/v1/chat/completions", json={"model": model, "messages": messages},
                           headers={"x-gensandbox-session": SESSION, **headers})
    response.raise_for_status()
    return response


def build_in(home: Path, upstream_url: str) -> Scenario:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GENSANDBOX_HOME", str(home))
        patch.delenv("GENSANDBOX_LEDGER_URL", raising=False)
        return build(home, upstream_url)
