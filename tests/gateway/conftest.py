"""A real gateway on loopback, in front of the scripted upstream."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson
import pytest

from gensandbox.access.keys import new_key
from gensandbox.config import load_config
from gensandbox.gateway import create_app
from gensandbox.ledger.requests import newest_requests
from gensandbox.ledger.sqlite import SQLiteLedger
from gensandbox.store import SQLiteStore
from gensandbox.store.gateway import GatewayStore
from tests.helpers import write_config
from tests.upstream import BackgroundServer

ROUTES = """
[[routes]]
name = "safe"
policy = "fallback"
models = ["broken", "echo"]

[[routes]]
name = "pinned"
policy = "fixed"
models = ["echo", "broken"]

[[routes]]
name = "ab"
policy = "weighted"
models = ["broken", "echo"]
weights = [0, 1]

[[routes]]
name = "split"
policy = "weighted"
models = ["pricey", "echo"]
weights = [1, 3]

[[routes]]
name = "thrifty"
policy = "cheapest"
models = ["echo", "pricey"]
suite = "echo-suite"
min_score = 0.5

[[routes]]
name = "quick"
policy = "fastest"
models = ["slow", "echo"]

[[routes]]
name = "mixed"
policy = "fallback"
models = ["anthropic-echo", "echo"]

[[routes]]
name = "doomed"
policy = "fallback"
models = ["broken", "gone"]

[serve]
cooldown_s = 60
failures_to_cool = 2
"""
MODELS = {"echo": "echo", "broken": "error-500", "slow": "echo-slow-50ms", "pricey": "echo", "gone": "hang",
          "breaks": "stream-breaks", "cut": "stream-cut", "anthropic-echo": "echo",
          "tool-caller": "tool-caller", "parallel-caller": "parallel-caller",
          "anthropic-tool-caller": "tool-caller", "anthropic-parallel-caller": "parallel-caller",
          "anthropic-cached": "claude-cached"}


@dataclass
class Gateway:
    url: str
    home: Path
    config_path: Path
    server: BackgroundServer

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def add_key(self, **limits) -> tuple[str, str]:
        store = SQLiteStore(self.home / "gensandbox.db")
        secret, record = new_key(limits.pop("role", "developer"), limits.get("budget_usd"), limits.get("rpm"), None)
        GatewayStore(store).add_key(record)
        time.sleep(1.1)  # the gateway picks up new keys within a second
        return secret, record.key_id

    def records(self) -> list[dict]:
        time.sleep(0.3)  # records are written in batches every 0.1 s
        return request_records(self.home)


def streamed_tool_calls(stream) -> tuple[dict[int, dict], str | None]:
    """The tool calls a streamed chat completion (from the openai SDK) put together by index, and its finish reason."""
    calls, finish = {}, None
    for chunk in stream:
        for piece in chunk.choices[0].delta.tool_calls or [] if chunk.choices else []:
            call = calls.setdefault(piece.index, {"id": None, "name": None, "arguments": ""})
            call["id"] = call["id"] or piece.id
            call["name"] = call["name"] or piece.function.name
            call["arguments"] += piece.function.arguments or ""
        finish = (chunk.choices[0].finish_reason if chunk.choices else None) or finish
    return calls, finish


def ledger_events(home: Path) -> list[dict]:
    """The ledger's call events, oldest first."""
    time.sleep(0.3)  # the gateway writes its ledger in batches
    backend = SQLiteLedger(home / "ledger.db")
    try:
        return [event for line in backend.lines() if (event := orjson.loads(line))["kind"] == "gen_ai.call"]
    finally:
        backend.close()


def request_records(home: Path) -> list[dict]:
    """The gateway's request records, oldest first, as the ledger's events give them (their one record)."""
    backend = SQLiteLedger(home / "ledger.db")
    try:
        return [asdict(record) for record in reversed(list(newest_requests(backend)))]
    finally:
        backend.close()


@pytest.fixture
def gateway(home, tmp_path, upstream, recorder):
    config_path = write_config(tmp_path, upstream.url, MODELS, extra=ROUTES, model_options="timeout_s = 2")
    text = config_path.read_text().replace('name = "pricey"\nprovider = "openai"\nmodel = "echo"\n'
                                           f'base_url = "{upstream.url}/v1"\nprice_per_million_input_tokens = 1.0',
                                           'name = "pricey"\nprovider = "openai"\nmodel = "echo"\n'
                                           f'base_url = "{upstream.url}/v1"\nprice_per_million_input_tokens = 50.0')
    config_path.write_text(text)
    config = load_config(config_path)
    server = BackgroundServer(create_app(config, SQLiteStore(config.database_path)), lifespan="on").start()
    yield Gateway(server.url, home, config_path, server)
    server.stop()
