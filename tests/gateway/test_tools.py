"""Tools, structured output, images and every other chat-completions parameter through the gateway, with the
official openai SDK, against the scripted loopback upstream: each reaches an OpenAI-compatible model as sent, or is
refused with a 400 naming it for a model that cannot honour it. Nothing is dropped and nothing added."""

from __future__ import annotations

import json

import openai
import pytest

from tests.gateway.conftest import ledger_events, streamed_tool_calls

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}}
TIME = {"type": "function", "function": {
    "name": "get_time", "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}}
PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAA"
       "BJRU5ErkJggg==")  # one pixel


def client(gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url, api_key="anything", max_retries=0)


def ask(text: str = "서울 날씨") -> list[dict]:
    return [{"role": "user", "content": text}]


def test_tools_reach_the_upstream_and_its_calls_come_back(gateway, recorder):
    answer = client(gateway).chat.completions.create(model="tool-caller", messages=ask(), tools=[WEATHER],
                                                     tool_choice="auto", parallel_tool_calls=False)
    (sent,) = recorder.requests
    assert sent["tools"] == [WEATHER] and sent["tool_choice"] == "auto" and sent["parallel_tool_calls"] is False
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    (call,) = choice.message.tool_calls
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"query": "서울 날씨"}


def test_a_tool_result_goes_back_with_its_call_and_the_model_answers(gateway, recorder):
    call = {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": '{"query": "x"}'}}
    messages = ask() + [{"role": "assistant", "content": None, "tool_calls": [call]},
                        {"role": "tool", "tool_call_id": "call_0", "content": "맑음, 21°C"}]
    answer = client(gateway).chat.completions.create(model="tool-caller", messages=messages, tools=[WEATHER])
    assert answer.choices[0].message.content == "tool said: 맑음, 21°C"
    sent = recorder.requests[0]["messages"]
    assert sent[1] == {"role": "assistant", "content": None, "tool_calls": [call]}
    assert sent[2] == {"role": "tool", "content": "맑음, 21°C", "tool_call_id": "call_0"}


def test_parallel_tool_calls_and_a_named_tool_choice(gateway, recorder):
    answer = client(gateway).chat.completions.create(model="parallel-caller", messages=ask(), tools=[WEATHER, TIME])
    assert [c.function.name for c in answer.choices[0].message.tool_calls] == ["get_weather", "get_time"]
    forced = client(gateway).chat.completions.create(
        model="tool-caller", messages=ask(), tools=[WEATHER, TIME],
        tool_choice={"type": "function", "function": {"name": "get_time"}})
    assert recorder.requests[-1]["tool_choice"] == {"type": "function", "function": {"name": "get_time"}}
    assert [c.function.name for c in forced.choices[0].message.tool_calls] == ["get_time"]


def test_streamed_tool_calls_arrive_piece_by_piece_by_index(gateway):
    stream = client(gateway).chat.completions.create(model="parallel-caller", messages=ask("비"),
                                                     tools=[WEATHER, TIME], stream=True)
    calls, finish = streamed_tool_calls(stream)
    assert finish == "tool_calls"
    assert calls == {0: {"id": "call_0", "name": "get_weather", "arguments": '{"query": "비"}'},
                     1: {"id": "call_1", "name": "get_time", "arguments": '{"query": "비"}'}}


def test_the_ledger_records_the_calls_the_model_made(gateway):
    client(gateway).chat.completions.create(model="tool-caller", messages=ask(), tools=[WEATHER])
    client(gateway).chat.completions.create(model="tool-caller", messages=ask(), tools=[WEATHER], stream=True)
    events = [e for e in ledger_events(gateway.home) if e.get("gensandbox.tool_calls")]
    assert len(events) == 2
    for event in events:
        (call,) = event["gensandbox.tool_calls"]
        assert call["name"] == "get_weather" and len(call["arguments_sha256"]) == 64
        assert "tools" in event["gensandbox.features"]


def test_json_schema_response_format_reaches_the_upstream(gateway, recorder):
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"],
              "additionalProperties": False}
    answer = client(gateway).chat.completions.create(
        model="echo", messages=ask("hi"),
        response_format={"type": "json_schema", "json_schema": {"name": "reply", "schema": schema, "strict": True}})
    assert recorder.requests[0]["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "reply", "schema": schema, "strict": True}}
    assert json.loads(answer.choices[0].message.content) == {"answer": "hi"}


def test_an_image_part_reaches_the_upstream_in_order(gateway, recorder):
    content = [{"type": "text", "text": "what is this?"},
               {"type": "image_url", "image_url": {"url": PNG, "detail": "low"}}]
    answer = client(gateway).chat.completions.create(model="echo", messages=[{"role": "user", "content": content}])
    assert recorder.requests[0]["messages"][0]["content"] == content
    assert answer.choices[0].message.content == "what is this?[image:data:image/png;base6]"


def test_every_sampling_parameter_reaches_the_upstream_and_unknown_ones_pass_unchanged(gateway, recorder):
    client(gateway).chat.completions.create(
        model="echo", messages=ask(), top_p=0.5, presence_penalty=0.1, frequency_penalty=-0.2, logprobs=True,
        top_logprobs=2, user="end-user-7", seed=3, reasoning_effort="low", metadata={"session_id": "s-1"},
        extra_body={"logit_bias": {"50256": -100}, "repetition_penalty": 1.1, "ignored_by_nobody": None})
    sent = recorder.requests[0]
    assert {k: sent[k] for k in ("top_p", "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs",
                                 "user", "seed", "reasoning_effort", "logit_bias", "repetition_penalty",
                                 "metadata")} == {
        "top_p": 0.5, "presence_penalty": 0.1, "frequency_penalty": -0.2, "logprobs": True, "top_logprobs": 2,
        "user": "end-user-7", "seed": 3, "reasoning_effort": "low", "logit_bias": {"50256": -100},
        "repetition_penalty": 1.1, "metadata": {"session_id": "s-1"}}
    assert "ignored_by_nobody" not in sent  # null is "not sent", as in OpenAI's API


@pytest.mark.parametrize("extra, parameter", [
    ({"seed": 1}, "seed"),
    ({"logprobs": True}, "logprobs"),
    ({"presence_penalty": 0.5}, "presence_penalty"),
    ({"extra_body": {"logit_bias": {"1": 2}}}, "logit_bias"),
])
def test_a_parameter_an_anthropic_model_cannot_honour_is_refused_by_name(gateway, recorder, extra, parameter):
    with pytest.raises(openai.BadRequestError) as refused:
        client(gateway).chat.completions.create(model="anthropic-echo", messages=ask(), **extra)
    error = refused.value.body
    assert error["code"] == "unsupported_parameter" and error["param"] == parameter
    assert "anthropic-echo" in error["message"] and recorder.requests == []


def test_a_message_field_or_content_part_the_gateway_does_not_know_is_refused_by_name(gateway, recorder):
    with pytest.raises(openai.BadRequestError) as refused:
        client(gateway).chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "x", "audio_hint": "loud"}])
    assert refused.value.body["param"] == "messages.0.user.audio_hint"
    with pytest.raises(openai.BadRequestError) as refused:
        client(gateway).chat.completions.create(
            model="echo", messages=[{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}])
    assert refused.value.body["param"].startswith("messages.0.user.content")
    assert recorder.requests == []


def test_a_route_skips_models_that_cannot_honour_the_request_and_says_so(gateway, recorder):
    raw = client(gateway).chat.completions.with_raw_response.create(model="route:mixed", messages=ask(),
                                                                     seed=4)
    assert raw.headers["x-gensandbox-model"] == "echo"
    assert "skipped anthropic-echo (cannot honour seed)" in raw.headers["x-gensandbox-route"]
    assert [r["model"] for r in recorder.requests] == ["echo"]
