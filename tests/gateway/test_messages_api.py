"""Anthropic's Messages API at the gateway (POST /v1/messages), through the official anthropic SDK, unmodified,
against the scripted loopback upstream: the same models answer as through chat completions, whether the model
behind speaks OpenAI's format or Anthropic's, and every answer is on the record with its receipt."""

from __future__ import annotations

import anthropic
import httpx
import pytest

from tests.gateway.conftest import ledger_events
from tests.gateway.test_tools import PNG

WEATHER = {"name": "get_weather", "description": "The weather in a city",
           "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}
TIME = {"name": "get_time", "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}}}


def client(gateway, api_key: str = "anything") -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway.url, api_key=api_key, max_retries=0)


def ask(text: str = "서울 날씨") -> list[dict]:
    return [{"role": "user", "content": text}]


@pytest.mark.parametrize("model", ["echo", "anthropic-echo"])
def test_a_plain_message_is_answered_recorded_and_receipted(gateway, recorder, model):
    raw = client(gateway).messages.with_raw_response.create(
        model=model, max_tokens=64, system="Be brief.", messages=ask("hello there"), stop_sequences=["###"],
        metadata={"user_id": "end-user-7"}, extra_body={"temperature": 0.5})  # this SDK sends it only so
    message = raw.parse()
    assert message.type == "message" and message.role == "assistant" and message.model == model
    assert [block.text for block in message.content] == ["hello there"]
    assert message.stop_reason == "end_turn" and message.usage.output_tokens == 2
    assert raw.headers["x-gensandbox-receipt"] and raw.headers["x-gensandbox-model"] == model
    (sent,) = recorder.requests
    if model == "echo":  # an OpenAI-compatible upstream: the same request in OpenAI's form
        assert sent["messages"] == [{"role": "system", "content": "Be brief."},
                                    {"role": "user", "content": "hello there"}]
        assert (sent["max_tokens"], sent["temperature"], sent["stop"], sent["user"]) == (64, 0.5, ["###"],
                                                                                         "end-user-7")
        assert "seed" not in sent  # nothing the app did not send
    else:
        assert sent["system"] == "Be brief." and sent["messages"] == [{"role": "user", "content": "hello there"}]
        assert (sent["max_tokens"], sent["temperature"], sent["stop_sequences"], sent["metadata"]) == (
            64, 0.5, ["###"], {"user_id": "end-user-7"})
    (event,) = ledger_events(gateway.home)
    assert event["gen_ai.request.model"] == model


@pytest.mark.parametrize("model", ["echo", "anthropic-echo"])
def test_a_streamed_message_through_the_sdks_stream_helper(gateway, model):
    with client(gateway).messages.stream(model=model, max_tokens=64, messages=ask("one two three")) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "one two three" and [b.text for b in final.content] == ["one two three"]
    assert final.stop_reason == "end_turn" and final.usage.output_tokens == 3 and final.usage.input_tokens > 0
    assert ledger_events(gateway.home)[-1]["gen_ai.request.model"] == model


def test_a_raw_stream_ends_with_message_stop_carrying_the_receipt(gateway):
    events = list(client(gateway).messages.create(model="echo", max_tokens=64, messages=ask("a b"), stream=True))
    assert [e.type for e in events] == ["message_start", "content_block_start", "content_block_delta",
                                        "content_block_delta", "content_block_stop", "message_delta", "message_stop"]
    assert events[-1].model_extra["gensandbox_receipt"]
    assert events[-2].delta.stop_reason == "end_turn"


@pytest.mark.parametrize("model", ["tool-caller", "anthropic-tool-caller"])
def test_tool_use_comes_back_and_a_tool_result_goes_round(gateway, recorder, model):
    first = client(gateway).messages.create(model=model, max_tokens=64, messages=ask(), tools=[WEATHER],
                                            tool_choice={"type": "auto", "disable_parallel_tool_use": True})
    assert first.stop_reason == "tool_use"
    (use,) = first.content
    assert use.type == "tool_use" and use.name == "get_weather" and use.input == {"query": "서울 날씨"}
    sent = recorder.requests[0]
    if model == "tool-caller":
        assert sent["tools"] == [{"type": "function", "function": {
            "name": "get_weather", "description": "The weather in a city", "parameters": WEATHER["input_schema"]}}]
        assert (sent["tool_choice"], sent["parallel_tool_calls"]) == ("auto", False)
    else:
        assert sent["tools"] == [WEATHER]
        assert sent["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    history = ask() + [{"role": "assistant", "content": [use.model_dump(exclude_none=True)]},
                       {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id,
                                                     "content": "맑음, 21°C"}]}]
    second = client(gateway).messages.create(model=model, max_tokens=64, messages=history, tools=[WEATHER])
    assert [b.text for b in second.content] == ["tool said: 맑음, 21°C"] and second.stop_reason == "end_turn"
    sent = recorder.requests[1]["messages"]
    if model == "tool-caller":
        assert sent[1:] == [
            {"role": "assistant", "content": None, "tool_calls": [{"id": use.id, "type": "function", "function": {
                "name": "get_weather", "arguments": '{"query": "서울 날씨"}'}}]},
            {"role": "tool", "content": "맑음, 21°C", "tool_call_id": use.id}]
    else:
        assert sent[1:] == history[1:]  # Anthropic to Anthropic: exactly as the app sent it
    events = [e for e in ledger_events(gateway.home) if e.get("gensandbox.tool_calls")]
    assert [call["name"] for call in events[0]["gensandbox.tool_calls"]] == ["get_weather"]


@pytest.mark.parametrize("model", ["parallel-caller", "anthropic-parallel-caller"])
def test_streamed_tool_use_blocks_arrive_whole(gateway, model):
    with client(gateway).messages.stream(model=model, max_tokens=64, messages=ask("비"), tools=[WEATHER, TIME],
                                         tool_choice={"type": "any"}) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert [(b.type, b.name, b.input) for b in final.content] == [
        ("tool_use", "get_weather", {"query": "비"}), ("tool_use", "get_time", {"query": "비"})]


def test_a_named_tool_choice_and_an_image_reach_the_upstream(gateway, recorder):
    content = [{"type": "text", "text": "what is this?"},
               {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                            "data": PNG.split(",", 1)[1]}}]
    client(gateway).messages.create(model="anthropic-tool-caller", max_tokens=64, tools=[WEATHER, TIME],
                                    tool_choice={"type": "tool", "name": "get_time"},
                                    messages=[{"role": "user", "content": content}])
    sent = recorder.requests[0]
    assert sent["tool_choice"] == {"type": "tool", "name": "get_time"} and sent["messages"][0]["content"] == content
    answer = client(gateway).messages.create(model="echo", max_tokens=64,
                                             messages=[{"role": "user", "content": content}])
    assert recorder.requests[1]["messages"][0]["content"] == [
        {"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {"url": PNG}}]
    assert answer.content[0].text == "what is this?[image:data:image/png;base6]"


def test_cache_reads_are_reported_apart_from_input_tokens(gateway):
    message = client(gateway).messages.create(model="anthropic-cached", max_tokens=64, messages=ask("hi"))
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens) == (6 + 7, 100)


def test_what_the_gateway_cannot_honour_is_refused_by_name(gateway, recorder):
    with pytest.raises(anthropic.BadRequestError) as refused:
        client(gateway).messages.create(model="echo", max_tokens=64, messages=ask(), extra_body={"top_k": 5})
    assert refused.value.body["error"]["param"] == "top_k"
    with pytest.raises(anthropic.BadRequestError) as refused:
        client(gateway).messages.create(model="echo", max_tokens=64, messages=[{"role": "user", "content": [
            {"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}]}])
    assert refused.value.body["error"]["param"] == "messages.0.user.content.0.text.cache_control"
    missing = httpx.post(f"{gateway.url}/v1/messages", json={"model": "echo", "messages": ask()})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "max_tokens"
    assert missing.json()["type"] == "error" and missing.json()["error"]["type"] == "invalid_request_error"
    assert recorder.requests == []


def test_keys_are_read_from_x_api_key(gateway):
    """The anthropic SDK sends its key in x-api-key: a known key is charged, an unknown one refused."""
    secret, key_id = gateway.add_key(role="developer")
    with pytest.raises(anthropic.AuthenticationError):
        client(gateway, api_key="gsk-not-a-key").messages.create(model="echo", max_tokens=8, messages=ask())
    client(gateway, api_key=secret).messages.create(model="echo", max_tokens=8, messages=ask())
    assert ledger_events(gateway.home)[-1]["gensandbox.key_id"] == key_id


def test_a_stream_that_breaks_ends_with_an_error_event_and_is_recorded(gateway):
    with pytest.raises(anthropic.APIStatusError, match="stopped answering mid-stream"):
        with client(gateway).messages.stream(model="breaks", max_tokens=8, messages=ask("a b c d")) as stream:
            "".join(stream.text_stream)
    records = gateway.records()
    assert (records[-1]["model"], records[-1]["status"]) == ("breaks", 502)
