"""An agent session's timeline, rebuilt from real ledger records (call_event + chain)."""

from __future__ import annotations

import orjson
import pytest

from gensandbox.ledger.events import CHECKPOINT, CallFacts, Head, call_event, chain
from gensandbox.ledger.traces import CallStep, ToolStep, session_timeline, time_ns

SESSION, TRACE = "agent-1", "4bf92f3577b34da6a3ce929d0e0e4736"
ROOT, CHILD, LAST = "00f067aa0ba902b7", "b7ad6b7169203331", "53995c3f42cd8ad8"


def facts(**overrides) -> CallFacts:
    values = dict(source="gateway", provider="openai", requested_model="fast", model="gpt-4o-mini",
                  started_at="2026-03-01T10:00:00+00:00", latency_s=1.2, input_tokens=100, output_tokens=20,
                  cost_usd=0.001, price_table="p1", prompt=[{"role": "user", "content": "plan"}],
                  response_text="ok", finish_reason="stop", session=SESSION, trace_id=TRACE, route="fast")
    return CallFacts(**{**values, **overrides})


def session_contents() -> list[dict]:
    """Three calls of one agent session, in the order they ended (not started), with a sub-agent call,
    a failure and tool results; plus another session's call."""
    first = facts(span_id=ROOT)
    child = facts(span_id=CHILD, parent_span_id=ROOT, requested_model="claude-x", model="claude-x", route=None,
                  started_at="2026-03-01T10:00:01.500000+00:00", latency_s=0.5, input_tokens=0, output_tokens=0,
                  cost_usd=0.0, status="error", error="ProviderTimeoutError", response_text=None,
                  finish_reason=None)
    last = facts(span_id=LAST, started_at="2026-03-01T10:00:03+00:00", latency_s=2.0, input_tokens=300,
                 output_tokens=50, cost_usd=0.004,
                 tool_steps=({"id": "call_1", "name": "search", "sha256": "a" * 64},
                             {"id": "call_2", "name": "fetch", "sha256": "b" * 64}))
    other = facts(session="agent-2", trace_id=None, span_id="1111111111111111")
    return [call_event(f, "hashes") for f in (child, first, other, last)]


def session_records(session: str | None = SESSION) -> list[dict]:
    """Parsed ledger records (a checkpoint included); with `session`, only that session's, as the backend
    gives them."""
    contents = session_contents()
    contents.insert(2, {"kind": CHECKPOINT, "gensandbox.signature": "x"})
    records = [orjson.loads(record.line) for record in chain(contents, Head())]
    return [r for r in records if session is None or r.get("gen_ai.conversation.id") == session]


def test_steps_are_in_start_order_with_tool_steps_before_their_call():
    timeline = session_timeline(SESSION, session_records())
    kinds = [(step.kind, getattr(step, "span_id", None) or getattr(step, "name", None)) for step in timeline.steps]
    assert kinds == [("call", ROOT), ("call", CHILD), ("tool", "search"), ("tool", "fetch"), ("call", LAST)]
    assert [step.offset_ms for step in timeline.steps] == [0.0, 1500.0, 3000.0, 3000.0, 3000.0]


def test_call_steps_carry_what_the_table_shows():
    first, child, *_, last = session_timeline(SESSION, session_records()).steps
    assert isinstance(first, CallStep) and isinstance(last, CallStep)
    assert (first.requested_model, first.model, first.route, first.depth) == ("fast", "gpt-4o-mini", "fast", 0)
    assert (first.input_tokens, first.output_tokens, first.cost_usd, first.latency_s) == (100, 20, 0.001, 1.2)
    assert (child.status, child.error, child.parent_span_id, child.depth) == ("error", "ProviderTimeoutError",
                                                                              ROOT, 1)
    assert child.requested_model == child.model == "claude-x"
    assert last.seq > child.seq  # the ledger order differs from the time order


def test_tool_steps_are_siblings_of_the_call_that_carried_them():
    tools = [step for step in session_timeline(SESSION, session_records()).steps if isinstance(step, ToolStep)]
    assert [(tool.name, tool.call_id, tool.parent_span_id, tool.depth) for tool in tools] == [
        ("search", "call_1", None, 0), ("fetch", "call_2", None, 0)]


def test_summary_totals():
    timeline = session_timeline(SESSION, session_records())
    summary = timeline.summary
    assert (summary.calls, summary.tool_steps, summary.errors) == (3, 2, 1)
    assert (summary.input_tokens, summary.output_tokens, summary.total_tokens) == (400, 70, 470)
    assert summary.cost_usd == pytest.approx(0.005)
    assert summary.wall_time_s == pytest.approx(5.0)  # 10:00:00 to 10:00:03 + 2 s
    assert summary.models == ["gpt-4o-mini", "claude-x"]
    assert timeline.trace_ids == [TRACE]


def test_checkpoints_and_an_empty_session():
    timeline = session_timeline("nobody", [r for r in session_records(None) if r["kind"] == CHECKPOINT])
    assert timeline.steps == [] and timeline.summary.calls == 0 and timeline.summary.wall_time_s == 0.0


def test_a_parent_loop_does_not_hang():
    records = session_records()
    for record in records:
        if record["span_id"] == ROOT:
            record["parent_span_id"] = CHILD  # callers name parents; nothing stops them naming a loop
    depths = {step.span_id: step.depth for step in session_timeline(SESSION, records).steps
              if isinstance(step, CallStep)}
    assert depths == {ROOT: 1, CHILD: 1, LAST: 0}


@pytest.mark.parametrize("text, expected", [
    ("1970-01-01T00:00:01+00:00", 1_000_000_000),
    ("1970-01-01T00:00:00.000001Z", 1_000),
    ("1970-01-01T01:00:00+01:00", 0),
    ("1970-01-01T00:00:02", 2_000_000_000),  # naive: UTC
    ("2026-03-01T10:00:01.500000+00:00", 1772359201_500_000_000),
])
def test_time_ns_is_exact(text, expected):
    assert time_ns(text) == expected
