"""The real embedded models through llama.cpp (marked slow: seconds, not milliseconds)."""

import pytest

from gensandbox.calls.models import build_provider, resolve_model
from gensandbox.config import load_config
from gensandbox.providers.local import LocalProvider, completion_prompt
from gensandbox.types import ChatRequest, Message

QWEN = "local/qwen2.5-coder-0.5b-instruct"
GEMMA = "local/gemma-3-270m"


def test_completion_prompt_frames_few_shot_questions():
    prompt = completion_prompt((Message("system", "Be brief."), Message("user", "2+2?")), [("Q1", "A1")])
    assert prompt == "Q: Q1\nA: A1\n\nQ: Be brief.\n2+2?\nA:"


def provider(home, name) -> LocalProvider:
    config = load_config()
    return build_provider(resolve_model(name, config), config)


def ask(text: str) -> ChatRequest:
    return ChatRequest(model="local", messages=(Message("user", text),), max_tokens=24)


@pytest.mark.slow
async def test_qwen_answers_in_english_and_korean(home):
    qwen = provider(home, QWEN)
    english = await qwen.complete(ask("What is the capital of France? Answer with the city name only."))
    korean = await qwen.complete(ask("대한민국의 수도는 어디입니까? 도시 이름만 답하세요."))
    assert "Paris" in english.text
    assert "서울" in korean.text
    assert english.usage.input_tokens > 10 and english.usage.output_tokens >= 1
    assert english.latency_s > 0
    assert english.finish_reason in ("stop", "length")


@pytest.mark.slow
async def test_qwen_is_deterministic_at_temperature_zero(home):
    qwen = provider(home, QWEN)
    request = ask("Name three colours.")
    first, second = await qwen.complete(request), await qwen.complete(request)
    assert first.text == second.text
    assert first.text


@pytest.mark.slow
async def test_gemma_base_model_answers_one_line_in_completion_style(home):
    gemma = provider(home, GEMMA)
    response = await gemma.complete(ask("What is the capital of France?"))
    assert "\n" not in response.text
    assert "Paris" in response.text


@pytest.mark.slow
def test_one_loaded_model_per_file(home):
    from gensandbox.providers.local import load_llama

    qwen = provider(home, QWEN)
    assert load_llama(qwen.path, qwen.n_ctx)[0] is load_llama(qwen.path, qwen.n_ctx)[0]


@pytest.mark.slow
async def test_shared_prompt_prefix_is_not_evaluated_again(home):
    """The KV cache keeps the previous prompt: a second question under the same long system prompt
    only evaluates the new tokens (measured: 3.5 s for an 840-token prompt, then 0.08 s)."""
    qwen = provider(home, QWEN)
    background = " ".join(f"Fact {i}: river number {i} flows north." for i in range(30))

    async def timed(question: str) -> float:
        request = ChatRequest(model="local", max_tokens=1,
                              messages=(Message("system", background), Message("user", question)))
        return (await qwen.complete(request)).latency_s

    first, second = await timed("Which way do the rivers flow?"), await timed("How many facts are there?")
    assert second < first / 4


@pytest.mark.slow
async def test_item_timeout_ends_local_generation(home):
    from gensandbox.errors import ProviderTimeoutError

    config = load_config()
    model = resolve_model(QWEN, config).model_copy(update={"timeout_s": 0.5})
    qwen = build_provider(model, config)
    with pytest.raises(ProviderTimeoutError, match="item timeout of 0.5 s"):
        await qwen.complete(ChatRequest(model="local", max_tokens=2000, messages=(
            Message("user", "Write a very long story about a dragon, at least 2000 words."),)))
