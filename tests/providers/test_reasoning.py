"""Reasoning kept apart from the answer: `<think>` splitting, every provider's format plain and streamed, the
store and the ledger. The scripted upstream's thinking is always REASONING; its answer is the echo."""

import json

import pytest

from gensandbox.calls.call import response_from_cache, response_to_cache
from gensandbox.cli.app import main
from gensandbox.config import load_config
from gensandbox.errors import UserError
from gensandbox.ledger.events import CallFacts, call_event
from gensandbox.providers.anthropic import AnthropicProvider, request_to_anthropic, response_from_anthropic
from gensandbox.providers.openai_compat import OpenAICompatProvider, request_to_openai, response_from_openai
from gensandbox.providers.reasoning import (
    ThinkSplitter,
    collect_stream,
    estimate_reasoning_tokens,
    split_think,
    with_reasoning,
)
from gensandbox.runner.scorers import includes
from gensandbox.store import open_store
from gensandbox.types import ChatRequest, ChatResponse, Message, Price, Usage
from tests.helpers import write_config, write_suite
from tests.upstream_text import REASONING, REASONING_WORDS

PRICE = Price(per_million_input_tokens_usd=1.0, per_million_output_tokens_usd=2.0)


def ask(model: str, text: str = "Paris is the answer") -> ChatRequest:
    return ChatRequest(model=model, max_tokens=64, messages=(Message("user", text),))


# ---- split_think


@pytest.mark.parametrize("text, reasoning, answer", [
    ("no block at all", None, "no block at all"),
    ("<think>pondering</think>\n\nParis", "pondering", "Paris"),
    ("<think>one</think>A <think>two</think>B", "one\n\ntwo", "A B"),
    ("<think>only thinking</think>", "only thinking", ""),
    ("<think>cut off while thinking", "cut off while thinking", ""),
    ("Paris <think>second thoughts", "second thoughts", "Paris"),
    ("opened by the template</think>\nParis", "opened by the template", "Paris"),
    ("<think>\n\n</think>\n\nParis", None, "Paris"),  # thinking switched off: an empty block
])
def test_split_think(text, reasoning, answer):
    assert split_think(text) == (reasoning, answer)


def test_think_splitter_agrees_with_split_think_however_the_text_is_cut():
    text = "<think>one</think>\n\nA <think>two</think>B"
    for size in range(1, len(text) + 1):
        splitter, reasoning, answer = ThinkSplitter(), "", ""
        for piece in (text[i:i + size] for i in range(0, len(text), size)):
            r, a = splitter.feed(piece)
            reasoning, answer = reasoning + r, answer + a
        r, a = splitter.finish()
        assert (reasoning + r, answer + a) == ("onetwo", "A B"), size


def test_unclosed_block_in_a_stream_is_all_reasoning():
    splitter = ThinkSplitter()
    assert splitter.feed("<think>still going</thi") == ("still going", "")
    assert splitter.finish() == ("</thi", "")


def test_estimate_is_the_reasoning_share_of_output_tokens():
    assert estimate_reasoning_tokens(30, 10, 8) == 6
    assert estimate_reasoning_tokens(0, 0, 8) == 0


def test_with_reasoning_estimates_only_when_the_provider_gave_no_count():
    tagged = ChatResponse("<think>abc</think>d", "stop", Usage(1, 8), 0.1)
    assert with_reasoning(tagged).usage == Usage(1, 8, 6)
    counted = ChatResponse("d", "stop", Usage(1, 8, 5), 0.1, reasoning="abc")
    assert with_reasoning(counted).usage.reasoning_tokens == 5


# ---- wire formats, pure


def test_openai_reasoning_content_and_token_details():
    body = {"model": "deepseek-reasoner", "choices": [{"message": {"content": "Paris", "reasoning_content": "hmm"},
                                                       "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 40,
                      "completion_tokens_details": {"reasoning_tokens": 38}}}
    response = response_from_openai(body, 0.5)
    assert (response.text, response.reasoning) == ("Paris", "hmm")
    assert response.usage == Usage(5, 40, 38)
    assert response.first_answer_s is None  # measured for streams only


def test_requests_carry_reasoning_settings_only_when_set():
    plain = ask("m")
    assert "reasoning_effort" not in request_to_openai(plain) and "thinking" not in request_to_anthropic(plain)
    assert "reasoning_effort" not in plain.to_record()  # cache keys of ordinary requests are unchanged
    effort = ChatRequest(model="o3", messages=plain.messages, reasoning_effort="high")
    assert request_to_openai(effort)["reasoning_effort"] == "high"
    assert effort.to_record()["reasoning_effort"] == "high"
    budget = ChatRequest(model="claude", messages=plain.messages, max_tokens=4096, thinking_budget_tokens=2048)
    payload = request_to_anthropic(budget)
    assert payload["thinking"] == {"type": "enabled", "budget_tokens": 2048} and payload["temperature"] == 1.0


def test_thinking_budget_must_leave_room_for_the_answer():
    with pytest.raises(UserError, match="must be below max_tokens"):
        request_to_anthropic(ChatRequest(model="claude", messages=(), max_tokens=1024, thinking_budget_tokens=1024))


def test_anthropic_thinking_and_redacted_blocks():
    body = {"model": "claude", "stop_reason": "end_turn", "usage": {"input_tokens": 9, "output_tokens": 20},
            "content": [{"type": "thinking", "thinking": "a" * 30, "signature": "s"},
                        {"type": "redacted_thinking", "data": "b" * 10},
                        {"type": "text", "text": "c" * 10}]}
    response = response_from_anthropic(body, 0.5)
    assert (response.text, response.reasoning) == ("c" * 10, "a" * 30)
    assert response.usage == Usage(9, 20, 16)  # (30 + 10) / 50 of 20, estimated: Anthropic gives no count


def test_reasoning_survives_the_response_cache():
    response = ChatResponse("Paris", "stop", Usage(1, 8, 6), 0.1, reasoning="hmm")
    assert response_from_cache(response_to_cache(response)) == response
    assert "reasoning" not in response_to_cache(ChatResponse("Paris", "stop", Usage(1, 2), 0.1))


def test_ledger_event_names_reasoning_tokens_only_when_there_are_some():
    facts = dict(source="run", provider="openai", requested_model="m", model="m", started_at="t", latency_s=0.1,
                 input_tokens=1, output_tokens=8, cost_usd=0.0, price_table="p", prompt=[], response_text="Paris")
    assert call_event(CallFacts(**facts, reasoning_tokens=6), "hashes")["gensandbox.reasoning_tokens"] == 6
    assert "gensandbox.reasoning_tokens" not in call_event(CallFacts(**facts), "hashes")


# ---- every provider format, plain and streamed, on the loopback upstream


def _provider(kind: str, upstream):
    return AnthropicProvider(upstream.url) if kind == "anthropic" else OpenAICompatProvider(f"{upstream.url}/v1")


@pytest.mark.parametrize("kind, model, estimated", [
    ("openai", "reasoner", False), ("openai", "think-tags", True), ("anthropic", "claude-thinker", True),
])
@pytest.mark.parametrize("streamed", [False, True])
async def test_reasoning_and_answer_come_apart(upstream, kind, model, estimated, streamed):
    provider = _provider(kind, upstream)
    try:
        if streamed:
            response = await collect_stream(provider.stream(ask(model)))
        else:
            response = await provider.complete(ask(model))
    finally:
        await provider.aclose()
    assert response.text == "Paris is the answer"
    assert response.reasoning.strip() == REASONING
    if streamed:
        assert 0 < response.first_answer_s <= response.latency_s
    usage = response.usage
    if model == "think-tags":  # the upstream counts the words of the whole text, tags and all
        full = f"<think>{REASONING}</think>\n\nParis is the answer"
        assert usage.output_tokens == len(full.split(" ") if streamed else full.split())
    else:
        assert usage.output_tokens == REASONING_WORDS + 4  # the reasoning is billed as output
    if estimated:
        share = len(response.reasoning) / (len(response.reasoning) + len(response.text))
        assert abs(usage.reasoning_tokens - usage.output_tokens * share) <= 1
    else:
        assert usage.reasoning_tokens == REASONING_WORDS
    # Cost is unchanged by the split: every output token is billed, reasoning included.
    assert PRICE.cost_usd(usage, 0) == pytest.approx((usage.input_tokens + 2 * usage.output_tokens) / 1e6)
    assert includes(response.text, "step by step").value == 0.0  # in the reasoning only
    assert includes(response.text, "Paris").value == 1.0


# ---- a run through the CLI stores reasoning per sample


def test_run_stores_reasoning_per_sample_and_scores_only_the_answer(home, tmp_path, upstream, capsys):
    config = write_config(tmp_path, upstream.url, {"reasoner": "reasoner", "think": "think-tags",
                                                   "anthropic-thinker": "claude-thinker", "echo": "echo"})
    items = [{"id": "hidden", "language": "en", "category": "c", "target": "step by step", "scorer": "includes",
              "messages": [{"role": "user", "content": "Paris"}]},
             {"id": "shown", "language": "en", "category": "c", "target": "Paris", "scorer": "includes",
              "messages": [{"role": "user", "content": "Paris"}]}]
    suite = write_suite(tmp_path, "reasoning-suite", items)
    code = main(["run", "-c", str(config), "-m", "reasoner,think,anthropic-thinker,echo", "-s", str(suite),
                 "--run-id", "thinking"])
    assert code == 0, capsys.readouterr().err
    store = open_store(load_config(config))
    try:
        samples = {(s.model, s.item_id): s for s in store.samples("thinking")}
        rows = list(store.score_rows("thinking"))
    finally:
        store.close()
    for model in ("reasoner", "think", "anthropic-thinker"):
        hidden, shown = samples[(model, "hidden")], samples[(model, "shown")]
        assert (hidden.score, shown.score) == (0.0, 1.0), model
        assert hidden.response_text == "Paris" and hidden.reasoning_text.strip() == REASONING
        assert 0 < hidden.reasoning_tokens < hidden.output_tokens
        assert hidden.first_answer_s is None  # runs make plain calls
    assert samples[("reasoner", "hidden")].reasoning_tokens == REASONING_WORDS
    echo = samples[("echo", "hidden")]
    assert (echo.reasoning_text, echo.reasoning_tokens) == (None, 0)
    by_model = {(r.model, r.item_id): r.reasoning_tokens for r in rows}
    assert by_model[("reasoner", "hidden")] == REASONING_WORDS and by_model[("echo", "hidden")] == 0
    assert json.dumps(samples[("think", "shown")].request)  # the request record is still plain JSON
