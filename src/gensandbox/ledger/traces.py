"""An agent session's timeline, rebuilt from its ledger records (`gen_ai.conversation.id`). Pure functions.

A session is a tree of spans: each model call has a span id, and a call made on behalf of another names that
call's span as its parent. Tool steps (the tool results an agent sent back) sit just before the call that
carried them, beside it in the tree. Nothing here prints; the CLI and the OpenTelemetry export both read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gensandbox.ledger.events import CALL, TOOL

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CallStep:
    time: str  # ISO 8601 UTC, as recorded
    offset_ms: float  # from the session's first call
    requested_model: str  # what the agent asked for: a model or a route
    model: str  # what served it
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_s: float | None
    status: str  # "ok" or "error"
    error: str | None
    span_id: str | None
    parent_span_id: str | None
    route: str | None
    seq: int  # the ledger record this step came from
    depth: int  # how many of this session's calls are above it in the span tree
    kind: str = "call"


@dataclass(frozen=True)
class ToolStep:
    """A tool the agent ran. Through the gateway the ledger sees only its result, carried by the agent's next call
    (time: that call's; the step is the call's sibling); in an evaluation's episode the environment ran it, and it
    has its own record with its own time, duration, status and the state's hash after it."""

    time: str
    offset_ms: float
    name: str
    call_id: str
    parent_span_id: str | None
    seq: int
    depth: int
    kind: str = "tool"
    latency_s: float | None = None
    status: str = "ok"  # ok | error | invalid (an evaluation's environment did not run it)
    state_sha256: str | None = None
    error: str | None = None  # an invalid call: why it was not run


@dataclass(frozen=True)
class Summary:
    calls: int
    tool_steps: int
    errors: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost_usd: float
    wall_time_s: float  # first call's start to the last call's end
    models: list[str]  # served models, in order of first use


@dataclass(frozen=True)
class Timeline:
    session: str
    trace_ids: list[str]  # one per session, unless calls were recorded before tracing was on
    steps: list[CallStep | ToolStep]
    summary: Summary


def time_ns(text: str) -> int:
    """Nanoseconds since the epoch, exactly (no float on the way): OpenTelemetry's clock. Naive times are UTC."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def calls_in_order(records: Iterable[dict]) -> list[dict]:
    """The call records (checkpoints are signatures, not steps), by start time; the ledger order breaks ties."""
    calls = [record for record in records if record.get("kind") == CALL]
    return sorted(calls, key=lambda record: (time_ns(record["time"]), record.get("seq", 0)))


def session_timeline(session: str, records: Iterable[dict]) -> Timeline:
    records = list(records)
    calls = calls_in_order(records)
    tools = [record for record in records if record.get("kind") == TOOL]
    ordered = sorted(calls + tools, key=lambda record: (time_ns(record["time"]), record.get("seq", 0)))
    start_ns = time_ns(ordered[0]["time"]) if ordered else 0
    depths = _depths(calls)
    steps: list[CallStep | ToolStep] = []
    for record in ordered:
        offset_ms = (time_ns(record["time"]) - start_ns) / 1e6
        if record.get("kind") == TOOL:
            steps.append(_executed_tool_step(record, offset_ms, depths.get(record.get("parent_span_id"), -1) + 1))
            continue
        depth = depths.get(record.get("span_id"), 0)
        steps += [_tool_step(record, step, offset_ms, depth) for step in record.get("gensandbox.tool_steps") or []]
        steps.append(_call_step(record, offset_ms, depth))
    trace_ids = list(dict.fromkeys(record["trace_id"] for record in calls if record.get("trace_id")))
    return Timeline(session, trace_ids, steps, summarize(calls, len(tools)))


def summarize(calls: list[dict], executed_tools: int = 0) -> Summary:
    input_tokens = sum(record.get("gen_ai.usage.input_tokens", 0) for record in calls)
    output_tokens = sum(record.get("gen_ai.usage.output_tokens", 0) for record in calls)
    return Summary(
        calls=len(calls),
        tool_steps=executed_tools + sum(len(record.get("gensandbox.tool_steps") or []) for record in calls),
        errors=sum(record.get("gensandbox.status") == "error" for record in calls),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
        cost_usd=round(sum(record.get("gensandbox.cost_usd", 0.0) for record in calls), 10),
        wall_time_s=_wall_time_s(calls),
        models=list(dict.fromkeys(record["gen_ai.response.model"] for record in calls)),
    )


def _wall_time_s(calls: list[dict]) -> float:
    if not calls:
        return 0.0
    ends = [time_ns(record["time"]) + round((record.get("gensandbox.latency_s") or 0.0) * 1e9) for record in calls]
    return (max(ends) - time_ns(calls[0]["time"])) / 1e9


def _depths(calls: list[dict]) -> dict[str, int]:
    """Each call's depth in the span tree. A parent outside the session (the agent's own span) counts as the
    root; the walk stops at a loop, since parent ids come from callers and nothing forbids one."""
    parents = {record["span_id"]: record.get("parent_span_id") for record in calls if record.get("span_id")}
    depths = {}
    for span_id in parents:
        depth, seen, parent = 0, {span_id}, parents[span_id]
        while parent in parents and parent not in seen:
            seen.add(parent)
            depth, parent = depth + 1, parents[parent]
        depths[span_id] = depth
    return depths


def _call_step(record: dict, offset_ms: float, depth: int) -> CallStep:
    return CallStep(
        time=record["time"], offset_ms=offset_ms,
        requested_model=record.get("gen_ai.request.model", ""), model=record.get("gen_ai.response.model", ""),
        input_tokens=record.get("gen_ai.usage.input_tokens", 0),
        output_tokens=record.get("gen_ai.usage.output_tokens", 0),
        cost_usd=record.get("gensandbox.cost_usd", 0.0), latency_s=record.get("gensandbox.latency_s"),
        status=record.get("gensandbox.status", "ok"), error=record.get("error.type"),
        span_id=record.get("span_id"), parent_span_id=record.get("parent_span_id"),
        route=record.get("gensandbox.route"), seq=record.get("seq", 0), depth=depth,
    )


def _tool_step(record: dict, step: dict, offset_ms: float, depth: int) -> ToolStep:
    return ToolStep(time=record["time"], offset_ms=offset_ms, name=str(step.get("name") or "tool"),
                    call_id=str(step.get("id") or ""), parent_span_id=record.get("parent_span_id"),
                    seq=record.get("seq", 0), depth=depth)


def _executed_tool_step(record: dict, offset_ms: float, depth: int) -> ToolStep:
    return ToolStep(time=record["time"], offset_ms=offset_ms, name=record.get("gen_ai.tool.name", "tool"),
                    call_id=record.get("gen_ai.tool.call.id", ""), parent_span_id=record.get("parent_span_id"),
                    seq=record.get("seq", 0), depth=depth, latency_s=record.get("gensandbox.latency_s"),
                    status=record.get("gensandbox.status", "ok"),
                    state_sha256=record.get("gensandbox.environment.state_sha256"), error=record.get("error.type"))
