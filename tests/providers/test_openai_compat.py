import json
from pathlib import Path

import pytest

from gensandbox.errors import (
    ProviderConnectionError,
    ProviderHTTPError,
    ProviderResponseError,
    ProviderTimeoutError,
)
from gensandbox.providers.openai_compat import OpenAICompatProvider, request_to_openai, response_from_openai
from gensandbox.types import ChatRequest, Message
from tests.upstream import unused_port

FIXTURES = Path(__file__).parent / "fixtures"


def ask(model: str, text: str = "What is the capital of Korea?") -> ChatRequest:
    return ChatRequest(model=model, messages=(Message("system", "Be brief."), Message("user", text)),
                       max_tokens=32, stop=("\n\n",))


def test_request_to_openai_carries_every_field():
    payload = request_to_openai(ask("deepseek-chat"))
    assert payload == {
        "model": "deepseek-chat",
        "messages": [{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": "What is the capital of Korea?"}],
        "max_tokens": 32, "temperature": 0.0, "stop": ["\n\n"], "seed": 0,
    }


def test_response_from_openai_reads_a_saved_completion():
    body = json.loads((FIXTURES / "openai_chat_completion.json").read_text())
    response = response_from_openai(body, latency_s=0.25)
    assert response.text == "서울입니다."
    assert response.finish_reason == "stop"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (21, 4)
    assert response.model == "deepseek-chat"
    assert response.latency_s == 0.25


def test_response_without_choices_is_a_clear_error():
    with pytest.raises(ProviderResponseError, match="not an OpenAI chat completion"):
        response_from_openai({"object": "list"}, 0.1)


async def test_round_trip_against_loopback_server(upstream, recorder):
    provider = OpenAICompatProvider(f"{upstream.url}/v1", api_key="sk-test-secret")
    response = await provider.complete(ask("echo", "Paris"))
    await provider.aclose()
    assert response.text == "Paris"
    assert response.usage.output_tokens == 1
    assert response.latency_s > 0
    assert recorder.requests[0]["messages"][0] == {"role": "system", "content": "Be brief."}
    assert recorder.headers[0]["authorization"] == "Bearer sk-test-secret"


async def test_no_api_key_sends_no_authorization_header(upstream, recorder):
    provider = OpenAICompatProvider(f"{upstream.url}/v1")
    await provider.complete(ask("echo"))
    await provider.aclose()
    assert "authorization" not in recorder.headers[0]


async def test_server_error_becomes_provider_http_error_with_message(upstream):
    provider = OpenAICompatProvider(f"{upstream.url}/v1", api_key="sk-test-secret")
    with pytest.raises(ProviderHTTPError) as caught:
        await provider.complete(ask("error-500"))
    await provider.aclose()
    assert caught.value.status == 500
    assert "upstream exploded" in str(caught.value)
    assert "sk-test-secret" not in str(caught.value)


async def test_rate_limit_carries_retry_after(upstream):
    provider = OpenAICompatProvider(f"{upstream.url}/v1")
    with pytest.raises(ProviderHTTPError) as caught:
        await provider.complete(ask("rate-limited"))
    await provider.aclose()
    assert caught.value.status == 429
    assert caught.value.retry_after == 7.0


async def test_non_json_answer_is_a_response_error(upstream):
    provider = OpenAICompatProvider(f"{upstream.url}/v1")
    with pytest.raises(ProviderResponseError, match="not JSON"):
        await provider.complete(ask("not-json"))
    await provider.aclose()


async def test_unreachable_endpoint_is_a_connection_error():
    provider = OpenAICompatProvider(f"http://127.0.0.1:{unused_port()}/v1")
    with pytest.raises(ProviderConnectionError, match="cannot reach"):
        await provider.complete(ask("echo"))
    await provider.aclose()


async def test_slow_endpoint_times_out(upstream):
    provider = OpenAICompatProvider(f"{upstream.url}/v1", timeout_s=0.2)
    with pytest.raises(ProviderTimeoutError, match="did not answer within 0.2 s"):
        await provider.complete(ask("hang"))
    await provider.aclose()
