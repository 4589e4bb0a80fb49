"""An agent session through the live gateway: calls named by session and parent span, tool results sent
back between them, then `gensandbox trace` shows the timeline and the spans go to an OTLP file."""

import openai

from gensandbox.cli.app import main
from gensandbox.gateway.sessions import tool_steps, trace_context
from gensandbox.gateway.wire import ChatCompletionRequest, to_chat_request


def test_an_agent_session_becomes_a_timeline_and_spans(gateway, tmp_path, capsys):
    api = openai.OpenAI(base_url=gateway.base_url, api_key="x", max_retries=0)
    plan = api.chat.completions.with_raw_response.create(
        model="echo", messages=[{"role": "user", "content": "plan the trip"}],
        extra_headers={"x-gensandbox-session": "trip-42"})
    root_span = plan.headers["x-gensandbox-span"]
    api.chat.completions.create(
        model="echo", metadata={"session_id": "trip-42", "parent_span_id": root_span},
        messages=[{"role": "user", "content": "plan the trip"},
                  {"role": "assistant", "content": None, "tool_calls": [
                      {"id": "call_1", "type": "function", "function": {"name": "search_flights", "arguments": "{}"}}]},
                  {"role": "tool", "tool_call_id": "call_1", "content": "KE123 09:00"}])
    gateway.records()  # the batch writer has run
    capsys.readouterr()

    assert main(["trace", "trip-42", "--json", "-c", str(gateway.config_path)]) == 0
    import json

    timeline = json.loads(capsys.readouterr().out)
    assert timeline["summary"]["calls"] == 2 and timeline["summary"]["tool_steps"] == 1
    kinds = [step.get("kind") for step in timeline["steps"]]
    assert kinds.count("tool") == 1 and kinds.count("call") == 2

    assert main(["trace", "trip-42", "-c", str(gateway.config_path)]) == 0
    shown = capsys.readouterr().out
    assert "search_flights" in shown and "echo" in shown

    spans_file = tmp_path / "spans.jsonl"
    assert main(["ledger", "spans", "--session", "trip-42", "--file", str(spans_file),
                 "-c", str(gateway.config_path)]) == 0
    text = spans_file.read_text()
    assert "chat echo" in text and "execute_tool search_flights" in text and "gen_ai.usage.input_tokens" in text

    assert main(["trace", "nobody", "-c", str(gateway.config_path)]) == 1
    assert "no calls recorded for session nobody" in capsys.readouterr().err


def test_trace_context_prefers_headers_and_steps_are_the_trailing_tool_results():
    body = ChatCompletionRequest.model_validate({
        "model": "m", "metadata": {"session_id": "from-metadata", "parent_span_id": "p1"},
        "messages": [{"role": "user", "content": "q"},
                     {"role": "assistant", "tool_calls": [{"id": "a", "function": {"name": "f", "arguments": "{}"}}]},
                     {"role": "tool", "tool_call_id": "a", "content": "1"},
                     {"role": "tool", "tool_call_id": "b", "name": "g", "content": "2"}]})
    header_wins = trace_context("from-header", None, body.metadata)
    assert header_wins.session == "from-header" and header_wins.parent_span_id == "p1"
    same_session = trace_context(None, None, body.metadata)
    assert same_session.trace_id == trace_context(None, None, body.metadata).trace_id  # stable per session
    assert same_session.span_id != trace_context(None, None, body.metadata).span_id  # new per call
    messages = to_chat_request(body, "m").messages
    assert [(s["id"], s["name"]) for s in tool_steps(messages)] == [("a", "f"), ("b", "g")]
