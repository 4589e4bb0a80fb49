"""Ledger records as OpenTelemetry spans: sent to a real OTLP/HTTP receiver on 127.0.0.1, written as OTLP/JSON
and read back, and the `trace` and `otel` commands end to end."""

from __future__ import annotations

import base64
import gzip
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest
import typer
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from typer.testing import CliRunner

from gensandbox.canonical import sha256_hex
from gensandbox.cli import ledger as ledger_cli
from gensandbox.cli import trace as trace_cli
from gensandbox.errors import NotFoundError, RunError, UserError
from gensandbox.ledger.events import CHECKPOINT, Head, call_event, chain
from gensandbox.ledger.otel import export_file, export_otlp, parse_otlp_json, record_spans, spans
from gensandbox.ledger.sqlite import SQLiteLedger
from gensandbox.ledger.traces import time_ns
from tests.ledger.test_traces import CHILD, LAST, ROOT, SESSION, TRACE, facts, session_contents, session_records


class Receiver(ThreadingHTTPServer):
    """An OTLP/HTTP trace receiver: keeps each decoded request; answers `status`."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.requests: list[ExportTraceServiceRequest] = []
        self.paths: list[str] = []
        self.status = 200

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1/traces"

    def spans(self) -> list[Span]:
        return [span for request in self.requests for resource in request.resource_spans
                for scope in resource.scope_spans for span in scope.spans]


class _ReceiverHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        assert self.headers["Content-Type"] == "application/x-protobuf"
        self.server.paths.append(self.path)
        self.server.requests.append(ExportTraceServiceRequest.FromString(body))
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):  # quiet: pytest shows what matters
        pass


@pytest.fixture
def receiver():
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def by_name(spans_: list[Span]) -> dict[str, Span]:
    return {span.name: span for span in spans_}


def attributes(span: Span) -> dict:
    return {item.key: json_format.MessageToDict(item.value) for item in span.attributes}


# ---- OTLP/HTTP ----


def test_a_session_arrives_as_spans_with_the_ledgers_ids_and_times(receiver):
    records = session_records()
    assert export_otlp(records, receiver.endpoint) == 5  # three calls, two tool steps
    assert receiver.paths == ["/v1/traces"]
    received = by_name(receiver.spans())
    assert set(received) == {"chat fast", "chat claude-x", "execute_tool search", "execute_tool fetch"}
    calls = [span for span in receiver.spans() if span.name.startswith("chat ")]
    assert {span.trace_id.hex() for span in receiver.spans()} == {TRACE}
    assert {span.span_id.hex(): span.parent_span_id.hex() for span in calls} == {ROOT: "", CHILD: ROOT, LAST: ""}
    assert all(span.kind == Span.SpanKind.SPAN_KIND_CLIENT for span in calls)
    first = next(span for span in calls if span.span_id.hex() == ROOT)
    assert first.start_time_unix_nano == time_ns("2026-03-01T10:00:00+00:00")
    assert first.end_time_unix_nano - first.start_time_unix_nano == 1_200_000_000


def test_call_spans_carry_the_gen_ai_attributes_and_their_ledger_record(receiver):
    records = session_records()
    export_otlp(records, receiver.endpoint)
    child = by_name(receiver.spans())["chat claude-x"]
    values = attributes(child)
    record = next(r for r in records if r["span_id"] == CHILD)
    assert values["gen_ai.provider.name"] == {"stringValue": "openai"}
    assert values["gen_ai.request.model"] == values["gen_ai.response.model"] == {"stringValue": "claude-x"}
    assert values["gen_ai.usage.input_tokens"] == {"intValue": "0"}
    assert values["gen_ai.conversation.id"] == {"stringValue": SESSION}
    assert values["error.type"] == {"stringValue": "ProviderTimeoutError"}
    assert values["gensandbox.ledger.seq"] == {"intValue": str(record["seq"])}
    assert values["gensandbox.ledger.hash"] == {"stringValue": record["hash"]}
    assert "trace_id" not in values and "seq" not in values
    assert child.status.code == Status.StatusCode.STATUS_CODE_ERROR
    assert child.status.message == "ProviderTimeoutError"
    ok = attributes(by_name(receiver.spans())["chat fast"])
    assert ok["gen_ai.response.finish_reasons"] == {"arrayValue": {"values": [{"stringValue": "stop"}]}}
    assert ok["gensandbox.cost_usd"]["doubleValue"] > 0


def test_tool_steps_are_zero_length_siblings_just_before_their_call(receiver):
    export_otlp(session_records(), receiver.endpoint)
    received = by_name(receiver.spans())
    search, fetch = received["execute_tool search"], received["execute_tool fetch"]
    last = next(span for span in receiver.spans() if span.span_id.hex() == LAST)
    for tool, call_id in ((search, "call_1"), (fetch, "call_2")):
        assert tool.parent_span_id == last.parent_span_id and tool.trace_id == last.trace_id
        assert tool.start_time_unix_nano == tool.end_time_unix_nano < last.start_time_unix_nano
        assert attributes(tool)["gen_ai.operation.name"] == {"stringValue": "execute_tool"}
        assert attributes(tool)["gen_ai.tool.call.id"] == {"stringValue": call_id}
    assert attributes(search)["gen_ai.tool.name"] == {"stringValue": "search"}
    assert search.start_time_unix_nano < fetch.start_time_unix_nano  # in the order the agent sent them
    assert len({search.span_id, fetch.span_id, last.span_id}) == 3
    structured = attributes(last)["gensandbox.tool_steps"]["stringValue"]
    assert orjson.loads(structured)[0]["name"] == "search"  # lists of dicts travel as JSON


def test_spans_go_in_batches(receiver):
    assert export_otlp(session_records(None), receiver.endpoint, batch_size=2) == 6
    assert [len(request.resource_spans[0].scope_spans[0].spans) for request in receiver.requests] == [2, 2, 2]
    resource = receiver.requests[0].resource_spans[0].resource
    assert {item.key: item.value.string_value for item in resource.attributes} == {"service.name": "gensandbox"}


def test_a_refused_export_is_one_clear_line(receiver):
    receiver.status = 400
    with pytest.raises(RunError) as raised:
        export_otlp(session_records(), receiver.endpoint)
    message = str(raised.value)
    assert receiver.endpoint in message and "400" in message and "\n" not in message


def test_no_receiver_is_one_line_that_says_so():
    # Refused connections are retried: 2 s leaves room for one retry, whose warning carries the cause.
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(RunError) as raised:
        export_otlp(session_records(), f"http://127.0.0.1:{port}/v1/traces", timeout_s=2)
    assert "refused" in str(raised.value) and "\n" not in str(raised.value)


def test_a_call_without_trace_ids_gets_stable_ids_from_its_hash():
    record = orjson.loads(chain([call_event(facts(session=None, trace_id=None, route=None), "hashes")],
                                Head())[0].line)
    span, again = record_spans(record)[0], record_spans(dict(record))[0]
    assert span.context.trace_id == int(record["hash"][:32], 16)
    assert span.context.span_id == int(record["hash"][32:48], 16)
    assert span.parent is None and (again.context.trace_id, again.context.span_id) == (
        span.context.trace_id, span.context.span_id)


def test_a_parent_that_is_not_a_span_id_still_gives_a_valid_one():
    record = orjson.loads(chain([call_event(facts(span_id=ROOT, parent_span_id="planner step 3"), "hashes")],
                                Head())[0].line)
    parent = record_spans(record)[0].parent
    assert parent is not None and parent.is_valid
    assert parent.span_id == int(sha256_hex(b"planner step 3")[:16], 16)


# ---- OTLP/JSON file ----


def _with_base64_ids(value):
    """OTLP/JSON writes ids in hex; protobuf's JSON mapping expects base64."""
    if isinstance(value, dict):
        return {key: base64.b64encode(bytes.fromhex(item)).decode()
                if key in ("traceId", "spanId", "parentSpanId") else _with_base64_ids(item)
                for key, item in value.items()}
    return [_with_base64_ids(item) for item in value] if isinstance(value, list) else value


def test_the_file_is_otlp_json_one_request_a_line(tmp_path):
    records = session_records(None)
    path = tmp_path / "spans.jsonl"
    assert export_file(records, path, batch_size=4) == 6
    lines = path.read_bytes().splitlines()
    assert len(lines) == 2
    first_span = orjson.loads(lines[0])["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert len(first_span["traceId"]) == 32 and len(first_span["spanId"]) == 16  # hex, as OTLP/JSON requires
    assert first_span["kind"] == 3  # enums as integers: SPAN_KIND_CLIENT
    read_back = [json_format.Parse(orjson.dumps(_with_base64_ids(orjson.loads(line))), ExportTraceServiceRequest())
                 for line in lines]
    all_spans = list(spans(records))
    assert read_back == [encode_spans(all_spans[:4]), encode_spans(all_spans[4:])]
    assert [parse_otlp_json(line) for line in lines] == read_back


def test_the_same_ledger_gives_the_same_file(tmp_path):
    export_file(session_records(), tmp_path / "a.jsonl")
    export_file(session_records(), tmp_path / "b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_an_unwritable_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="cannot write"):
        export_file(session_records(), tmp_path / "missing" / "spans.jsonl")


# ---- The commands ----


@pytest.fixture
def cli(home, monkeypatch):
    """The two commands on a bare app, over a SQLite ledger in GENSANDBOX_HOME holding the test session."""
    monkeypatch.delenv("GENSANDBOX_LEDGER_URL", raising=False)
    ledger = SQLiteLedger(home / "ledger.db")
    ledger.append(session_contents(), lambda head: {"kind": CHECKPOINT, "head": head.hash})
    ledger.close()
    app = typer.Typer()
    app.command("trace")(trace_cli.trace)
    app.command("otel")(ledger_cli.spans)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_trace_shows_the_timeline_and_summary(cli):
    result = cli("trace", SESSION)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any("fast → gpt-4o-mini" in line and "+0 ms" in line for line in lines)
    assert any("└ claude-x" in line and "error: ProviderTimeoutError" in line for line in lines)
    assert any("tool search (call_1)" in line for line in lines)
    assert "3 calls, 1 failed, 2 tool steps, 470 tokens (400 in / 70 out), 0.005000 USD, 5.00 s wall time, " \
           "models: gpt-4o-mini, claude-x" in result.stdout


def test_trace_json_and_exports(cli, receiver, tmp_path):
    result = cli("trace", SESSION, "--json", "--otlp", receiver.endpoint, "--otlp-file", str(tmp_path / "s.jsonl"))
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.stdout)
    assert [step["kind"] for step in data["steps"]] == ["call", "call", "tool", "tool", "call"]
    assert data["summary"]["total_tokens"] == 470 and data["trace_ids"] == [TRACE]
    assert "exported 5 spans to" in result.stderr and "wrote 5 spans to" in result.stderr
    assert len(receiver.spans()) == 5


def test_trace_of_an_unknown_session(cli):
    result = cli("trace", "nobody")
    assert isinstance(result.exception, NotFoundError)
    assert str(result.exception) == ("no calls recorded for session nobody; sessions are named with the "
                                     "x-gensandbox-session header or metadata.session_id")


def test_otel_exports_every_call_or_one_session(cli, receiver, tmp_path):
    result = cli("otel", "--otlp", receiver.endpoint, "--file", str(tmp_path / "all.jsonl"))
    assert result.exit_code == 0, result.output
    assert "exported 6 spans to" in result.stdout and "wrote 6 spans to" in result.stdout
    assert sum(1 for span in receiver.spans() if span.name.startswith("chat ")) == 4
    result = cli("otel", "--session", "agent-2", "--file", str(tmp_path / "one.jsonl"))
    assert "wrote 1 span to" in result.stdout
    (line,) = (tmp_path / "one.jsonl").read_bytes().splitlines()
    (span,) = parse_otlp_json(line).resource_spans[0].scope_spans[0].spans
    assert span.span_id.hex() == "1111111111111111"


def test_otel_needs_a_destination(cli):
    result = cli("otel")
    assert isinstance(result.exception, UserError) and "--otlp" in str(result.exception)


def test_records_of_other_kinds_are_not_spans():
    assert list(spans([{"kind": CHECKPOINT}, {"kind": "something else"}])) == []
