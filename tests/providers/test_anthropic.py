import json
from pathlib import Path

import pytest

from gensandbox.errors import ProviderHTTPError, ProviderResponseError
from gensandbox.providers.anthropic import (
    API_VERSION,
    AnthropicProvider,
    request_to_anthropic,
    response_from_anthropic,
)
from gensandbox.types import ChatRequest, Message

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
