import json
from pathlib import Path

import pytest

from gensandbox.errors import ProviderHTTPError, ProviderResponseError, RunError
from gensandbox.providers.anthropic import (
    API_VERSION,
    AnthropicProvider,
    StreamState,
    delta_from_anthropic_event,
    request_to_anthropic,
    response_from_anthropic,
)
from gensandbox.types import (
    ChatRequest,
    ContentPart,
    Message,
    ResponseFormat,
    Tool,
    ToolCall,
    ToolCallDelta,
    ToolChoice,
    Usage,
    join_tool_calls,
)

FIXTURES = Path(__file__).parent / "fixtures"


def ask(model: str, text: str = "Capital of France?") -> ChatRequest:
    return ChatRequest(model=model, max_tokens=64, stop=("###",), messages=(
        Message("system", "Answer briefly."), Message("system", "Use English."), Message("user", text)))


def test_system_messages_move_to_the_top_level_field():
    payload = request_to_anthropic(ask("claude"))
    assert payload["system"] == "Answer briefly.\n\nUse English."
    assert payload["messages"] == [{"role": "user", "content": "Capital of France?"}]
    assert payload["max_tokens"] == 64
    assert payload["stop_sequences"] == ["###"]
    assert "seed" not in payload  # the Messages API has no seed


def test_response_joins_text_blocks_and_maps_stop_reason():
    body = json.loads((FIXTURES / "anthropic_message.json").read_text())
    response = response_from_anthropic(body, latency_s=1.5)
    assert response.text == "The capital of France is Paris."
    assert response.finish_reason == "length"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (14, 9)


def test_malformed_message_is_a_response_error():
    with pytest.raises(ProviderResponseError, match="not an Anthropic message"):
        response_from_anthropic({"type": "message"}, 0.1)


async def test_round_trip_against_loopback_server(upstream, recorder):
    provider = AnthropicProvider(upstream.url, api_key="sk-ant-secret")
    response = await provider.complete(ask("echo", "Seoul"))
    await provider.aclose()
    assert response.text == "Seoul"
    assert response.finish_reason == "stop"
    assert response.usage.input_tokens == 6
    assert recorder.headers[0]["x-api-key"] == "sk-ant-secret"
    assert recorder.headers[0]["anthropic-version"] == API_VERSION
    assert recorder.requests[0]["system"] == "Answer briefly.\n\nUse English."


async def test_error_body_message_is_surfaced(upstream):
    provider = AnthropicProvider(upstream.url, api_key="sk-ant-secret")
    with pytest.raises(ProviderHTTPError, match="upstream exploded") as caught:
        await provider.complete(ask("error-500"))
    await provider.aclose()
    assert caught.value.status == 500
    assert "sk-ant-secret" not in str(caught.value)


def test_tools_and_tool_choice_in_anthropics_form():
    tools = (Tool("find", "Search", {"type": "object"}, strict=True), Tool("now"))
    request = ChatRequest(model="claude", messages=(Message("user", "hi"),), tools=tools,
                          tool_choice=ToolChoice("function", "find"), parallel_tool_calls=False, seed=None)
    payload = request_to_anthropic(request)
    assert payload["tools"] == [{"name": "find", "input_schema": {"type": "object"}, "description": "Search",
                                 "strict": True},
                                {"name": "now", "input_schema": {"type": "object", "properties": {}}}]
    assert payload["tool_choice"] == {"type": "tool", "name": "find", "disable_parallel_tool_use": True}
    only_parallel = request_to_anthropic(ChatRequest(model="claude", messages=request.messages, tools=tools,
                                                     parallel_tool_calls=True))
    assert only_parallel["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": False}
    assert "tool_choice" not in request_to_anthropic(ChatRequest(model="claude", messages=request.messages,
                                                                 tools=tools))


def test_a_percent_encoded_data_url_is_sent_base64_encoded():
    image = ContentPart("image", url="data:image/gif,GIF89a%01")
    payload = request_to_anthropic(ChatRequest(model="claude", messages=(Message("user", "", (image,)),)))
    assert payload["messages"][0]["content"] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/gif", "data": "R0lGODlhAQ=="}}]


def test_tool_call_arguments_that_are_not_a_json_object_fail_the_call_rather_than_change():
    call = Message("assistant", "", tool_calls=(ToolCall("toolu_1", "find", "[1, 2]"),))
    with pytest.raises(RunError, match="not a JSON object"):
        request_to_anthropic(ChatRequest(model="claude", messages=(Message("user", "hi"), call)))


def test_tool_use_blocks_become_tool_calls_and_cache_tokens_count_as_input():
    body = {"model": "claude", "stop_reason": "tool_use", "content": [
        {"type": "text", "text": "Looking."},
        {"type": "tool_use", "id": "toolu_1", "name": "find", "input": {"q": "서울"}}],
        "usage": {"input_tokens": 5, "cache_creation_input_tokens": 3, "cache_read_input_tokens": 40,
                  "output_tokens": 9}}
    response = response_from_anthropic(body, 0.1)
    assert response.text == "Looking." and response.finish_reason == "tool_calls"
    assert response.tool_calls == (ToolCall("toolu_1", "find", '{"q": "서울"}'),)
    assert response.usage == Usage(input_tokens=48, output_tokens=9, cached_input_tokens=40)


def test_a_json_answer_is_asked_through_a_forced_tool_and_read_back_as_text():
    request = ChatRequest(model="claude", messages=(Message("user", "hi"),),
                          response_format=ResponseFormat("json_schema", "reply", {"type": "object"}))
    payload = request_to_anthropic(request)
    assert payload["tools"] == [{"name": "reply", "input_schema": {"type": "object"}}]
    assert payload["tool_choice"] == {"type": "tool", "name": "reply"}
    body = {"stop_reason": "tool_use", "usage": {},
            "content": [{"type": "tool_use", "id": "t", "name": "reply", "input": {"answer": "hi"}}]}
    response = response_from_anthropic(body, 0.1, answer_tool="reply")
    assert (response.text, response.finish_reason, response.tool_calls) == ('{"answer": "hi"}', "stop", ())


def test_stream_events_give_tool_call_pieces_by_call_index():
    events = [
        {"type": "message_start", "message": {"usage": {"input_tokens": 4, "cache_read_input_tokens": 10}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Looking."}},
        {"type": "content_block_start", "index": 1,
         "content_block": {"type": "tool_use", "id": "toolu_1", "name": "find", "input": {}}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"q": '}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '"x"}'}},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 7}},
    ]
    state = StreamState()
    deltas = [delta for event in events if (delta := delta_from_anthropic_event(event, state)) is not None]
    assert deltas[1].tool_calls == (ToolCallDelta(0, "toolu_1", "find", ""),)
    assert join_tool_calls(piece for d in deltas for piece in d.tool_calls) == (
        ToolCall("toolu_1", "find", '{"q": "x"}'),)
    assert deltas[-1].finish_reason == "tool_calls"
    assert deltas[-1].usage == Usage(input_tokens=14, output_tokens=7, cached_input_tokens=10)


def test_a_streamed_json_answer_streams_the_forced_tools_input_as_text():
    state = StreamState(answer_tool="reply")
    events = [
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "tool_use", "id": "t", "name": "reply", "input": {}}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": '{"a'}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": '": 1}'}},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 3}},
    ]
    deltas = [delta for event in events if (delta := delta_from_anthropic_event(event, state)) is not None]
    assert "".join(d.text for d in deltas) == '{"a": 1}' and not any(d.tool_calls for d in deltas)
    assert deltas[-1].finish_reason == "stop"
