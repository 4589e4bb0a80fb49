"""With no configuration at all, the gateway serves the embedded local models to the openai SDK."""

import openai
import pytest

from gensandbox.config import load_config
from gensandbox.gateway import create_app
from gensandbox.store import SQLiteStore
from tests.upstream import BackgroundServer

QWEN = "local/qwen2.5-coder-0.5b-instruct"
QUESTION = [{"role": "user", "content": "What is the capital of France? Answer with the city name only."}]


@pytest.fixture
def server(home):
    """The gateway with no configuration at all, serving the embedded models."""
    config = load_config()
    served = BackgroundServer(create_app(config, SQLiteStore(config.database_path)), lifespan="on").start()
    yield served
    served.stop()


@pytest.mark.slow
def test_embedded_model_through_the_sdk_plain_and_streamed(server):
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    assert QWEN in [m.id for m in client.models.list()]
    raw = client.chat.completions.with_raw_response.create(model=QWEN, messages=QUESTION, temperature=0,
                                                           max_tokens=16)
    assert "Paris" in raw.parse().choices[0].message.content
    assert float(raw.headers["x-gensandbox-cost-usd"]) > 0  # measured seconds × the compute rate
    chunks = list(client.chat.completions.create(model=QWEN, messages=QUESTION, temperature=0, max_tokens=16,
                                                 stream=True, stream_options={"include_usage": True}))
    assert "Paris" in "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].usage.completion_tokens >= 1 and chunks[-1].usage.prompt_tokens > 10


GEMMA = "local/gemma-3-270m"
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
PARIS = [{"role": "user", "content": "What is the weather like in Paris right now?"}]
PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJ"
       "RU5ErkJggg==")


@pytest.mark.slow
def test_embedded_model_calls_tools_through_the_sdk_plain_and_streamed(server):
    import json

    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    answer = client.chat.completions.create(model=QWEN, messages=PARIS, tools=[WEATHER], temperature=0, seed=7,
                                            max_tokens=48)
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    # the app answers the call; the model sees the result through its chat template
    followed = client.chat.completions.create(model=QWEN, tools=[WEATHER], temperature=0, seed=7, max_tokens=4,
                                              messages=[*PARIS, choice.message.model_dump(exclude_none=True),
                                                        {"role": "tool", "tool_call_id": call.id,
                                                         "content": '{"temperature_c": 18}'}])
    assert followed.usage.prompt_tokens > answer.usage.prompt_tokens
    chunks = list(client.chat.completions.create(model=QWEN, messages=PARIS, tools=[WEATHER], temperature=0,
                                                 seed=7, max_tokens=48, stream=True,
                                                 stream_options={"include_usage": True}))
    pieces = [piece for chunk in chunks if chunk.choices for piece in chunk.choices[0].delta.tool_calls or ()]
    assert pieces[0].function.name == "get_weather" and pieces[0].id.startswith("call_0_")
    assert json.loads("".join(p.function.arguments or "" for p in pieces)) == {"city": "Paris"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].usage.prompt_tokens == answer.usage.prompt_tokens  # the streamed count renders the tools
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
              "additionalProperties": False}
    structured = client.chat.completions.create(
        model=QWEN, messages=QUESTION, temperature=0, max_tokens=24,
        response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": schema}})
    assert json.loads(structured.choices[0].message.content) == {"city": "Paris"}
    scored = client.chat.completions.create(model=QWEN, messages=QUESTION, temperature=0, max_tokens=8,
                                            logprobs=True, top_logprobs=2)
    tokens = scored.choices[0].logprobs.content
    assert "".join(t.token for t in tokens) == scored.choices[0].message.content == "Paris"
    assert tokens[0].logprob < 0 and len(tokens[0].top_logprobs) == 2


@pytest.mark.slow
@pytest.mark.parametrize("model, extra, parameter", [
    (GEMMA, {"tools": [WEATHER]}, "tools"),  # a base model: no chat template to show tools in
    (GEMMA, {"response_format": {"type": "json_object"}}, "response_format"),
    (QWEN, {"messages": [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                                      {"type": "image_url", "image_url": {"url": PNG}}]}]},
     "messages[0].content"),  # no vision projector ships with the embedded model
])
def test_what_an_embedded_model_cannot_honour_is_refused_by_name(server, model, extra, parameter):
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(**{"model": model, "messages": QUESTION, "max_tokens": 4, **extra})
    assert refused.value.body["code"] == "unsupported_parameter"
    assert refused.value.body["param"] == parameter and model in refused.value.body["message"]


@pytest.mark.slow
def test_embedded_model_calls_tools_through_the_responses_and_messages_apis(server):
    """The same tool call from the embedded Qwen, asked through OpenAI's Responses API and Anthropic's Messages API
    with their official SDKs."""
    import json

    import anthropic

    responses = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0).responses.create(
        model=QWEN, input=PARIS[0]["content"], temperature=0, max_output_tokens=48,
        tools=[{"type": "function", **WEATHER["function"]}])
    (call,) = [item for item in responses.output if item.type == "function_call"]
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}
    message = anthropic.Anthropic(base_url=server.url, api_key="unused", max_retries=0).messages.create(
        model=QWEN, max_tokens=48, messages=PARIS, extra_body={"temperature": 0},
        tools=[{"name": "get_weather", "description": WEATHER["function"]["description"],
                "input_schema": WEATHER["function"]["parameters"]}])
    (use,) = [block for block in message.content if block.type == "tool_use"]
    assert message.stop_reason == "tool_use" and use.name == "get_weather" and use.input == {"city": "Paris"}


@pytest.mark.slow
def test_an_openai_agents_agent_runs_its_tool_loop_on_the_embedded_model(server):
    """Both steps of an Agents SDK run on the embedded Qwen through the Responses API: the model calls the tool
    with the right argument, the SDK runs it and sends the result back, and the model's next turn ends the run.
    (What that last turn says is the 0.5B model's own: it answers tool results poorly, so only that it is text.)"""
    from agents import Agent, ModelSettings, OpenAIResponsesModel, RunConfig, Runner, function_tool

    looked_up = []

    @function_tool
    def get_weather(city: str) -> str:
        """Get the current weather in a city."""
        looked_up.append(city)
        return f"Sunny, 21 degrees in {city}"

    model = OpenAIResponsesModel(model=QWEN, openai_client=openai.AsyncOpenAI(
        base_url=f"{server.url}/v1", api_key="unused", max_retries=0))
    agent = Agent(name="weather", instructions="Use the tool, then answer the user in one sentence.",
                  tools=[get_weather], model=model, model_settings=ModelSettings(temperature=0, max_tokens=60))
    result = Runner.run_sync(agent, "What is the weather in Paris?", max_turns=4,
                             run_config=RunConfig(tracing_disabled=True))
    assert looked_up == ["Paris"]
    assert isinstance(result.final_output, str) and result.final_output.strip()
