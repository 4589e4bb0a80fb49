"""POST /v1/responses through the official openai SDK's `responses.create` and an openai-agents Agent, unmodified,
against the scripted loopback upstream: the same core, routes, ledger and receipts as chat completions."""

from __future__ import annotations

import json

import openai
import pytest

from tests.gateway.conftest import ledger_events

WEATHER = {"type": "function", "name": "get_weather", "description": "The weather in a city",
           "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}


def client(gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url, api_key="anything", max_retries=0)


def test_a_plain_response_with_instructions(gateway, recorder):
    response = client(gateway).responses.create(model="echo", instructions="Be brief.", input="안녕하세요",
                                                max_output_tokens=50, temperature=0.2)
    assert response.output_text == "안녕하세요" and response.status == "completed"
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    sent = recorder.requests[0]
    assert sent["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "안녕하세요"}]
    assert (sent["max_tokens"], sent["temperature"]) == (50, 0.2)
    raw = client(gateway).responses.with_raw_response.create(model="echo", input="x")
    assert raw.headers["x-gensandbox-receipt"] and raw.headers["x-gensandbox-model"] == "echo"


# The same scripted tool-calling model behind an OpenAI-compatible API and behind Anthropic's.
TOOL_CALLERS = pytest.mark.parametrize("model", ["tool-caller", "anthropic-tool-caller"])


@TOOL_CALLERS
def test_a_function_tool_call_and_its_output_round_trip(gateway, recorder, model):
    first = client(gateway).responses.create(model=model, input="서울 날씨", tools=[WEATHER])
    (call,) = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather" and json.loads(call.arguments) == {"query": "서울 날씨"}
    if model == "tool-caller":
        assert recorder.requests[0]["tools"] == [{"type": "function", "function": {
            "name": "get_weather", "description": "The weather in a city", "parameters": WEATHER["parameters"]}}]
    else:
        assert recorder.requests[0]["tools"] == [{"name": "get_weather", "description": "The weather in a city",
                                                  "input_schema": WEATHER["parameters"]}]
    second = client(gateway).responses.create(
        model=model, tools=[WEATHER],
        input=[{"role": "user", "content": "서울 날씨"}, {"type": "function_call", "call_id": call.call_id,
                                                     "name": call.name, "arguments": call.arguments},
               {"type": "function_call_output", "call_id": call.call_id, "output": "맑음"}])
    assert second.output_text == "tool said: 맑음"
    if model == "tool-caller":
        assert recorder.requests[1]["messages"][1:] == [
            {"role": "assistant", "content": None, "tool_calls": [{"id": call.call_id, "type": "function",
                                                                  "function": {"name": "get_weather",
                                                                               "arguments": call.arguments}}]},
            {"role": "tool", "content": "맑음", "tool_call_id": call.call_id}]


def test_previous_response_id_continues_the_stored_conversation_for_the_same_key_only(gateway, recorder):
    first = client(gateway).responses.create(model="tool-caller", input="부산 날씨", tools=[WEATHER])
    (call,) = [item for item in first.output if item.type == "function_call"]
    second = client(gateway).responses.create(
        model="tool-caller", tools=[WEATHER], previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "비"}])
    assert second.output_text == "tool said: 비"
    assert [m["role"] for m in recorder.requests[-1]["messages"]] == ["user", "assistant", "tool"]
    with pytest.raises(openai.NotFoundError) as missing:
        client(gateway).responses.create(model="echo", input="x", previous_response_id="resp_nope")
    assert missing.value.body["param"] == "previous_response_id"
    unstored = client(gateway).responses.create(model="echo", input="x", store=False)
    with pytest.raises(openai.NotFoundError):
        client(gateway).responses.create(model="echo", input="y", previous_response_id=unstored.id)


def test_another_key_cannot_continue_a_stored_response(gateway):
    (first_key, _), (second_key, _) = gateway.add_key(), gateway.add_key()
    mine = openai.OpenAI(base_url=gateway.base_url, api_key=first_key, max_retries=0)
    theirs = openai.OpenAI(base_url=gateway.base_url, api_key=second_key, max_retries=0)
    made = mine.responses.create(model="echo", input="비밀")
    assert mine.responses.create(model="echo", input="more", previous_response_id=made.id).output_text == "more"
    with pytest.raises(openai.NotFoundError):
        theirs.responses.create(model="echo", input="more", previous_response_id=made.id)


@TOOL_CALLERS
def test_a_streamed_response_with_text_and_with_a_function_call(gateway, model):
    with client(gateway).responses.stream(model=model.replace("tool-caller", "echo"), input="one two three") \
            as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == "one two three" and final.output_text == "one two three"
    assert final.usage.output_tokens == 3
    with client(gateway).responses.stream(model=model, input="날씨", tools=[WEATHER]) as stream:
        pieces = [event.delta for event in stream if event.type == "response.function_call_arguments.delta"]
        final = stream.get_final_response()
    (call,) = [item for item in final.output if item.type == "function_call"]
    assert "".join(pieces) == call.arguments and json.loads(call.arguments) == {"query": "날씨"}


def test_a_json_schema_text_format_reaches_the_upstream(gateway, recorder):
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"],
              "additionalProperties": False}
    response = client(gateway).responses.create(
        model="echo", input="hi", text={"format": {"type": "json_schema", "name": "reply", "schema": schema,
                                                   "strict": True}})
    assert json.loads(response.output_text) == {"answer": "hi"}
    assert recorder.requests[0]["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "reply", "schema": schema, "strict": True}}


@pytest.mark.parametrize("extra, parameter", [
    ({"tools": [{"type": "web_search"}]}, "tools.0"),
    ({"extra_body": {"background": True}}, "background"),
    ({"truncation": "auto"}, "truncation"),
    ({"input": [{"type": "reasoning", "summary": []}]}, "input.0"),
])
def test_what_the_responses_api_can_carry_but_the_gateway_cannot_honour_is_refused_by_name(gateway, recorder,
                                                                                          extra, parameter):
    arguments = {"model": "echo", "input": "x"} | extra
    with pytest.raises(openai.BadRequestError) as refused:
        client(gateway).responses.create(**arguments)
    assert refused.value.body["param"].startswith(parameter) and recorder.requests == []


def test_responses_are_on_the_ledger_like_chat_completions(gateway):
    client(gateway).responses.create(model="tool-caller", input="날씨", tools=[WEATHER])
    (event,) = [e for e in ledger_events(gateway.home) if e["gen_ai.request.model"] == "tool-caller"]
    assert event["gensandbox.tool_calls"][0]["name"] == "get_weather" and event["gensandbox.status"] == "ok"


@TOOL_CALLERS
def test_an_openai_agents_agent_completes_a_two_step_task_through_the_gateway(gateway, recorder, model):
    from agents import Agent, OpenAIResponsesModel, RunConfig, Runner, function_tool

    looked_up = []

    @function_tool
    def get_weather(query: str) -> str:
        """The weather in a city."""
        looked_up.append(query)
        return "맑음, 21도"

    responses = OpenAIResponsesModel(model=model, openai_client=openai.AsyncOpenAI(
        base_url=gateway.base_url, api_key="anything", max_retries=0))
    agent = Agent(name="weather", instructions="Answer with the weather.", tools=[get_weather], model=responses)
    result = Runner.run_sync(agent, "서울 날씨", run_config=RunConfig(tracing_disabled=True))
    assert looked_up == ["서울 날씨"] and result.final_output == "tool said: 맑음, 21도"
    assert len(recorder.requests) == 2
