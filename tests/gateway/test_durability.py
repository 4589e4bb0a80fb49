"""Recorded before answered, every request on the record, every stream honest: a real gateway on loopback, its
store and ledger read directly (no waiting for a background flush) the moment an answer arrives."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import openai
import orjson
import pytest

from gensandbox.config import load_config
from gensandbox.gateway import create_app
from gensandbox.gateway import keys as keys_module
from gensandbox.gateway import recorder as recorder_module
from gensandbox.ledger.events import REFUSAL, content_hash, strip_chain
from gensandbox.ledger.requests import traffic_summary
from gensandbox.ledger.signing import Signer, unb64
from gensandbox.ledger.sqlite import SQLiteLedger
from gensandbox.ledger.writer import Ledger
from gensandbox.store import SQLiteStore
from gensandbox.store.gateway import GatewayStore
from tests.gateway.conftest import request_records
from tests.gateway.test_gateway import ask, client
from tests.upstream import BackgroundServer


def ledger_records(home) -> list[dict]:
    backend = SQLiteLedger(home / "ledger.db")
    try:
        return [orjson.loads(line) for line in backend.lines()]
    finally:
        backend.close()


def request_rows(home) -> list[dict]:
    return request_records(home)


def receipt_event(receipt: str) -> str:
    return orjson.loads(unb64(receipt.split(".")[1]))["event"]


def test_an_answer_leaves_only_once_its_event_and_record_are_durable(gateway):
    raw = client(gateway).chat.completions.with_raw_response.create(model="echo", messages=ask())
    event = receipt_event(raw.headers["x-gensandbox-receipt"])
    # Read at once, from other connections: no sleep, no flush — it is already on disk.
    assert event in {content_hash(strip_chain(r)) for r in ledger_records(gateway.home)}
    assert [(r["model"], r["status"]) for r in request_rows(gateway.home)] == [("echo", 200)]


def test_refused_requests_are_on_the_record_without_their_prompt(gateway):
    secret, key_id = gateway.add_key(budget_usd=0.000001)
    post = f"{gateway.base_url}/chat/completions"
    secret_prompt = ask("a prompt that must not reach the ledger of a refused request")
    outcomes = [
        httpx.post(post, content=b"{not json", headers={"authorization": f"Bearer {secret}"}),
        httpx.post(post, json={"model": "echo", "messages": secret_prompt}),  # no key, keys exist: 401
        httpx.post(post, json={"model": "no-such-model", "messages": secret_prompt},
                   headers={"authorization": f"Bearer {secret}"}),
        httpx.post(post, json={"model": "echo", "messages": secret_prompt, "max_tokens": 500},
                   headers={"authorization": f"Bearer {secret}"}),  # over the tiny budget: 429
    ]
    assert [o.status_code for o in outcomes] == [400, 401, 404, 429]
    rows = request_rows(gateway.home)
    assert [(r["status"], r["key_id"], r["model"]) for r in rows] == [
        (400, key_id, None), (401, "anonymous", None), (404, key_id, None), (429, key_id, None)]
    assert rows[3]["requested_model"] == "echo" and "budget exhausted" in rows[3]["error"]
    refusals = [r for r in ledger_records(gateway.home) if r["kind"] == REFUSAL]
    assert [(r["http.response.status_code"], r.get("gensandbox.key_id")) for r in refusals] == [
        (400, key_id), (401, None), (404, key_id), (429, key_id)]
    assert [r["error.type"] for r in refusals] == ["invalid_json", "missing_api_key", "model_not_found",
                                                   "insufficient_quota"]
    assert "must not reach" not in json.dumps(refusals)
    listed = [row["requests"] for row in gateway_traffic(gateway)]
    assert sum(listed) == 4  # `gensandbox traffic` counts them too


def gateway_traffic(gateway) -> list[dict]:
    backend = SQLiteLedger(gateway.home / "ledger.db")
    try:
        return traffic_summary(backend)
    finally:
        backend.close()


def sse(response: httpx.Response) -> list[str]:
    return [line[6:] for line in response.iter_lines() if line.startswith("data: ")]


def test_a_stream_cut_short_ends_with_an_error_and_no_receipt(gateway):
    with httpx.stream("POST", f"{gateway.base_url}/chat/completions", timeout=10,
                      json={"model": "cut", "messages": ask("one two three"), "stream": True}) as response:
        events = sse(response)
    assert events[-1] == "[DONE]"
    assert "without a finish reason" in json.loads(events[-2])["error"]["message"]
    chunks = [json.loads(e) for e in events[:-2]]
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks)  # never passed off as "stop"
    assert not any("gensandbox_receipt" in c for c in chunks)
    assert [(r["model"], r["status"]) for r in request_rows(gateway.home)] == [("cut", 502)]


def test_the_streamed_receipt_rides_on_the_last_chunk(gateway):
    for options in ({}, {"stream_options": {"include_usage": True}}):
        with httpx.stream("POST", f"{gateway.base_url}/chat/completions", timeout=10,
                          json={"model": "echo", "messages": ask("stream me"), "stream": True, **options}) as response:
            events = sse(response)
        assert events[-1] == "[DONE]"
        last = json.loads(events[-2])
        assert "gensandbox_receipt" in last and all("gensandbox_receipt" not in json.loads(e) for e in events[:-2])
        assert ("usage" in last) == bool(options)
        assert receipt_event(last["gensandbox_receipt"]) in {content_hash(strip_chain(r))
                                                             for r in ledger_records(gateway.home)}


def test_an_idle_key_is_never_refused_by_its_own_lease(gateway, monkeypatch):
    # The lease lifetime shortened from 30 s to 3 s, so that "idle for longer than half of it" takes seconds.
    monkeypatch.setattr(keys_module, "LEASE_TTL_S", 3.0)
    monkeypatch.setattr(recorder_module, "RENEW_EVERY_S", 0.5)
    secret, _ = gateway.add_key(budget_usd=0.01)
    sdk = client(gateway, secret)
    for _ in range(3):
        sdk.chat.completions.create(model="echo", messages=ask(), max_tokens=1000)
        # Idle between half the lease's lifetime (when an unrenewed lease is forgotten in memory) and all of it
        # (when the store drops it): without renewal the process would be refused by its own lease here.
        time.sleep(2.0)


class FailingBackend:
    """A real ledger backend that can be told to fail (a full disk), to see what the gateway does then."""

    def __init__(self, backend):
        self.backend, self.failing = backend, False

    def append(self, contents, checkpoint=None):
        if self.failing:
            raise OSError("No space left on device")
        return self.backend.append(contents, checkpoint)

    def __getattr__(self, name):
        return getattr(self.backend, name)


@pytest.fixture
def failing_gateway(gateway):
    config = load_config(gateway.config_path)
    backend = FailingBackend(SQLiteLedger(gateway.home / "ledger-2.db"))
    ledger = Ledger(backend, Signer.load_or_create(config.signing_key_path), config.file.ledger, None)
    server = BackgroundServer(create_app(config, SQLiteStore(config.database_path), ledger=ledger),
                              lifespan="on").start()
    yield server, backend
    backend.failing = False
    server.stop()


def test_a_request_that_cannot_be_recorded_is_not_answered(failing_gateway):
    server, backend = failing_gateway
    sdk = openai.OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0)
    assert sdk.chat.completions.create(model="echo", messages=ask("before")).choices[0].message.content == "before"
    backend.failing = True
    with pytest.raises(openai.InternalServerError) as refused:
        sdk.chat.completions.create(model="echo", messages=ask("during"))
    assert refused.value.status_code == 503 and refused.value.body["code"] == "not_recorded"
    backend.failing = False
    assert sdk.chat.completions.create(model="echo", messages=ask("after")).choices[0].message.content == "after"
    answered = [orjson.loads(line) for line in backend.lines()]
    assert len([r for r in answered if r["kind"] == "gen_ai.call"]) == 3  # the withheld call's event came later


def test_slow_ledger_commits_go_to_a_worker_thread_and_answers_still_wait_for_them(gateway, monkeypatch):
    # Every commit counts as slow here: the first is waited for in place, on the event loop; the next ones on a
    # worker thread (a slow disk, a remote database). Either way the answer leaves only once its event is on disk.
    monkeypatch.setattr(recorder_module, "SLOW_COMMIT_S", -1.0)
    where = []
    real_commit = Ledger.commit

    def commit(self, events):
        where.append("worker thread" if asyncio_running_loop() is None else "event loop")
        return real_commit(self, events)

    monkeypatch.setattr(Ledger, "commit", commit)
    for text in ("one", "two", "three"):
        raw = client(gateway).chat.completions.with_raw_response.create(model="echo", messages=ask(text))
        assert receipt_event(raw.headers["x-gensandbox-receipt"]) in {content_hash(strip_chain(r))
                                                                      for r in ledger_records(gateway.home)}
    assert where[0] == "event loop" and "worker thread" in where[1:]


def asyncio_running_loop():
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def spent(gateway, key_id: str) -> float:
    store = SQLiteStore(gateway.home / "gensandbox.db")
    try:
        return {k.key_id: k.spent_usd for k in GatewayStore(store).keys()}[key_id]
    finally:
        store.close()


def test_a_crash_between_the_store_and_the_ledger_leaves_traffic_agreeing_with_the_ledger(gateway, failing_gateway):
    server, backend = failing_gateway
    secret, key_id = gateway.add_key(budget_usd=1.0)
    sdk = openai.OpenAI(base_url=f"{server.url}/v1", api_key=secret, max_retries=0)
    first = sdk.chat.completions.with_raw_response.create(model="echo", messages=ask("before"))
    backend.failing = True  # the store's commit succeeds, the ledger's fails: what a crash between them leaves
    with pytest.raises(openai.InternalServerError) as refused:
        sdk.chat.completions.create(model="echo", messages=ask("during"))
    assert refused.value.status_code == 503
    # Here the process could die. The spending is in the store (never the reverse); traffic and the ledger agree.
    (row,) = traffic_summary(backend.backend)
    assert (row["requests"], row["errors"]) == (1, 0)
    assert [r["gen_ai.usage.input_tokens"] for r in map(orjson.loads, backend.lines()) if r["kind"] == "gen_ai.call"
            ] == [row["input_tokens"]]
    charged = float(first.headers["x-gensandbox-cost-usd"])
    assert spent(gateway, key_id) > charged
    backend.failing = False
    sdk.chat.completions.create(model="echo", messages=ask("after"))  # the withheld event is written before it
    calls = [r for r in map(orjson.loads, backend.lines()) if r["kind"] == "gen_ai.call"]
    assert [r.get("http.response.status_code", 200) for r in calls] == [200, 503, 200]
    assert "answered 503: not recorded (No space left on device)" in calls[1]["gensandbox.reason"]
    (row,) = traffic_summary(backend.backend)
    assert (row["key_id"], row["model"], row["requests"], row["errors"]) == (key_id, "echo", 3, 1)
    assert row["input_tokens"] == sum(r["gen_ai.usage.input_tokens"] for r in calls)
    assert row["cost_usd"] == pytest.approx(sum(r["gensandbox.cost_usd"] for r in calls), abs=1e-12)
    assert row["cost_usd"] == pytest.approx(spent(gateway, key_id), abs=1e-12)  # the budget and the record agree


def test_a_store_that_cannot_be_written_withholds_the_answer_and_its_event_until_it_can(gateway, monkeypatch):
    secret, key_id = gateway.add_key(budget_usd=1.0)
    real = GatewayStore.record_spending
    failures = [OSError("database is locked")]

    def record_spending(self, *args, **kwargs):
        if failures:
            raise failures.pop()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(GatewayStore, "record_spending", record_spending)
    sdk = client(gateway, secret)
    with pytest.raises(openai.InternalServerError) as refused:
        sdk.with_options(max_retries=0).chat.completions.create(model="echo", messages=ask("during"))
    assert refused.value.status_code == 503
    assert [r for r in ledger_records(gateway.home) if r["kind"] == "gen_ai.call"] == []  # not before its spending
    sdk.chat.completions.create(model="echo", messages=ask("after"))
    rows = request_rows(gateway.home)
    assert [(r["key_id"], r["status"]) for r in rows] == [(key_id, 503), (key_id, 200)]
    assert rows[0]["error"] == "answered 503: not recorded (database is locked)"
    assert spent(gateway, key_id) == pytest.approx(sum(r["cost_usd"] for r in rows), abs=1e-12)
