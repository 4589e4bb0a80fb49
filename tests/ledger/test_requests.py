"""The gateway's requests read back from its ledger events (their one record), on SQLite and on PostgreSQL:
newest first through the backends' newest_lines, traffic, latencies and the breaker's record."""

from __future__ import annotations

import orjson
import pytest

from gensandbox.errors import UserError
from gensandbox.ledger import requests as requests_module
from gensandbox.ledger.events import CALL, CHECKPOINT, REFUSAL
from gensandbox.ledger.requests import (
    RequestRecord,
    choose_bucket_s,
    newest_requests,
    oldest_request_time,
    percentile,
    recent_attempts,
    recent_latencies,
    traffic_over_time,
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


def at(minute: int, second: int = 0, day: int = 29) -> str:
    return f"2026-11-{day:02d}T{minute // 60:02d}:{minute % 60:02d}:{second:02d}+00:00"


def test_traffic_over_time_adds_up_each_bucket_and_model(ledger_backend):
    ledger_backend.append(events(
        request(model="a", latency_s=0.1, created_at=at(0, 5)), request(model="a", latency_s=0.3, created_at=at(4)),
        request(model="a", status=502, latency_s=None, created_at=at(3)),
        request(model="b", latency_s=0.9, created_at=at(1)),
        request(model=None, status=404, created_at=at(2)),  # a refusal: no model
        request(model="a", latency_s=0.7, created_at=at(5))))  # the next 5-minute bucket
    rows = traffic_over_time(ledger_backend, at(0), at(60), 300)
    assert [(r["start"], r["model"], r["requests"], r["errors"]) for r in rows] == [
        (at(0), "a", 3, 1), (at(0), "b", 1, 0), (at(0), "–", 1, 1), (at(5), "a", 1, 0)]
    first = rows[0]
    assert first["bucket_s"] == 300 and first["input_tokens"] == 30 and first["output_tokens"] == 15
    assert first["cost_usd"] == 0.75 and (first["latency_p50_s"], first["latency_p95_s"]) == (0.3, 0.3)
    assert rows[2]["latency_p50_s"] is None and rows[2]["cost_usd"] == 0.0
    hourly = traffic_over_time(ledger_backend, at(0), at(60), 3600)
    assert [(r["model"], r["requests"]) for r in hourly] == [("a", 4), ("b", 1), ("–", 1)]


def test_traffic_over_time_keeps_to_the_span_and_the_keys(ledger_backend):
    ledger_backend.append(events(request("key_1", created_at=at(0)), request("key_2", created_at=at(10)),
                                 request("anonymous", created_at=at(20)), request("key_1", created_at=at(30))))

    def counted(since, until, key_ids=None):
        return sum(r["requests"] for r in traffic_over_time(ledger_backend, since, until, 60, key_ids))

    assert counted(None, None) == 4
    assert counted(at(10), None) == 3 and counted(None, at(10)) == 1  # since is inclusive, until exclusive
    assert counted(at(10), at(30)) == 2
    assert counted(None, None, {"key_1"}) == 2 and counted(at(5), None, {"key_1", "anonymous"}) == 2
    assert counted(None, None, set()) == 0
    summary = traffic_summary(ledger_backend, until=at(30), key_ids={"key_1", "key_2"})
    assert [(s["key_id"], s["requests"]) for s in summary] == [("key_1", 1), ("key_2", 1)]


def test_the_bucket_is_chosen_from_the_span(ledger_backend):
    assert choose_bucket_s(at(0), at(60)) == 60
    assert choose_bucket_s(at(0, day=28), at(0, day=29)) == 300
    assert choose_bucket_s(at(0, day=22), at(0, day=29)) == 3600
    assert choose_bucket_s(at(0, day=1), at(0, day=29)) == 86_400
    ledger_backend.append(events(request(created_at=at(0, day=1)), request(created_at=at(0, day=28))))
    assert oldest_request_time(ledger_backend) == at(0, day=1)
    # No start given: the span runs from the first request, so a month of traffic is drawn day by day.
    rows = traffic_over_time(ledger_backend, None, at(0, day=29))
    assert [(r["start"], r["bucket_s"]) for r in rows] == [("2026-11-01T00:00:00+00:00", 86_400),
                                                           ("2026-11-28T00:00:00+00:00", 86_400)]
    assert traffic_over_time(ledger_backend, None, None, key_ids={"nobody"}) == []
    with pytest.raises(UserError, match="bucket width"):
        traffic_over_time(ledger_backend, None, None, 0)


def test_percentiles_take_the_value_at_or_above_the_share():
    assert percentile([], 0.5) is None
    assert percentile([1.0, 2.0], 0.5) == 2.0 and percentile([float(n) for n in range(1, 101)], 0.95) == 96.0
    assert percentile([0.2], 0.95) == 0.2
