"""What the traffic page shows: the time span asked for in its query (so a link keeps it), and the gateway's
requests in that span from the ledger, per key and model for the table and per time bucket and model for the
charts. Each read opens the ledger, reads and closes it, as the other ledger pages do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gensandbox.canonical import stored_form
from gensandbox.errors import UserError
from gensandbox.ledger.requests import NO_MODEL, newest_requests, traffic_over_time, traffic_summary
from gensandbox.ledger.writer import open_backend
from gensandbox.store import SQLStore
from gensandbox.store.gateway import GatewayStore, KeyRecord
from gensandbox.ui.text import t

# Query value -> how far back it reaches (None: "today" starts at UTC midnight, "all" has no start).
SPANS: dict[str, timedelta | None] = {"hour": timedelta(hours=1), "today": None, "7d": timedelta(days=7),
                                      "30d": timedelta(days=30), "all": None}
DEFAULT_SPAN = "7d"
CUSTOM = "custom"
FORM_TIME = "%Y-%m-%dT%H:%M"  # what an <input type="datetime-local"> shows and sends


@dataclass(frozen=True)
class TrafficWindow:
    span: str  # a key of SPANS, or "custom" (from/to given)
    since: str | None  # stored form (UTC, to the second), inclusive; None: from the first request
    until: str | None  # exclusive; None: up to now
    from_value: str = ""  # the custom form's fields, as an <input type="datetime-local"> takes them
    to_value: str = ""


@dataclass(frozen=True)
class Traffic:
    window: TrafficWindow
    rows: list[dict]  # per key and model, as `gensandbox traffic --json` gives them
    series: list[dict]  # per time bucket and model (ledger.requests.traffic_over_time), oldest first
    keys: list[KeyRecord]
    served_any: bool  # whether the gateway has answered anything at all, in any span

    @property
    def bucket_s(self) -> int | None:
        return self.series[0]["bucket_s"] if self.series else None


def traffic_window(span: str | None, from_text: str | None, to_text: str | None, lang: str,
                   now: datetime) -> TrafficWindow:
    """The span the query asks for: `from`/`to` (dates or times, UTC unless they name a zone) win over
    `range`; a bad value is a UserError in the reader's language that names it and shows a good one."""
    if from_text or to_text:
        since, until = _moment(from_text, "from", lang), _moment(to_text, "to", lang, end_of_day=True)
        if since and until and since >= until:
            raise UserError(t(lang, "traffic.bad_order", since=from_text, until=to_text))
        return TrafficWindow(CUSTOM, since and stored_form(since), until and stored_form(until),
                             _form_value(since), _form_value(until))
    span = span or DEFAULT_SPAN
    if span not in SPANS:
        raise UserError(t(lang, "traffic.bad_range", value=span, choices=", ".join(SPANS)))
    reach = SPANS[span]
    if span == "today":
        return TrafficWindow(span, stored_form(now.astimezone(UTC).replace(hour=0, minute=0, second=0,
                                                                           microsecond=0)), None)
    return TrafficWindow(span, None if reach is None else stored_form(now - reach), None)


def _moment(text: str | None, field: str, lang: str, end_of_day: bool = False) -> datetime | None:
    """A date or time as an aware UTC moment; a bare date as `to` means the end of that day (it is included)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(t(lang, "traffic.bad_time", field=field, value=repr(text))) from None
    if end_of_day and len(text.strip()) == len("2026-11-01"):
        moment += timedelta(days=1)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _form_value(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime(FORM_TIME)


def read_traffic(store: SQLStore, ledger_url: str, window: TrafficWindow,
                 key_ids: set[str] | None = None) -> Traffic:
    """Requests from the ledger's gateway events (their one record), keys from the store; `key_ids`: only
    these keys' requests and rows (a project's keys), None: all."""
    backend = open_backend(ledger_url)
    try:
        rows = traffic_summary(backend, window.since, window.until, key_ids)
        series = traffic_over_time(backend, window.since, window.until, key_ids=key_ids) if rows else []
        served_any = bool(rows) or next(newest_requests(backend), None) is not None
    finally:
        backend.close()
    keys = [key for key in GatewayStore(store).keys() if key_ids is None or key.key_id in key_ids]
    return Traffic(window, rows, series, keys, served_any)


def chart_rows(series: list[dict], lang: str) -> list[dict]:
    """The charts' data: each bucket's end beside its start (bars span the bucket), refusals named."""
    rows = []
    for row in series:
        end = datetime.fromisoformat(row["start"]) + timedelta(seconds=row["bucket_s"])
        model = t(lang, "traffic.refused") if row["model"] == NO_MODEL else row["model"]
        rows.append({**row, "end": end.isoformat(timespec="seconds"), "model": model})
    return rows


def span_bounds(traffic: Traffic, lang: str) -> dict[str, str]:
    """The span's ends as the page says them, to the minute (UTC)."""
    window = traffic.window
    since = _shown(window.since) if window.since else _shown(traffic.series[0]["start"]) if traffic.series \
        else t(lang, "traffic.first")
    return {"since": since, "until": _shown(window.until) if window.until else t(lang, "traffic.now")}


def span_ms(traffic: Traffic, now: datetime) -> tuple[int, int] | None:
    """The charts' time axis: the span asked for, from its first bucket when it has no start, up to now when it
    has no end; None when there is nothing to draw."""
    if not traffic.series:
        return None
    window = traffic.window
    start = datetime.fromisoformat(window.since or traffic.series[0]["start"])
    end = datetime.fromisoformat(window.until) if window.until else now
    last = datetime.fromisoformat(traffic.series[-1]["start"]) + timedelta(seconds=traffic.series[-1]["bucket_s"])
    return round(start.timestamp() * 1000), round(max(end, last).timestamp() * 1000)


def _shown(stored: str) -> str:
    return datetime.fromisoformat(stored).astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def bucket_words(bucket_s: int | None, lang: str) -> str:
    key = f"traffic.bucket.{bucket_s}"
    try:
        return t(lang, key)
    except KeyError:  # a width a caller chose: said in seconds
        return f"{bucket_s} s"
