"""Every parameter of chat completions, one at a time, to an OpenAI-compatible model and to an Anthropic model:
each reaches the upstream (as that API spells it) or is refused with a 400 naming it. The table must name every
parameter the gateway's request model has, so a parameter added later cannot go untested, or be dropped unseen."""

from __future__ import annotations

import openai
import pytest

from gensandbox.gateway.wire import ChatCompletionRequest

TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}}
REFUSED = "refused"
# What the gateway itself acts on (the stream's framing, the model's name, the conversation) is tested elsewhere.
HANDLED_BY_THE_GATEWAY = {"model", "messages", "stream", "stream_options", "n"}

# parameter: (what the app sends, what an OpenAI-compatible upstream receives, what an Anthropic upstream receives)
# An expectation is {key: value} that must be in the upstream's request body, or REFUSED.
MATRIX = {
    "max_tokens": ({"max_tokens": 7}, {"max_tokens": 7}, {"max_tokens": 7}),
    "max_completion_tokens": ({"max_completion_tokens": 8}, {"max_tokens": 8}, {"max_tokens": 8}),
    "temperature": ({"temperature": 0.3}, {"temperature": 0.3}, {"temperature": 0.3}),
    "top_p": ({"top_p": 0.9}, {"top_p": 0.9}, {"top_p": 0.9}),
    "stop": ({"stop": ["END"]}, {"stop": ["END"]}, {"stop_sequences": ["END"]}),
    "seed": ({"seed": 11}, {"seed": 11}, REFUSED),
    "presence_penalty": ({"presence_penalty": 0.5}, {"presence_penalty": 0.5}, REFUSED),
    "frequency_penalty": ({"frequency_penalty": 0.5}, {"frequency_penalty": 0.5}, REFUSED),
    "logprobs": ({"logprobs": True}, {"logprobs": True}, REFUSED),
    "top_logprobs": ({"logprobs": True, "top_logprobs": 3}, {"top_logprobs": 3}, REFUSED),
    "tools": ({"tools": [TOOL]}, {"tools": [TOOL]},
              {"tools": [{"name": "f", "input_schema": {"type": "object", "properties": {}}}]}),
    "tool_choice": ({"tools": [TOOL], "tool_choice": "required"}, {"tool_choice": "required"},
                    {"tool_choice": {"type": "any"}}),
    "parallel_tool_calls": ({"tools": [TOOL], "parallel_tool_calls": False}, {"parallel_tool_calls": False},
                            {"tool_choice": {"type": "auto", "disable_parallel_tool_use": True}}),
    "response_format": ({"response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": SCHEMA}}},
                        {"response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": SCHEMA}}},
                        {"tool_choice": {"type": "tool", "name": "r"}}),
    "reasoning_effort": ({"reasoning_effort": "low"}, {"reasoning_effort": "low"}, REFUSED),
    "metadata": ({"metadata": {"team": "a"}}, {"metadata": {"team": "a"}}, {}),  # Anthropic's: kept by the gateway
    "user": ({"user": "u-1"}, {"user": "u-1"}, {"metadata": {"user_id": "u-1"}}),
}
PASSTHROUGH = ({"logit_bias": {"1": 5}}, {"logit_bias": {"1": 5}}, REFUSED)  # a parameter GenSandbox does not know


def test_the_matrix_names_every_parameter_of_the_request_model():
    assert set(ChatCompletionRequest.model_fields) - HANDLED_BY_THE_GATEWAY == set(MATRIX)


@pytest.mark.parametrize("parameter", [*MATRIX, "(unknown)"])
@pytest.mark.parametrize("model, column", [("echo", 1), ("anthropic-echo", 2)])
def test_each_parameter_reaches_the_upstream_or_is_refused_by_name(gateway, recorder, parameter, model, column):
    row = MATRIX.get(parameter, PASSTHROUGH)
    sent, expected = row[0], row[column]
    client = openai.OpenAI(base_url=gateway.base_url, api_key="anything", max_retries=0)
    arguments = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    if expected == REFUSED:
        with pytest.raises(openai.BadRequestError) as refused:
            client.chat.completions.create(**arguments, extra_body=sent)
        assert refused.value.body["code"] == "unsupported_parameter" and refused.value.body["param"] in sent
        assert recorder.requests == []
        return
    client.chat.completions.create(**arguments, extra_body=sent)
    (received,) = recorder.requests
    for key, value in expected.items():
        assert received[key] == value, f"{parameter} arrived as {key}={received.get(key)!r}, not {value!r}"
