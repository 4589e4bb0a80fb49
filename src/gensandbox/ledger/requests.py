"""The gateway's requests, read back from its ledger events: the one record of each request.

Each attempt is one event: a call event (gen_ai.call, source "gateway") for each model tried, whatever came of
it, and a refusal event for a request refused before any model was tried. `gensandbox traffic`, the dashboard,
routing (latencies, the circuit breaker's record) and the routing audit all read them here, as RequestRecords.
Reads go newest first through the backend's `newest_lines`, a batch at a time: nothing holds the whole ledger in
memory, and a reader that wants only the tail stops early. `traffic_summary` (per key and model) and
`traffic_over_time` (per time bucket and model) add them up for a span of time and a set of keys.

Homes that served before the ledger existed may hold older requests in the store's gateway_requests table,
without events; they are kept there, but nothing here reads them.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from gensandbox.errors import UserError
from gensandbox.ledger.base import LedgerBackend
from gensandbox.ledger.events import ANONYMOUS, CALL, REFUSAL

GATEWAY_KINDS = (CALL, REFUSAL)
_FROM_GATEWAY = b'"gensandbox.source":"gateway"'  # canonical JSON: checked on the bytes, before parsing
# At most this many of the newest calls and refusals are read for models' latest attempts and latencies, so
# that routing, `gensandbox routes` and startup read the ledger's tail, never all of it.
RECENT_SCAN = 20_000
NO_MODEL = "–"  # the model column of a request refused before any model was tried


@dataclass(slots=True)  # built per event read: frozen fields would cost ~0.1 µs each
class RequestRecord:
    created_at: str
    key_id: str
    requested_model: str
    route: str
    route_reason: str
    model: str | None  # None: refused before any model was tried
    status: int  # the HTTP status this attempt was answered (or recorded) with
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_s: float | None
    stream: bool
    error: str | None


def request_record(event: dict) -> RequestRecord:
    """One gateway event as a request record. A call's status is 200 when it succeeded and 502 when it failed,
    unless the event names another (an attempt answered 503 because it could not be recorded at first)."""
    if event["kind"] == REFUSAL:
        return RequestRecord(event["time"], event.get("gensandbox.key_id", ANONYMOUS),
                             event.get("gen_ai.request.model", ""), "", event.get("error.type", "refused"), None,
                             event["http.response.status_code"], 0, 0, 0.0, None, bool(event.get("gensandbox.stream")),
                             event.get("gensandbox.reason"))
    ok = event.get("gensandbox.status") == "ok"
    return RequestRecord(event["time"], event.get("gensandbox.key_id", ANONYMOUS), event["gen_ai.request.model"],
                         event.get("gensandbox.route", ""), event.get("gensandbox.route_reason", ""),
                         event["gen_ai.response.model"], event.get("http.response.status_code", 200 if ok else 502),
                         event["gen_ai.usage.input_tokens"], event["gen_ai.usage.output_tokens"],
                         event["gensandbox.cost_usd"], event.get("gensandbox.latency_s"),
                         "stream" in (event.get("gensandbox.features") or ()),
                         event.get("gensandbox.reason") or event.get("error.type"))


def newest_requests(backend: LedgerBackend, since: str | None = None,
                    scan: int | None = None) -> Iterator[RequestRecord]:
    """The gateway's requests, newest first; `since`: only those started then or later (compared as text, as the
    times are written); `scan`: read at most this many of the newest calls and refusals."""
    for read, line in enumerate(backend.newest_lines(GATEWAY_KINDS)):
        if scan is not None and read >= scan:
            return
        if _FROM_GATEWAY not in line:  # a run's, a judge's or an audit's call
            continue
        record = request_record(orjson.loads(line))
        if since is None or record.created_at >= since:
            yield record


def recent_attempts(backend: LedgerBackend, models: list[str], limit: int) -> dict[str, list[RequestRecord]]:
    """Each model's latest `limit` tries through the gateway, newest first, from the ledger's tail."""
    found: dict[str, list[RequestRecord]] = {model: [] for model in models}
    wanted = len(models)
    for record in newest_requests(backend, scan=RECENT_SCAN):
        attempts = found.get(record.model)
        if attempts is None or len(attempts) >= limit:
            continue
        attempts.append(record)
        wanted -= len(attempts) == limit
        if not wanted:
            break
    return found


def recent_latencies(backend: LedgerBackend, models: list[str], limit: int = 200) -> dict[str, list[float]]:
    """Latencies of each model's latest successful calls through the gateway, newest first."""
    found: dict[str, list[float]] = {model: [] for model in models}
    wanted = len(models)
    for record in newest_requests(backend, scan=RECENT_SCAN):
        latencies = found.get(record.model)
        if latencies is None or len(latencies) >= limit or record.status != 200 or record.latency_s is None:
            continue
        latencies.append(record.latency_s)
        wanted -= len(latencies) == limit
        if not wanted:
            break
    return found


def requests_between(backend: LedgerBackend, since: str | None = None, until: str | None = None,
                     key_ids: set[str] | None = None) -> Iterator[RequestRecord]:
    """The gateway's requests started at `since` or later and before `until` (either None: unbounded), newest
    first; `key_ids`: only those made with these keys (None: all, anonymous ones included)."""
    for record in newest_requests(backend, since):
        if until is not None and record.created_at >= until:
            continue
        if key_ids is None or record.key_id in key_ids:
            yield record


class _Totals:
    """One group's requests, errors, tokens, spend and successful latencies (8 bytes each)."""

    __slots__ = ("requests", "errors", "input_tokens", "output_tokens", "cost_usd", "latencies")

    def __init__(self) -> None:
        self.requests = self.errors = self.input_tokens = self.output_tokens = 0
        self.cost_usd = 0.0
        self.latencies = array("d")

    def add(self, record: RequestRecord) -> None:
        self.requests += 1
        self.input_tokens += record.input_tokens
        self.output_tokens += record.output_tokens
        self.cost_usd += record.cost_usd
        if record.status != 200:
            self.errors += 1
        elif record.latency_s is not None:
            self.latencies.append(record.latency_s)

    def as_dict(self) -> dict:
        ordered = sorted(self.latencies)
        return {"requests": self.requests, "errors": self.errors, "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens, "cost_usd": round(self.cost_usd, 10),
                "latency_p50_s": percentile(ordered, 0.5), "latency_p95_s": percentile(ordered, 0.95)}


def percentile(ordered: list[float], share: float) -> float | None:
    """The value at `share` of the sorted values (the one above the middle for an even count's median, as the
    traffic table always showed it); None when there are none."""
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else None


def traffic_summary(backend: LedgerBackend, since: str | None = None, until: str | None = None,
                    key_ids: set[str] | None = None) -> list[dict]:
    """Requests, errors, tokens, spend and p50/p95 latency, per key and model (refusals under model "–"), for the
    requests started in [since, until) and made with `key_ids` (None: every key)."""
    groups: dict[tuple[str, str], _Totals] = {}
    for record in requests_between(backend, since, until, key_ids):
        group_key = (record.key_id, record.model or NO_MODEL)
        totals = groups.get(group_key)
        if totals is None:
            totals = groups[group_key] = _Totals()
        totals.add(record)
    # Per key, refusals first, then the models by name.
    ordered = sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] != NO_MODEL, item[0][1]))
    return [{"key_id": key_id, "model": model, **totals.as_dict()} for (key_id, model), totals in ordered]


# Bucket widths by the span shown: about 60-300 points per chart, aligned to UTC minutes, hours and days.
MINUTE, HOUR, DAY = 60, 3600, 86_400
BUCKETS_BY_SPAN_S = ((2 * HOUR, MINUTE), (2 * DAY, 5 * MINUTE), (8 * DAY, HOUR))


def choose_bucket_s(since: str | None, until: str | None, oldest: str | None = None) -> int:
    """The bucket width for a span: a minute for an hour, 5 minutes for a day, an hour for a week, a day beyond.
    An open start runs from `oldest` (the first request there is); an open end runs to now."""
    start = since or oldest
    if start is None:
        return MINUTE
    end = _epoch(until) if until is not None else time.time()
    span = end - _epoch(start)
    return next((bucket for longest, bucket in BUCKETS_BY_SPAN_S if span <= longest), DAY)


def oldest_request_time(backend: LedgerBackend) -> str | None:
    """When the gateway's first request recorded started (reading from the chain's start: it stops there)."""
    for line in backend.lines():
        if _FROM_GATEWAY in line:
            event = orjson.loads(line)
            if event.get("kind") in GATEWAY_KINDS:
                return event["time"]
    return None


def traffic_over_time(backend: LedgerBackend, since: str | None, until: str | None, bucket_s: int | None = None,
                      key_ids: set[str] | None = None) -> list[dict]:
    """Per time bucket and model, oldest first: requests, errors, tokens, spend and p50/p95 latency of the
    requests started in [since, until) with `key_ids` (None: every key). Each row's `start` is its bucket's start
    (UTC, ISO 8601) and `bucket_s` its width; a bucket with no requests has no rows. `bucket_s` None: chosen
    from the span (choose_bucket_s)."""
    if bucket_s is None:
        bucket_s = choose_bucket_s(since, until, None if since else oldest_request_time(backend))
    if bucket_s <= 0:
        raise UserError(f"the bucket width must be a positive number of seconds, not {bucket_s}")
    groups: dict[tuple[int, str], _Totals] = {}
    for record in requests_between(backend, since, until, key_ids):
        group_key = (int(_epoch(record.created_at) // bucket_s * bucket_s), record.model or NO_MODEL)
        totals = groups.get(group_key)
        if totals is None:
            totals = groups[group_key] = _Totals()
        totals.add(record)
    return [{"start": datetime.fromtimestamp(start, UTC).isoformat(timespec="seconds"), "bucket_s": bucket_s,
             "model": model, **totals.as_dict()} for (start, model), totals in sorted(groups.items())]


def _epoch(text: str) -> float:
    """Seconds since the epoch of an ISO 8601 time (UTC when it names no zone)."""
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
