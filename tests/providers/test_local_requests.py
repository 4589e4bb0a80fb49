"""The full request model on the real embedded models through llama.cpp: tools, tool_choice, parallel_tool_calls,
response_format and the sampling parameters (marked slow: seconds, not milliseconds)."""

import json
from dataclasses import replace

import jsonschema
import pytest

from gensandbox.providers.capabilities import IMAGES, JSON_SCHEMA, LOGPROBS, NAMED_TOOL, SEED, TOOLS, TOP_P
from gensandbox.types import ChatRequest, Message, ResponseFormat, Tool, ToolCall, ToolChoice
from tests.providers.test_local import GEMMA, QWEN, provider

WEATHER = Tool("get_weather", "Get the current weather in a city",
               {"type": "object", "properties": {"city": {"type": "string", "description": "The city name"}},
                "required": ["city"]})
TIME = Tool("get_time", "Get the current time in a time zone",
            {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"],
             "additionalProperties": False})
PARIS = (Message("user", "What is the weather like in Paris right now?"),)


def weather_request(**fields) -> ChatRequest:
    return ChatRequest(**{"model": "local", "messages": PARIS, "max_tokens": 48, "temperature": 0.0, "seed": 7,
                          "tools": (WEATHER,), **fields})


@pytest.mark.slow
def test_capabilities_follow_the_chat_template(home):
    qwen, gemma = provider(home, QWEN), provider(home, GEMMA)
    assert {TOOLS, NAMED_TOOL, JSON_SCHEMA, TOP_P, SEED} <= qwen.capabilities  # its template renders tools
    assert TOOLS not in gemma.capabilities and JSON_SCHEMA not in gemma.capabilities  # a base model: no template
    assert IMAGES not in qwen.capabilities  # no vision projector ships with it
    assert LOGPROBS in qwen.capabilities and LOGPROBS in gemma.capabilities


@pytest.mark.slow
async def test_qwen_calls_the_weather_tool(home):
    response = await provider(home, QWEN).complete(weather_request())
    assert response.finish_reason == "tool_calls"
    assert [call.name for call in response.tool_calls] == ["get_weather"]
    assert json.loads(response.tool_calls[0].arguments) == {"city": "Paris"}
    assert response.tool_calls[0].id.startswith("call_0_")
    assert response.text == ""


@pytest.mark.slow
async def test_a_named_tool_is_called_even_when_the_question_is_about_another(home):
    response = await provider(home, QWEN).complete(weather_request(
        tools=(WEATHER, TIME), tool_choice=ToolChoice("function", "get_time")))
    assert response.finish_reason == "tool_calls"
    assert [call.name for call in response.tool_calls] == ["get_time"]
    jsonschema.validate(json.loads(response.tool_calls[0].arguments), TIME.parameters)


@pytest.mark.slow
async def test_required_forces_a_call_where_the_model_would_answer_in_text(home):
    qwen = provider(home, QWEN)
    question = (Message("user", "Write a haiku about autumn."),)
    free = await qwen.complete(weather_request(messages=question, tool_choice=ToolChoice("auto")))
    forced = await qwen.complete(weather_request(messages=question, tool_choice=ToolChoice("required")))
    assert free.tool_calls == () and free.text
    assert [call.name for call in forced.tool_calls] == ["get_weather"]
    jsonschema.validate(json.loads(forced.tool_calls[0].arguments), WEATHER.parameters)


@pytest.mark.slow
async def test_tool_choice_none_hides_the_tools(home):
    qwen = provider(home, QWEN)
    with_tools = weather_request(max_tokens=8)
    response = await qwen.complete(weather_request(max_tokens=8, tool_choice=ToolChoice("none")))
    assert response.tool_calls == () and response.text
    assert response.usage.input_tokens < qwen.count_prompt_tokens(with_tools) - 50  # the tools are not rendered


@pytest.mark.slow
async def test_parallel_tool_calls_false_allows_one_call(home):
    response = await provider(home, QWEN).complete(weather_request(
        messages=(Message("user", "What is the weather in Paris, in Tokyo and in Lima?"),),
        tool_choice=ToolChoice("required"), parallel_tool_calls=False, max_tokens=80))
    assert len(response.tool_calls) == 1 and response.finish_reason == "tool_calls"


@pytest.mark.slow
def test_tool_calls_stream_as_pieces(home):
    import threading

    qwen = provider(home, QWEN)
    deltas = list(qwen.stream_blocking(weather_request(), threading.Event()))
    pieces = [piece for delta in deltas for piece in delta.tool_calls]
    assert [(p.index, p.name) for p in pieces] == [(0, "get_weather"), (0, None)]
    assert json.loads(pieces[1].arguments) == {"city": "Paris"}
    assert "".join(delta.text for delta in deltas) == ""
    assert deltas[-1].finish_reason == "tool_calls"
    assert deltas[-1].usage.input_tokens == qwen.count_prompt_tokens(weather_request())


@pytest.mark.slow
async def test_a_tool_result_turn_renders_through_the_template(home):
    """The assistant's call and the tool's result go to the template in OpenAI's form; the prompt count (which
    renders the same template) agrees with llama.cpp's to the token."""
    qwen = provider(home, QWEN)
    call = ToolCall("call_0_ab", "get_weather", '{"city": "Paris"}')
    request = weather_request(max_tokens=1, messages=(
        *PARIS, Message("assistant", "", tool_calls=(call,)),
        Message("tool", '{"temperature_c": 18, "sky": "sunny"}', tool_call_id="call_0_ab")))
    response = await qwen.complete(request)
    assert response.usage.input_tokens == qwen.count_prompt_tokens(request)
    assert response.usage.input_tokens > qwen.count_prompt_tokens(weather_request()) + 30


CITY = {"type": "object", "additionalProperties": False, "required": ["city", "country", "population_millions"],
        "properties": {"city": {"type": "string"}, "country": {"type": "string"},
                       "population_millions": {"type": "number"}}}


@pytest.mark.slow
async def test_json_schema_answer_parses_and_validates(home):
    response = await provider(home, QWEN).complete(ChatRequest(
        model="local", messages=(Message("user", "Describe the capital of France as JSON."),), max_tokens=60,
        response_format=ResponseFormat("json_schema", "city", CITY, strict=True)))
    answer = json.loads(response.text)
    jsonschema.validate(answer, CITY)
    assert answer["city"] == "Paris"


@pytest.mark.slow
async def test_json_object_answer_is_an_object(home):
    response = await provider(home, QWEN).complete(ChatRequest(
        model="local", messages=(Message("user", "Give me a JSON object whose key answer holds 2+2."),),
        max_tokens=30, response_format=ResponseFormat("json_object")))
    assert isinstance(json.loads(response.text), dict)


@pytest.mark.slow
async def test_sampling_parameters_reach_llama_cpp(home):
    """A seed makes sampling at temperature 0.9 repeatable; top_p and the penalties change what is sampled."""
    qwen = provider(home, QWEN)
    sampled = ChatRequest(model="local", messages=(Message("user", "Say the word yes again and again."),),
                          max_tokens=24, temperature=0.9, seed=11)
    first = await qwen.complete(sampled)
    # Another prompt between the two, so both evaluate the prompt the same way (not one of them from llama.cpp's
    # prompt cache, whose last-token logits may differ in the lowest bits and so change what is sampled).
    await qwen.complete(ChatRequest(model="local", messages=(Message("user", "Hello"),), max_tokens=2))
    again = await qwen.complete(sampled)
    assert first.text == again.text
    narrowed = await qwen.complete(replace(sampled, top_p=0.01))
    greedy = await qwen.complete(replace(sampled, temperature=0.0))
    assert narrowed.text == greedy.text  # top_p 0.01 keeps only the likeliest token
    assert greedy.text.lower().count("yes") >= 10  # measured: twelve
    for penalty in ({"presence_penalty": 2.0}, {"frequency_penalty": 2.0}):
        penalised = await qwen.complete(replace(sampled, temperature=0.0, **penalty))
        assert penalised.text.lower().count("yes") < 10, penalty  # measured: three with presence_penalty


def token_texts(logprobs: dict) -> list[str]:
    return [entry["token"] for entry in logprobs["content"]]


@pytest.mark.slow
async def test_logprobs_cover_the_answer_token_by_token(home):
    import math
    import threading

    qwen = provider(home, QWEN)
    request = ChatRequest(model="local", messages=(Message("user", "Count from 1 to 10, separated by commas."),),
                          max_tokens=40, logprobs=True, top_logprobs=3)
    response = await qwen.complete(request)
    assert "".join(token_texts(response.logprobs)) == response.text
    assert len(response.logprobs["content"]) == response.usage.output_tokens  # end-of-sequence is not counted
    for entry in response.logprobs["content"]:
        best = entry["top_logprobs"]
        assert len(best) == 3 and [b["logprob"] for b in best] == sorted((b["logprob"] for b in best), reverse=True)
        assert entry["logprob"] == best[0]["logprob"] <= 0  # temperature 0: the likeliest token is the one chosen
        assert sum(math.exp(b["logprob"]) for b in best) <= 1 + 1e-9
        assert bytes(entry["bytes"]).decode() == entry["token"]
    cut = await qwen.complete(replace(request, stop=(", 5",)))
    assert cut.text == "1, 2, 3, 4" and "".join(token_texts(cut.logprobs)) == cut.text  # none past the stop
    streamed = [delta.logprobs for delta in qwen.stream_blocking(request, threading.Event()) if delta.logprobs]
    entries = [entry for piece in streamed for entry in piece["content"]]
    # the same tokens; the numbers agree to rounding (a prompt evaluated whole or after a cached prefix differs a
    # little in llama.cpp's arithmetic)
    assert token_texts({"content": entries}) == token_texts(response.logprobs)
    assert [e["logprob"] for e in entries] == pytest.approx([e["logprob"] for e in response.logprobs["content"]],
                                                            abs=0.05)


@pytest.mark.slow
@pytest.mark.parametrize("name, max_tokens", [(QWEN, 3), (GEMMA, 1)])
async def test_logprobs_of_an_answer_cut_at_max_tokens_include_its_last_token(home, name, max_tokens):
    """The last token is never evaluated (so never seen by the recorder): it is found from the answer's text."""
    response = await provider(home, name).complete(ChatRequest(
        model="local", messages=(Message("user", "Count from 1 to 10, separated by commas."),), max_tokens=max_tokens,
        logprobs=True))
    assert response.finish_reason == "length"
    assert len(response.logprobs["content"]) == max_tokens
    assert "".join(token_texts(response.logprobs)).strip() == response.text
    assert all(entry["top_logprobs"] == [] for entry in response.logprobs["content"])
