"""The gateway's requests read back from its ledger events (their one record), on SQLite and on PostgreSQL:
newest first through the backends' newest_lines, traffic, latencies and the breaker's record."""

from __future__ import annotations

import orjson

from gensandbox.ledger import requests as requests_module
from gensandbox.ledger.events import CALL, CHECKPOINT, REFUSAL
from gensandbox.ledger.requests import (
    RequestRecord,
    newest_requests,
    recent_attempts,
    recent_latencies,
    traffic_summary,
)
from tests.helpers import request_event


def request(key_id: str = "key_1", model: str | None = "m", status: int = 200, latency_s: float | None = 0.5,
            created_at: str = "2026-11-29T00:00:01+00:00", stream: bool = False) -> RequestRecord:
    if model is None:  # refused before any model was tried
        return RequestRecord(created_at, key_id, "gone", "", "model_not_found", None, status, 0, 0, 0.0, None, stream,
                             "no such model")
    return RequestRecord(created_at, key_id, model, "fixed", "only model", model, status, 10, 5, 0.25, latency_s,
                         stream, None if status == 200 else "upstream failed")


def events(*records: RequestRecord) -> list[dict]:
    return [request_event(record) for record in records]


def test_every_record_the_old_rows_had_reads_back_from_the_events(ledger_backend):
    written = [request(stream=True), request(status=502, latency_s=None), request("anonymous", None, 401, stream=True),
               request("key_2", None, 429, created_at="2026-11-29T00:00:02+00:00")]
    run_call = {**request_event(request()), "gensandbox.source": "run"}
    ledger_backend.append(events(*written) + [run_call])
    assert list(newest_requests(ledger_backend)) == written[::-1]  # the run's call is not the gateway's


def test_run_calls_and_successful_gateway_calls_hash_as_before():
    # Only failed gateway attempts carry an HTTP status, and only refusals of streams the stream flag.
    (answered, failed), refused = events(request(), request(status=502)), request_event(request(model=None))
    assert "http.response.status_code" not in answered and failed["http.response.status_code"] == 502
    assert "gensandbox.stream" not in refused
    assert request_event(request(model=None, stream=True))["gensandbox.stream"] is True


def test_newest_lines_reads_the_given_kinds_backwards_in_batches(ledger_backend, signer, monkeypatch):
    calls = events(*(request(created_at=f"2026-11-29T00:{n // 60:02d}:{n % 60:02d}+00:00") for n in range(1300)))
    for start in range(0, 1300, 100):  # a checkpoint after every 100 events: skipped by kind
        ledger_backend.append(calls[start:start + 99] + events(request(model=None, status=404)),
                              lambda head: signer.checkpoint(head, "2026-11-29T01:00:00+00:00"))
    lines = list(ledger_backend.newest_lines((CALL, REFUSAL)))
    records = [orjson.loads(line) for line in lines]
    assert len(records) == 1300 and all(r["kind"] != CHECKPOINT for r in records)
    assert [r["seq"] for r in records] == sorted((r["seq"] for r in records), reverse=True)
    assert [orjson.loads(line)["kind"] for line in ledger_backend.newest_lines((REFUSAL,))] == [REFUSAL] * 13
    assert list(ledger_backend.newest_lines((CHECKPOINT,)))[0] == list(ledger_backend.lines())[-1]
    monkeypatch.setattr(requests_module, "RECENT_SCAN", 150)  # the breaker and routing read only the tail
    assert len(recent_attempts(ledger_backend, ["m"], 1000)["m"]) == 150 - 2  # two of them were refusals


def test_traffic_summary(ledger_backend):
    ledger_backend.append(events(request(latency_s=0.3), request(latency_s=0.1), request(status=502, latency_s=None),
                                 request(model=None, status=404, latency_s=None),
                                 request("key_0", created_at="2026-11-28T00:00:00+00:00")))
    summary = traffic_summary(ledger_backend)
    assert [(s["key_id"], s["model"], s["requests"], s["errors"], s["latency_p50_s"]) for s in summary] == [
        ("key_0", "m", 1, 0, 0.5), ("key_1", "–", 1, 1, None), ("key_1", "m", 3, 1, 0.3)]
    assert summary[2]["input_tokens"] == 30 and summary[2]["output_tokens"] == 15
    assert summary[2]["cost_usd"] == 0.75 and summary[1]["cost_usd"] == 0.0
    assert [s["key_id"] for s in traffic_summary(ledger_backend, since="2026-11-29")] == ["key_1", "key_1"]
    assert traffic_summary(ledger_backend, since="2026-11-30") == []


def test_latest_attempts_and_latencies_per_model(ledger_backend):
    ledger_backend.append(events(request(model="a", latency_s=0.1), request(model="b", latency_s=0.9),
                                 request(model="a", status=502, latency_s=0.2), request(model="a", latency_s=0.3)))
    attempts = recent_attempts(ledger_backend, ["a", "b", "c"], 2)
    assert [r.status for r in attempts["a"]] == [200, 502] and len(attempts["b"]) == 1 and attempts["c"] == []
    assert recent_latencies(ledger_backend, ["a", "b"], 5) == {"a": [0.3, 0.1], "b": [0.9]}
