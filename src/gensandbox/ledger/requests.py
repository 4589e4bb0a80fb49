"""The gateway's requests, read back from its ledger events: the one record of each request.

Each attempt is one event: a call event (gen_ai.call, source "gateway") for each model tried, whatever came of
it, and a refusal event for a request refused before any model was tried. `gensandbox traffic`, the dashboard,
routing (latencies, the circuit breaker's record) and the routing audit all read them here, as RequestRecords.
Reads go newest first through the backend's `newest_lines`, a batch at a time: nothing holds the whole ledger in
memory, and a reader that wants only the tail stops early.

Homes that served before the ledger existed may hold older requests in the store's gateway_requests table,
without events; they are kept there, but nothing here reads them.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass

import orjson

from gensandbox.ledger.base import LedgerBackend
from gensandbox.ledger.events import ANONYMOUS, CALL, REFUSAL

GATEWAY_KINDS = (CALL, REFUSAL)
_FROM_GATEWAY = b'"gensandbox.source":"gateway"'  # canonical JSON: checked on the bytes, before parsing
# At most this many of the newest calls and refusals are read for models' latest attempts and latencies, so
# that routing, `gensandbox routes` and startup read the ledger's tail, never all of it.
RECENT_SCAN = 20_000


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


def traffic_summary(backend: LedgerBackend, since: str | None = None) -> list[dict]:
    """Requests, errors, tokens, spend and median latency, per key and model (refusals under model "–")."""
    groups: dict[tuple[str, str], list] = {}
    for record in newest_requests(backend, since):
        group = groups.get((record.key_id, record.model or "–"))
        if group is None:  # requests, errors, tokens in, tokens out, cost, latencies (8 bytes each)
            group = groups[(record.key_id, record.model or "–")] = [0, 0, 0, 0, 0.0, array("d")]
        group[0] += 1
        group[2] += record.input_tokens
        group[3] += record.output_tokens
        group[4] += record.cost_usd
        if record.status != 200:
            group[1] += 1
        elif record.latency_s is not None:
            group[5].append(record.latency_s)
    summary = []
    for (key_id, model), (requests, errors, tokens_in, tokens_out, cost, latencies) in sorted(
            groups.items(), key=lambda item: (item[0][0], item[0][1] != "–", item[0][1])):  # refusals first
        ordered = sorted(latencies)
        summary.append({"key_id": key_id, "model": model, "requests": requests, "errors": errors,
                        "input_tokens": tokens_in, "output_tokens": tokens_out, "cost_usd": round(cost, 10),
                        "latency_p50_s": ordered[len(ordered) // 2] if ordered else None})
    return summary
