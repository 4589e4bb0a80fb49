"""Agent traces at the gateway's edge: which session and parent span a request belongs to, and which tool
results it carries. Pure functions over the request."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from gensandbox.types import ChatRequest, Message

SESSION_HEADER, PARENT_HEADER, SPAN_HEADER = "x-gensandbox-session", "x-gensandbox-parent-span", "x-gensandbox-span"
_MAX_ID = 200


@dataclass(slots=True)  # built per request: frozen fields would cost ~0.1 µs each
class TraceContext:
    session: str | None
    trace_id: str  # 32 hex digits (OpenTelemetry): the same for every call of a session
    span_id: str  # 16 hex digits, new for each call; answered in x-gensandbox-span so children can name it
    parent_span_id: str | None


def trace_context(session_header: str | None, parent_header: str | None, metadata: dict | None) -> TraceContext:
    """The header wins over `metadata` (session_id, parent_span_id), so an SDK that cannot set headers still
    works; ids are cut to a sane length rather than refused, since a trace must never cost the caller an answer."""
    metadata = metadata or {}
    session = (session_header or str(metadata.get("session_id") or "")).strip()[:_MAX_ID] or None
    parent = (parent_header or str(metadata.get("parent_span_id") or "")).strip()[:_MAX_ID] or None
    # Random ids drawn as OpenTelemetry's SDK draws them (random.getrandbits: ids need to be unique, not secret),
    # one draw for both: the span id's 64 bits, and the trace id's 128 when no session names the trace.
    fresh = f"{random.getrandbits(192):048x}"
    trace_id = hashlib.sha256(session.encode()).hexdigest()[:32] if session else fresh[16:]
    return TraceContext(session, trace_id, fresh[:16], parent)


def tool_steps(messages: tuple[Message, ...]) -> tuple[dict, ...]:
    """The tool results at the end of the conversation: the steps the agent ran since the model last answered.
    Only their ids, names and content digests go into the ledger, whatever its privacy setting: the event's
    builder digests each `content` with the call's key (ledger.events.call_event)."""
    names = {call.id: call.name for message in messages for call in message.tool_calls}
    steps = []
    for message in reversed(messages):
        if message.role != "tool":
            break
        call_id = message.tool_call_id or ""
        steps.append({"id": call_id, "name": names.get(call_id) or message.name or "tool",
                      "content": message.content})
    return tuple(reversed(steps))


def request_features(request: ChatRequest, stream: bool) -> tuple[str, ...]:
    """The API features a request relied on, recorded so a switching audit can tell which ones an alternative
    model would have to offer."""
    response_format = request.response_format.type if request.response_format else None
    features = ("stream" if stream else None,
                "tools" if request.tools or "functions" in request.passthrough else None,
                "json_mode" if response_format in ("json_object", "json_schema") else None,
                "seed" if request.seed is not None else None,
                "images" if any(m.parts and m.images for m in request.messages) else None)
    return tuple(feature for feature in features if feature)
