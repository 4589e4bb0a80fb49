"""Tools, structured output, images and cache usage through the gateway to a model served by Anthropic's Messages API,
with the official openai SDK, against the scripted loopback upstream: each parameter reaches the upstream in
Anthropic's form (checked against the exact JSON it received), and the answer comes back in OpenAI's."""

from __future__ import annotations

import json

import openai
import pytest

from tests.gateway.conftest import ledger_events, streamed_tool_calls
from tests.gateway.test_tools import PNG, TIME, WEATHER, ask, client

WEATHER_TOOL = {"name": "get_weather", "description": "The weather in a city",
                "input_schema": WEATHER["function"]["parameters"]}
TIME_TOOL = {"name": "get_time", "input_schema": TIME["function"]["parameters"]}


def test_tools_reach_anthropic_in_its_form_and_its_calls_come_back(gateway, recorder):
    answer = client(gateway).chat.completions.create(model="anthropic-tool-caller", messages=ask(), tools=[WEATHER],
                                                     tool_choice="auto", parallel_tool_calls=False, top_p=0.9,
                                                     user="end-user-7")
    (sent,) = recorder.requests
    assert sent["tools"] == [WEATHER_TOOL]
    assert sent["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    assert sent["top_p"] == 0.9 and sent["metadata"] == {"user_id": "end-user-7"}
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    (call,) = choice.message.tool_calls
    assert call.id == "toolu_0" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"query": "서울 날씨"}


def test_streamed_tool_calls_come_back_by_index(gateway):
    stream = client(gateway).chat.completions.create(model="anthropic-parallel-caller", messages=ask("비"),
                                                     tools=[WEATHER, TIME], stream=True)
    calls, finish = streamed_tool_calls(stream)
    assert finish == "tool_calls"
    assert calls == {0: {"id": "toolu_0", "name": "get_weather", "arguments": '{"query": "비"}'},
                     1: {"id": "toolu_1", "name": "get_time", "arguments": '{"query": "비"}'}}
    events = [e for e in ledger_events(gateway.home) if e.get("gensandbox.tool_calls")]
    assert [call["name"] for call in events[-1]["gensandbox.tool_calls"]] == ["get_weather", "get_time"]


def test_parallel_calls_and_the_choices_that_force_a_tool(gateway, recorder):
    parallel = client(gateway).chat.completions.create(model="anthropic-parallel-caller", messages=ask(),
                                                       tools=[WEATHER, TIME], parallel_tool_calls=True)
    assert [c.function.name for c in parallel.choices[0].message.tool_calls] == ["get_weather", "get_time"]
    assert recorder.requests[-1]["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": False}
    named = client(gateway).chat.completions.create(
        model="anthropic-tool-caller", messages=ask(), tools=[WEATHER, TIME],
        tool_choice={"type": "function", "function": {"name": "get_time"}})
    assert recorder.requests[-1]["tool_choice"] == {"type": "tool", "name": "get_time"}
    assert [c.function.name for c in named.choices[0].message.tool_calls] == ["get_time"]
    client(gateway).chat.completions.create(model="anthropic-tool-caller", messages=ask(), tools=[WEATHER],
                                            tool_choice="required")
    assert recorder.requests[-1]["tool_choice"] == {"type": "any"}
    client(gateway).chat.completions.create(model="anthropic-tool-caller", messages=ask(), tools=[WEATHER],
                                            tool_choice="none")
    assert recorder.requests[-1]["tool_choice"] == {"type": "none"}


def test_tool_results_go_back_as_one_user_turn_and_the_model_answers(gateway, recorder):
    calls = [{"id": f"toolu_{i}", "type": "function", "function": {"name": name, "arguments": '{"query": "x"}'}}
             for i, name in enumerate(("get_weather", "get_time"))]
    messages = [{"role": "system", "content": "Be brief."}, *ask(),
                {"role": "assistant", "content": "Let me look.", "tool_calls": calls},
                {"role": "tool", "tool_call_id": "toolu_0", "content": "맑음, 21°C"},
                {"role": "tool", "tool_call_id": "toolu_1", "content": "오후 3시"}]
    answer = client(gateway).chat.completions.create(model="anthropic-tool-caller", messages=messages,
                                                     tools=[WEATHER, TIME])
    assert answer.choices[0].message.content == "tool said: 맑음, 21°C | 오후 3시"
    assert answer.choices[0].finish_reason == "stop"
    sent = recorder.requests[0]
    assert sent["system"] == "Be brief."
    assert sent["messages"] == [
        {"role": "user", "content": "서울 날씨"},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Let me look."},
            {"type": "tool_use", "id": "toolu_0", "name": "get_weather", "input": {"query": "x"}},
            {"type": "tool_use", "id": "toolu_1", "name": "get_time", "input": {"query": "x"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_0", "content": "맑음, 21°C"},
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "오후 3시"}]},
    ]


def test_image_parts_reach_anthropic_as_image_blocks_in_order(gateway, recorder):
    content = [{"type": "text", "text": "what are these?"}, {"type": "image_url", "image_url": {"url": PNG}},
               {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]
    answer = client(gateway).chat.completions.create(model="anthropic-echo",
                                                     messages=[{"role": "user", "content": content}])
    assert recorder.requests[0]["messages"][0]["content"] == [
        {"type": "text", "text": "what are these?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG.split(",", 1)[1]}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}]
    assert answer.choices[0].message.content == "what are these?[image:image/png][image:https://example.com/]"


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_a_json_schema_answer_is_a_forced_tool_whose_input_is_the_answer(gateway, recorder, stream):
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    response_format = {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema, "strict": True}}
    made = client(gateway).chat.completions.create(model="anthropic-echo", messages=ask("hi"), stream=stream,
                                                   response_format=response_format)
    if stream:
        chunks = list(made)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        assert not any(c.choices[0].delta.tool_calls for c in chunks if c.choices)
    else:
        text, finish = made.choices[0].message.content, [made.choices[0].finish_reason]
        assert made.choices[0].message.tool_calls is None
    assert json.loads(text) == {"answer": "hi"} and finish == ["stop"]
    sent = recorder.requests[0]
    assert sent["tools"] == [{"name": "reply", "input_schema": schema, "strict": True}]
    assert sent["tool_choice"] == {"type": "tool", "name": "reply"}


def test_a_json_object_answer_uses_a_generic_object_schema(gateway, recorder):
    answer = client(gateway).chat.completions.create(model="anthropic-echo", messages=ask("hi"),
                                                     response_format={"type": "json_object"})
    assert json.loads(answer.choices[0].message.content) == {"answer": "hi"}
    assert recorder.requests[0]["tools"] == [{"name": "json_answer", "input_schema": {"type": "object"}}]


def test_what_anthropics_api_cannot_carry_is_refused_by_name(gateway, recorder):
    refusals = [
        ({"tools": [WEATHER], "response_format": {"type": "json_object"}}, "response_format"),
        ({"messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": PNG, "detail": "low"}}]}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": "hi", "name": "kim"}]}, "messages[0].name"),
        ({"messages": ask() + [{"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {
            "name": "get_weather", "arguments": "not JSON"}}]}, {"role": "tool", "tool_call_id": "c", "content": "x"}],
          "tools": [WEATHER]}, "messages[1].tool_calls"),
    ]
    for extra, parameter in refusals:
        with pytest.raises(openai.BadRequestError) as refused:
            client(gateway).chat.completions.create(model="anthropic-echo", **{"messages": ask()} | extra)
        assert refused.value.body["code"] == "unsupported_parameter" and refused.value.body["param"] == parameter
    assert recorder.requests == []


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_cache_tokens_count_as_input_and_the_read_ones_as_cached(gateway, stream):
    made = client(gateway).chat.completions.create(model="anthropic-cached", messages=ask("hi"), stream=stream,
                                                   stream_options={"include_usage": True} if stream else None)
    usage = [c.usage for c in made if c.usage][-1] if stream else made.usage
    assert usage.prompt_tokens == 6 + 7 + 100  # uncached + written to the cache + read from it
    assert usage.prompt_tokens_details.cached_tokens == 100
