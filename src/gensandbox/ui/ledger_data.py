"""What the ledger and trace pages show (traffic_data.py has the traffic page's). Each call opens the ledger,
reads, and closes it: the dashboard holds no connection that a gateway writing the same ledger could trip over."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice

import orjson

from gensandbox.ledger.events import CALL, CHECKPOINT, TOOL, Head
from gensandbox.ledger.reading import call_records
from gensandbox.ledger.traces import CallStep, Timeline, ToolStep, session_timeline
from gensandbox.ledger.writer import open_backend
from gensandbox.ui.paging import Pager, make_pager

RECORDS_PER_PAGE = 50
# Sessions are found by reading records, and the ledger backends have no session index to list: the newest
# records are read, which bounds a page load on a ledger of millions.
SESSION_SCAN = 20_000
SESSIONS_SHOWN = 100
_SESSION_FIELD = b'"gen_ai.conversation.id"'


@dataclass(frozen=True)
class LedgerRow:
    seq: int
    kind: str  # "call", "checkpoint" or the record's own kind
    time: str
    model: str
    cost_usd: float | None
    session: str | None
    failed: bool


@dataclass(frozen=True)
class SessionRow:
    session: str
    calls: int
    cost_usd: float
    last_time: str


@dataclass(frozen=True)
class LedgerPage:
    location: str
    head: Head
    rows: list[LedgerRow]  # newest first
    pager: Pager
    sessions: list[SessionRow]  # most recently active first
    scanned: int  # how many of the newest records the sessions were looked for in

    @property
    def empty(self) -> bool:
        return self.head.seq == 0


@dataclass(frozen=True)
class Bar:
    """One step in the trace's timeline picture, in SVG user units: a model call, or a tool an evaluation's
    environment ran."""

    x: float
    y: float
    width: float
    label: str
    failed: bool
    tool: bool = False


def ledger_page(ledger_url: str, requested_page: str | None,
                visible: Callable[[dict], bool] = lambda record: True) -> LedgerPage:
    """`visible`: which records the reader may see listed (another project's are left out; the chain's head and
    its verification cover every record all the same)."""
    backend = open_backend(ledger_url)
    try:
        head = backend.head()
        pager = make_pager(head.seq, RECORDS_PER_PAGE, requested_page)
        # Newest first: page 1 holds the last records of the chain.
        newest, oldest = head.seq - pager.start, max(0, head.seq - pager.stop)
        records = (orjson.loads(line) for line in islice(backend.lines(oldest), newest - oldest))
        rows = [_row(record) for record in records if record.get("kind") == CHECKPOINT or visible(record)]
        scanned = min(head.seq, SESSION_SCAN)
        sessions = _sessions(backend.lines(head.seq - scanned), visible)
        return LedgerPage(engine_name(ledger_url), head, rows[::-1], pager, sessions, scanned)
    finally:
        backend.close()


def engine_name(ledger_url: str) -> str:
    """Where the ledger is, as a page may say it: its engine, never a path or an address on the server."""
    return "PostgreSQL" if ledger_url.startswith(("postgres", "postgresql")) else "SQLite"


def _row(record: dict) -> LedgerRow:
    kind = {CALL: "call", CHECKPOINT: "checkpoint", TOOL: "tool"}.get(record.get("kind", ""),
                                                                    str(record.get("kind", "")))
    model = record.get("gen_ai.response.model") or record.get("gen_ai.tool.name") or ""  # a tool: its name
    return LedgerRow(seq=record.get("seq", 0), kind=kind, time=str(record.get("time", "")),
                     model=str(model), cost_usd=record.get("gensandbox.cost_usd"),
                     session=record.get("gen_ai.conversation.id"),
                     failed=record.get("gensandbox.status") in ("error", "invalid"))


def _sessions(lines: Iterator[bytes], visible: Callable[[dict], bool]) -> list[SessionRow]:
    found: dict[str, SessionRow] = {}
    for line in lines:
        if _SESSION_FIELD not in line:  # most records belong to no session: skip them unparsed
            continue
        record = orjson.loads(line)
        session = record.get("gen_ai.conversation.id")
        if record.get("kind") != CALL or not session or not visible(record):
            continue
        seen = found.get(session)
        calls, cost = (seen.calls, seen.cost_usd) if seen else (0, 0.0)
        found[session] = SessionRow(session, calls + 1, cost + record.get("gensandbox.cost_usd", 0.0),
                                    max(str(record.get("time", "")), seen.last_time if seen else ""))
    newest = sorted(found.values(), key=lambda row: row.last_time, reverse=True)
    return newest[:SESSIONS_SHOWN]


def session_trace(ledger_url: str, session: str,
                  visible: Callable[[dict], bool] = lambda record: True) -> Timeline | None:
    """The session's calls the reader may see: anyone can name any session (an app sets its own session ids), so
    another project's calls under the same name are left out."""
    backend = open_backend(ledger_url)
    try:
        records = [record for record in call_records(backend.session_lines(session), (CALL, TOOL))
                   if visible(record)]
    finally:
        backend.close()
    return session_timeline(session, records) if records else None


def waterfall(timeline: Timeline, width: float = 720.0, row_height: float = 22.0) -> list[Bar]:
    """Each model call, and each tool an evaluation ran, as a bar from its start to its end, one row each, on a
    common time axis. A tool result an agent sent through the gateway has no time of its own: it has no bar."""
    steps = [step for step in timeline.steps if isinstance(step, CallStep) or step.latency_s is not None]
    span_ms = max((step.offset_ms + (step.latency_s or 0.0) * 1000 for step in steps), default=0.0) or 1.0
    bars = []
    for index, step in enumerate(steps):
        x = step.offset_ms / span_ms * width
        length = max((step.latency_s or 0.0) * 1000 / span_ms * width, 2.0)  # an instant still shows
        tool = isinstance(step, ToolStep)
        bars.append(Bar(round(x, 1), index * row_height, round(min(length, width - x) or 2.0, 1),
                        f"tool {step.name}" if tool else step.model, step.status != "ok", tool))
    return bars

