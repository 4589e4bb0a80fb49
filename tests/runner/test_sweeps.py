"""Reasoning sweeps: expanding models into settings, the regimes' prompts and answers, voting, and the metrics."""

import asyncio
import dataclasses

import pytest

from gensandbox.calls.models import model_identity, resolve_model
from gensandbox.config import Config
from gensandbox.errors import UserError
from gensandbox.providers.capabilities import TEXT_ONLY
from gensandbox.providers.regimes import (
    DIRECT_INSTRUCTION,
    STEP_INSTRUCTION,
    STEP_MIN_TOKENS,
    RegimeProvider,
    majority,
    parse_setting,
    split_answer,
    split_sweep_name,
    with_instruction,
    with_system,
)
from gensandbox.runner.reasoning_metrics import frontier_models, reasoning_metrics
from gensandbox.runner.sweeps import expand_models, parse_sweep, sweep_settings
from gensandbox.store import ScoreRow
from gensandbox.types import ChatRequest, ChatResponse, Message, Usage


def test_parse_sweep_keeps_order_and_drops_repeats():
    assert parse_sweep("reasoning=direct, step,vote-3,step") == ["direct", "step", "vote-3"]
    assert parse_sweep("reasoning=effort:low,budget:1024,max_tokens:256") == ["effort:low", "budget:1024",
                                                                              "max_tokens:256"]


@pytest.mark.parametrize("text", ["direct", "temperature=0,1", "reasoning=", "reasoning=ponder", "reasoning=vote-1",
                                  "reasoning=effort:extreme", "reasoning=budget:0", "reasoning=max_tokens:x"])
def test_bad_sweeps_are_user_errors(text):
    with pytest.raises(UserError):
        parse_sweep(text)


def test_expansion_gives_every_model_every_setting():
    names = expand_models(["a", "variant:v@b"], ["direct", "vote-3"])
    assert names == ["a@reasoning=direct", "a@reasoning=vote-3", "variant:v@b@reasoning=direct",
                     "variant:v@b@reasoning=vote-3"]
    assert split_sweep_name(names[2]) == ("variant:v@b", "direct")
    assert split_sweep_name("plain") == ("plain", None)
    assert sweep_settings([*names, "plain"]) == {"a": ["direct", "vote-3"], "variant:v@b": ["direct", "vote-3"]}
    with pytest.raises(UserError, match="already names"):
        expand_models(["a@reasoning=step"], ["direct"])


def _config(tmp_path) -> Config:
    from gensandbox.config import load_config

    (tmp_path / "gensandbox.toml").write_text(
        '[[models]]\nname = "m"\nprovider = "openai"\nmodel = "echo"\nbase_url = "http://127.0.0.1:9/v1"\n')
    return load_config(tmp_path / "gensandbox.toml")


def test_a_setting_is_part_of_the_model_and_its_identity(tmp_path, monkeypatch):
    monkeypatch.setenv("GENSANDBOX_HOME", str(tmp_path / "home"))
    config = _config(tmp_path)
    direct, step = resolve_model("m@reasoning=direct", config), resolve_model("m@reasoning=step", config)
    assert (direct.name, direct.sweep, direct.provider_model_id) == ("m@reasoning=direct", "direct", "echo")
    identities = [model_identity(m, config) for m in (direct, step, resolve_model("m", config))]
    assert identities[0]["sweep"] == "direct" and identities[1]["sweep"] == "step" and "sweep" not in identities[2]
    assert identities[0]["regime_version"] == identities[1]["regime_version"]
    assert {k: v for k, v in identities[0].items() if k not in ("sweep", "regime_version")} == identities[2]
    assert model_identity(resolve_model("m@reasoning=max_tokens:9", config), config) == {**identities[2],
                                                                                          "sweep": "max_tokens:9"}
    with pytest.raises(UserError):
        resolve_model("m@reasoning=ponder", config)


def test_instructions_go_at_the_end_of_the_last_user_message():
    request = ChatRequest("m", (Message("system", "s"), Message("user", "q1"), Message("assistant", "a"),
                                Message("user", "What is 2 + 2?")))
    rewritten = with_instruction(request, DIRECT_INSTRUCTION)
    assert rewritten.messages[:3] == request.messages[:3]
    assert rewritten.messages[3].content == f"What is 2 + 2?\n\n{DIRECT_INSTRUCTION}"
    assert with_instruction(ChatRequest("m", ()), "x").messages == (Message("user", "x"),)


def test_direct_is_a_system_instruction():
    plain = ChatRequest("m", (Message("user", "q"),))
    assert with_system(plain, DIRECT_INSTRUCTION).messages == (Message("system", DIRECT_INSTRUCTION),
                                                               Message("user", "q"))
    with_one = ChatRequest("m", (Message("system", "Be brief."), Message("user", "q")))
    assert with_system(with_one, "x").messages[0] == Message("system", "Be brief.\n\nx")
    asked = Scripted(["4"])
    asyncio.run(RegimeProvider(asked, parse_setting("direct")).complete(plain))
    assert asked.asked[0].messages[0].content == DIRECT_INSTRUCTION


@pytest.mark.parametrize(("text", "reasoning", "answer"), [
    ("2 + 2 = 4.\nAnswer: 4", "2 + 2 = 4.", "4"),
    ("First answer: 3? No.\nANSWER: **4**", "First answer: 3? No.", "**4**"),
    ("I think\nit is 4", "I think", "it is 4"),
    ("", "", ""),
])
def test_the_scored_answer_follows_the_last_answer_line(text, reasoning, answer):
    assert split_answer(text) == (reasoning, answer)


def test_majority_vote_and_ties_go_to_the_first_answer_reached():
    assert majority(["4", "5", "4."]) == 0
    assert majority(["5", "4", "**4**"]) == 1
    assert majority(["7", "5", "6"]) == 0
    assert majority(["5", "4", "4", "5"]) == 0
    with pytest.raises(ValueError):
        majority([])


@dataclasses.dataclass
class Scripted:
    """A provider answering from a list, recording what it was asked."""

    answers: list[str]
    endpoint: str = "scripted"
    capabilities: frozenset = TEXT_ONLY
    asked: list = dataclasses.field(default_factory=list)

    async def complete(self, request):
        self.asked.append(request)
        return ChatResponse(self.answers[len(self.asked) - 1], "stop", Usage(10, 20), latency_s=0.5, model="m")

    async def aclose(self):
        pass


def test_step_scores_the_answer_and_keeps_the_reasoning():
    base = Scripted(["3 + 5 makes 8.\nAnswer: 8"])
    response = asyncio.run(RegimeProvider(base, parse_setting("step")).complete(ChatRequest("m", (
        Message("user", "3 + 5?"),), max_tokens=64)))
    assert response.text == "8"
    assert base.asked[0].messages[-1].content.endswith(STEP_INSTRUCTION)
    assert base.asked[0].max_tokens == STEP_MIN_TOKENS
    if hasattr(response, "reasoning"):
        assert response.reasoning == "3 + 5 makes 8."


def test_vote_sums_every_call_and_samples_with_distinct_seeds():
    base = Scripted(["Answer: 7", "so\nAnswer: 8", "Answer: 8."])
    provider = RegimeProvider(base, parse_setting("vote-3"))
    response = asyncio.run(provider.complete(ChatRequest("m", (Message("user", "3 + 5?"),), seed=2)))
    assert response.text == "8"
    assert (response.usage.input_tokens, response.usage.output_tokens, response.latency_s) == (30, 60, 1.5)
    assert [r.seed for r in base.asked] == [6, 7, 8] and {r.temperature for r in base.asked} == {0.7}
    if hasattr(response, "reasoning"):
        assert "[sample 3] Answer: 8." in response.reasoning


def test_knobs_set_the_request_field_or_are_refused():
    base = Scripted(["ok"])
    asyncio.run(RegimeProvider(base, parse_setting("max_tokens:256")).complete(ChatRequest("m", ())))
    assert base.asked[0].max_tokens == 256
    fields = {f.name for f in dataclasses.fields(ChatRequest)}
    for text, field in (("effort:high", "reasoning_effort"), ("budget:1024", "thinking_budget_tokens")):
        if field in fields:
            asked = Scripted(["ok"])
            asyncio.run(RegimeProvider(asked, parse_setting(text)).complete(ChatRequest("m", ())))
            assert getattr(asked.asked[0], field) == parse_setting(text).value
        else:
            with pytest.raises(UserError, match=field):
                RegimeProvider(base, parse_setting(text))


def _row(model, item, score, cost=0.01, output=10, latency=1.0, error=None):
    return ScoreRow(model, "s", item, "c", "en", 0, score, latency, 5, output, cost, False, error)


def test_metrics_per_model():
    rows = [_row("m@reasoning=direct", "1", 1.0), _row("m@reasoning=direct", "2", 0.0),
            _row("m@reasoning=direct", "3", None, cost=0.0, error="boom"),
            _row("m@reasoning=step", "1", 0.0, output=100, latency=3.0), _row("m@reasoning=step", "2", 0.0)]
    direct, step = reasoning_metrics(rows)
    assert (direct.base_model, direct.setting, direct.n, direct.errors) == ("m", "direct", 2, 1)
    assert direct.accuracy == 0.5 and direct.cost_per_item_usd == pytest.approx(0.02 / 3)
    assert direct.cost_per_correct_usd == pytest.approx(0.02)
    assert step.cost_per_correct_usd is None and step.latency_p50_s == 2.0
    assert step.output_tokens_per_item == 55
    assert frontier_models([direct, step], lambda m: m.cost_per_item_usd) == {"m@reasoning=direct"}
    assert set(direct.to_json()) >= {"accuracy", "cost_per_correct_usd", "accuracy_per_1k_reasoning_tokens"}


def test_the_report_charts_draw_one_line_per_model_and_the_frontier():
    from gensandbox.reports.reasoning_charts import reasoning_specs, x_scale

    rows = [_row(f"{model}@reasoning={setting}", str(item), score, cost=cost, output=output)
            for model, setting, score, cost, output in (("a", "direct", 0.0, 0.001, 5), ("a", "step", 1.0, 0.1, 200),
                                                        ("b", "direct", 1.0, 0.002, 4))
            for item in range(2)]
    specs = reasoning_specs(reasoning_metrics(rows), "ko")
    assert set(specs) == {"reasoning-cost", "reasoning-tokens"}
    cost = specs["reasoning-cost"]
    assert {v["base"] for v in cost["data"]["values"]} == {"a", "b"}
    assert {v["model"] for v in cost["data"]["values"] if v["on_frontier"]} == {"a@reasoning=direct",
                                                                                 "b@reasoning=direct"}
    assert cost["layer"][0]["encoding"]["color"]["field"] == "base"
    assert cost["title"]["text"] == "문항당 비용 대비 정확도"
    assert cost["layer"][0]["encoding"]["x"]["scale"] == {"type": "log"}  # costs 100 times apart
    assert x_scale([0.0, 1.0, 100.0]) == {"type": "symlog", "constant": 1.0}
    assert reasoning_specs([], "en") == {}
