"""Ledger records as OpenTelemetry spans, sent to an OTLP/HTTP collector or written as an OTLP/JSON file.

Spans are rebuilt from the records, never recorded through a live tracer: their ids and times are the ledger's,
so exporting the same ledger twice gives the same spans, and each span names the record it came from
(`gensandbox.ledger.seq`, `gensandbox.ledger.hash`). A call recorded without trace ids (a run, not the gateway)
gets ids derived from its record hash. Spans go out in batches, so a ledger of millions is never all in memory.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

import orjson
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from gensandbox.canonical import canonical, sha256_hex
from gensandbox.errors import RunError, UserError
from gensandbox.ledger.events import CALL, TOOL
from gensandbox.ledger.traces import time_ns

__all__ = ["BATCH_SIZE", "export_file", "export_otlp", "otlp_json", "parse_otlp_json", "record_spans", "spans"]

BATCH_SIZE = 512
_SCOPE = InstrumentationScope("gensandbox.ledger")
_ID_FIELDS = ("traceId", "spanId", "parentSpanId")
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)


# ---- Records to spans ----


def spans(records: Iterable[dict]) -> Iterator[ReadableSpan]:
    """Every call record's spans and every tool call's, lazily; checkpoints (signatures, not calls) are skipped."""
    resource = _resource()  # one object for all: the encoder groups spans by it
    for record in records:
        if record.get("kind") == CALL:
            yield from record_spans(record, resource)
        elif record.get("kind") == TOOL:
            yield executed_tool_span(record, resource)


def record_spans(record: dict, resource: Resource | None = None) -> list[ReadableSpan]:
    """The call's tool steps (just before it, beside it in the tree), then the call itself."""
    resource = resource or _resource()
    trace_id = _id(record.get("trace_id"), 32, record["hash"][:32])
    span_id = _id(record.get("span_id"), 16, record["hash"][32:48])
    parent = record.get("parent_span_id")
    parent_context = _context(trace_id, _id(parent, 16, parent)) if parent else None
    start = time_ns(record["time"])
    steps = record.get("gensandbox.tool_steps") or []
    tool_spans = [_tool_span(record, step, index, trace_id, parent_context, start - (len(steps) - index), resource)
                  for index, step in enumerate(steps)]
    return [*tool_spans, _call_span(record, _context(trace_id, span_id), parent_context, start, resource)]


def _resource() -> Resource:
    """Fixed, not detected: the spans describe calls the ledger recorded, not the process exporting them (the
    SDK's detected default would add this process's random service.instance.id, new on every export)."""
    return Resource({"service.name": "gensandbox"})


def _call_span(record: dict, context: SpanContext, parent: SpanContext | None, start: int,
               resource: Resource) -> ReadableSpan:
    operation = record.get("gen_ai.operation.name", "chat")
    failed = record.get("gensandbox.status") == "error"
    return ReadableSpan(
        name=f"{operation} {record.get('gen_ai.request.model', '')}".strip(),
        context=context, parent=parent, resource=resource, kind=SpanKind.CLIENT,
        attributes=_attributes(record),
        status=Status(StatusCode.ERROR, record.get("error.type")) if failed else Status(StatusCode.UNSET),
        start_time=start, end_time=start + round((record.get("gensandbox.latency_s") or 0.0) * 1e9),
        instrumentation_scope=_SCOPE,
    )


def _tool_span(record: dict, step: dict, index: int, trace_id: int, parent: SpanContext | None, at: int,
               resource: Resource) -> ReadableSpan:
    """Zero-length: the ledger knows a tool ran before the call that carried its result, not when or how long.
    Its id is derived from the record, so it too is the same on every export."""
    name, call_id = str(step.get("name") or "tool"), str(step.get("id") or "")
    span_id = int(sha256_hex(f"{record['hash']}:{index}:{call_id}".encode())[:16], 16) or 1
    attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name, "gen_ai.tool.call.id": call_id,
                  "gensandbox.ledger.seq": record["seq"], "gensandbox.ledger.hash": record["hash"]}
    if step.get("sha256"):
        attributes["gensandbox.tool.result_sha256"] = str(step["sha256"])
    return ReadableSpan(name=f"execute_tool {name}", context=_context(trace_id, span_id), parent=parent,
                        resource=resource, kind=SpanKind.INTERNAL, attributes=attributes,
                        start_time=at, end_time=at, instrumentation_scope=_SCOPE)


def executed_tool_span(record: dict, resource: Resource | None = None) -> ReadableSpan:
    """A tool call an evaluation's environment ran: its own record, so its span has its real time and duration,
    under the model call that asked for it."""
    trace_id = _id(record.get("trace_id"), 32, record["hash"][:32])
    parent = record.get("parent_span_id")
    start = time_ns(record["time"])
    failed = record.get("gensandbox.status") != "ok"
    return ReadableSpan(
        name=f"execute_tool {record.get('gen_ai.tool.name', 'tool')}",
        context=_context(trace_id, _id(record.get("span_id"), 16, record["hash"][32:48])),
        parent=_context(trace_id, _id(parent, 16, parent)) if parent else None,
        resource=resource or _resource(), kind=SpanKind.INTERNAL, attributes=_attributes(record),
        status=Status(StatusCode.ERROR, record.get("error.type")) if failed else Status(StatusCode.UNSET),
        start_time=start, end_time=start + round((record.get("gensandbox.latency_s") or 0.0) * 1e9),
        instrumentation_scope=_SCOPE,
    )


def _attributes(record: dict) -> dict:
    """The record's gen_ai.*, gensandbox.* and error.type fields. OpenTelemetry attributes hold scalars and
    lists of scalars, so structured values (messages, tool steps) travel as canonical JSON strings."""
    attributes = {key: _attribute_value(value) for key, value in record.items()
                  if (key.startswith(("gen_ai.", "gensandbox.")) or key == "error.type") and value is not None}
    attributes["gensandbox.ledger.seq"] = record["seq"]
    attributes["gensandbox.ledger.hash"] = record["hash"]
    return attributes


def _attribute_value(value):
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return canonical(value).decode()


def _id(value: str | None, digits: int, derived: str) -> int:
    """An id of `digits` hex digits, never zero (OpenTelemetry's "invalid"). Ids arrive from callers (a parent
    span named in a header), so one that is not hex becomes a hash of itself: stable, and still a valid id."""
    text = value or derived
    if len(text) != digits or not all(char in "0123456789abcdefABCDEF" for char in text):
        text = sha256_hex(text.encode())[:digits]
    return int(text, 16) or 1


def _context(trace_id: int, span_id: int) -> SpanContext:
    return SpanContext(trace_id, span_id, is_remote=False, trace_flags=_SAMPLED)


def _batches(records: Iterable[dict], size: int) -> Iterator[list[ReadableSpan]]:
    stream = spans(records)
    while batch := list(islice(stream, size)):
        yield batch


# ---- OTLP/HTTP ----


def export_otlp(records: Iterable[dict], endpoint: str, timeout_s: float = 10.0, batch_size: int = BATCH_SIZE) -> int:
    """Send the records' spans to an OTLP/HTTP endpoint (e.g. http://127.0.0.1:4318/v1/traces); returns how
    many spans were sent. The exporter retries what is worth retrying within `timeout_s` per batch."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    exporter, sent = OTLPSpanExporter(endpoint=endpoint, timeout=timeout_s), 0
    try:
        with _exporter_complaints() as complaints:
            for batch in _batches(records, batch_size):
                complaints.said.clear()  # only this batch's: an earlier retry that then succeeded is no reason
                if exporter.export(batch) is not SpanExportResult.SUCCESS:
                    raise RunError(f"could not export spans to {endpoint} ({sent} sent before): "
                                   f"{complaints.reason()}")
                sent += len(batch)
    finally:
        exporter.shutdown()
    return sent


class _Complaints(logging.Handler):
    """The first complaint says why (a refused connection, a 400), the last what came of it (retries ran out)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.said: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = " ".join(record.getMessage().split())  # one line, whatever the exporter wrote
        self.said.append(re.sub(r",? retrying in [0-9.]+s\.?$", "", text))

    def reason(self) -> str:
        return "; ".join(dict.fromkeys(self.said[:1] + self.said[-1:])) or "no reason given"


@contextmanager
def _exporter_complaints() -> Iterator[_Complaints]:
    """The exporter logs why an export failed and returns only FAILURE. Keep what it says for our one-line
    error rather than letting it print more lines (and tracebacks) of its own."""
    logger = logging.getLogger("opentelemetry.exporter")
    handler, propagate = _Complaints(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


# ---- OTLP/JSON file ----


def export_file(records: Iterable[dict], path: Path, batch_size: int = BATCH_SIZE) -> int:
    """Write the records' spans as an OTLP/JSON file, one ExportTraceServiceRequest a line: what the
    Collector's file exporter writes and its otlpjsonfile receiver reads. Returns how many spans were written."""
    written = 0
    try:
        with Path(path).open("wb") as out:
            for batch in _batches(records, batch_size):
                out.write(otlp_json(batch) + b"\n")
                written += len(batch)
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror or error}") from None
    return written


def otlp_json(batch: Sequence[ReadableSpan]) -> bytes:
    """One request in OTLP/JSON: protobuf's JSON mapping with the two changes OTLP requires of it: trace and
    span ids in hex (the mapping would write base64, which collectors reject) and enums as integers."""
    message = json_format.MessageToDict(encode_spans(batch), use_integers_for_enums=True)
    _recode_ids(message, lambda value: base64.b64decode(value).hex())
    return orjson.dumps(message)


def parse_otlp_json(line: bytes | str) -> ExportTraceServiceRequest:
    """The inverse of `otlp_json`: one line of an OTLP/JSON file as a protobuf request."""
    message = orjson.loads(line)
    _recode_ids(message, lambda value: base64.b64encode(bytes.fromhex(value)).decode())
    return json_format.ParseDict(message, ExportTraceServiceRequest())


def _recode_ids(message: dict, recode) -> None:
    for resource_spans in message.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                for item in (span, *span.get("links", [])):
                    for field in _ID_FIELDS:
                        if item.get(field):
                            item[field] = recode(item[field])
