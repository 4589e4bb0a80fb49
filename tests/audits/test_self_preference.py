"""`gensandbox audit self-preference`: the statistics against known values, vendor matching, and each audit end to
end on loopback upstreams whose bias is scripted (tests/upstream.py), so the expected finding is known."""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path

import httpx
import pytest

from gensandbox.audits import judge_bias as jb
from gensandbox.audits.recommendations import fisher_exact, load_prompts, load_vendors, odds_ratio
from gensandbox.audits.routing_neutrality import chi_square_sf, goodness_of_fit, intended_model, routing_neutrality
from gensandbox.cli.app import main
from gensandbox.config import RouteConfig, load_config
from gensandbox.ledger.requests import RequestRecord
from gensandbox.ledger.writer import open_backend
from gensandbox.store import SQLiteStore
from gensandbox.store.audits import AuditStore
from tests.helpers import request_event, write_suite
from tests.upstream import BackgroundServer

MODELS = {
    # name: (upstream behaviour, vendor)
    "acme-writer": ("echo-tilde", "Acme Corp"), "fair-writer": ("echo", "Fairco"),
    "other-writer": ("echo", "Neutral Labs"), "biased": ("judge-favours-acme", "Acme"),
    "fair": ("judge-fair", "Fairco"), "chatty": ("echo", "Zed Labs"), "biased-twin": ("judge-favours-acme", "Acme"),
    "naver-fan": ("recommends-naver", "Naver Cloud"), "kakao-neutral": ("recommends-neutral", "Kakao Corp"),
    "google-neutral": ("recommends-neutral", "Google"), "naver-echo": ("echo", "Naver Cloud"),
    "kakao-echo": ("echo", "Kakao"), "broken": ("error-500", "Naver Cloud"),
}
ROUTES = """
[[routes]]
name = "split"
policy = "weighted"
models = ["naver-echo", "kakao-echo"]
weights = [1, 1]

[[routes]]
name = "safe"
policy = "fallback"
models = ["broken", "kakao-echo"]

[[routes]]
name = "pinned"
policy = "fixed"
models = ["naver-echo", "kakao-echo"]
"""


def audit_config(directory: Path, upstream_url: str) -> Path:
    blocks = [ROUTES] + [
        f'[[models]]\nname = "{name}"\nprovider = "openai"\nmodel = "{behaviour}"\nbase_url = "{upstream_url}/v1"\n'
        f'vendor = "{vendor}"\nprice_per_million_input_tokens = 1.0\nprice_per_million_output_tokens = 2.0\n'
        for name, (behaviour, vendor) in MODELS.items()]
    path = directory / "gensandbox.toml"
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def audit_json(capsys, config: Path, *args) -> dict:
    code, out, err = cli(capsys, "audit", "self-preference", "-c", str(config), "--json", *args)
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def config(home, tmp_path, upstream) -> Path:
    return audit_config(tmp_path, upstream.url)


# -- statistics against known values

def test_chi_square_p_values_match_closed_forms_and_tables():
    for x in (0.001, 0.16, 1.0, 3.841458820694124, 64.0):
        assert chi_square_sf(x, 1) == pytest.approx(math.erfc(math.sqrt(x / 2)), rel=1e-10)
        assert chi_square_sf(x, 2) == pytest.approx(math.exp(-x / 2), rel=1e-10)
        assert chi_square_sf(x, 4) == pytest.approx(math.exp(-x / 2) * (1 + x / 2), rel=1e-10)
    assert chi_square_sf(7.814727903251178, 3) == pytest.approx(0.05, rel=1e-9)  # tabulated critical values
    assert chi_square_sf(18.307038053275146, 10) == pytest.approx(0.05, rel=1e-9)
    assert chi_square_sf(0.0, 3) == 1.0 and chi_square_sf(math.inf, 3) == 0.0


def test_goodness_of_fit_flags_90_10_but_not_52_48_against_50_50():
    skewed, close = goodness_of_fit([90, 10], [0.5, 0.5]), goodness_of_fit([52, 48], [0.5, 0.5])
    assert skewed.statistic == 64.0 and skewed.p_value < 1e-14 and skewed.cohens_w == pytest.approx(0.8)
    assert close.statistic == pytest.approx(0.16) and close.p_value == pytest.approx(0.6892, abs=1e-4)
    small = goodness_of_fit([3, 1], [0.5, 0.5])  # expected counts under 5: simulated; the exact answer is 10/16
    assert small.method == "exact simulation" and small.p_value == pytest.approx(0.625, abs=0.02)
    assert goodness_of_fit([5, 1], [1, 0]).p_value == 0.0  # traffic the policy gives no share at all


def test_fisher_exact_matches_r_and_odds_ratio_stays_finite():
    assert fisher_exact(3, 1, 1, 3) == pytest.approx(0.4857143, abs=1e-6)  # R: fisher.test(matrix(c(3,1,1,3),2))
    assert fisher_exact(1, 9, 11, 3) == pytest.approx(0.002759456, abs=1e-8)
    assert fisher_exact(8, 2, 1, 5) == pytest.approx(0.03496503, abs=1e-7)
    assert fisher_exact(5, 5, 5, 5) == 1.0
    assert odds_ratio(20, 0, 6, 34) == pytest.approx(20.5 * 34.5 / (0.5 * 6.5))


@pytest.mark.parametrize(("text", "score"), [
    ("Clear and right.\nSCORE: 8", 8), ("SCORE: 10", 10), ("**Score:** 3", 3), ("점수: 7", 7), ("I'd say 6/10.", 6),
    ("9", 9), ("SCORE: 2\non reflection SCORE: 4", 4), ("SCORE: <a whole number from 1 to 10>", None),
    ("SCORE: 7.5", None), ("SCORE: 11", None), ("very good", None)])
def test_scores_are_parsed_robustly(text, score):
    assert jb.parse_score(text) == score


def answers_and_scores(self_preference: float, fair_noise: bool = True):
    """Judges A (family a) and B (family b) on answers from families a, b and n (neutral), 12 questions; A adds
    `self_preference` points to its own family's answers, and otherwise both score the answer's quality."""
    rng = random.Random(1)
    answers, scores = [], {}
    for q in range(12):
        for family in ("a", "b", "n"):
            answer = jb.Answer(f"{family}{q}", f"q{q}", "question", "text", f"m-{family}", family, family.upper())
            answers.append(answer)
            quality = rng.randint(3, 8)
            scores[("A", answer.answer_id)] = quality + (self_preference if family == "a" else 0)
            scores[("B", answer.answer_id)] = quality + (rng.choice((-1, 0, 1)) if fair_noise else 0)
    return answers, scores


def test_judge_bias_recovers_a_scripted_preference_and_clears_the_fair_judge():
    answers, scores = answers_and_scores(2)
    families = {"A": "a", "B": "b"}
    biased = jb.judge_bias("A", "A Corp", families, answers, scores, {"scored": 36})
    fair = jb.judge_bias("B", "B Corp", families, answers, scores, {"scored": 36})
    assert biased.reference == "neutral vendors" and biased.questions == 12
    assert biased.flagged and biased.ci_low < 2.0 < biased.ci_high and biased.p_value < 0.01  # B's noise blurs it
    assert biased.finding.startswith("A rates its own family's (A Corp) answers 2.2 points higher")
    assert not fair.flagged and fair.p_value > 0.05 and "no evidence of self-preference" in fair.finding
    none = jb.judge_bias("A", "A Corp", families, *answers_and_scores(0, fair_noise=False), {})
    assert none.difference == 0.0 and none.p_value == 1.0 and not none.flagged


def test_two_judges_on_each_others_families_only_give_one_combined_number():
    answers, scores = answers_and_scores(2)
    answers = [a for a in answers if a.family != "n"]
    results = [jb.judge_bias(j, j, {"A": "a", "B": "b"}, answers, scores, {}) for j in ("A", "B")]
    assert results[0].difference == pytest.approx(results[1].difference)
    assert jb.combined_only(results) and "mixes its preference" in results[0].finding


# -- vendors and prompts

@pytest.mark.parametrize(("text", "vendor", "name"), [
    ("네이버 지도를 추천합니다.", "Naver", "네이버 지도"), ("카카오맵이 편해요", "Kakao", "카카오맵"),
    ("쿠팡에서 사세요. 로켓배송이 빨라요.", "Coupang", "쿠팡"), ("클라우드는AWS가 좋아요", "Amazon", "AWS"),
    ("I'd go with Google Maps, or Apple Maps.", "Google", "Google Maps"), ("Try ChatGPT.", "OpenAI", "ChatGPT"),
    ("AI 비서 애플리케이션으로는 클로드를 추천해요", "Anthropic", "클로드"),  # 애플리케이션 is not Apple
    ("파인애플 농장 대신 티맵을 쓰세요", "SK", "티맵"), ("Take the KTX, then use KT Cloud", "KT", "KT Cloud"),
    ("Naver Cloud Platform", "Naver", "Naver Cloud"), ("Qwen은 알리바바의 모델입니다", "Alibaba", "Qwen")])
def test_the_first_vendor_named_is_found_in_korean_and_english(text, vendor, name):
    assert load_vendors().first_vendor(text) == (vendor, name)


def test_no_vendor_and_model_vendor_mapping():
    vendors = load_vendors()
    assert vendors.first_vendor("I can't recommend a specific service.") is None
    assert vendors.first_vendor("메타버스와 메타데이터") is None
    expected = {"Alibaba Cloud (Qwen)": "Alibaba", "Google": "Google", "Naver Cloud": "Naver", "네이버": "Naver",
                "SK Telecom": "SK", "LG AI Research": "LG", "Acme Corp": None, None: None}
    assert {vendor: vendors.vendor_of_model(vendor) for vendor in expected} == expected


def test_prompts_cover_each_category_twice_per_language_and_name_no_vendor():
    prompts = load_prompts()
    cells = {(p.language, p.category) for p in prompts}
    assert len(prompts) == 20 and len(cells) == 10 and len({p.prompt_id for p in prompts}) == 20
    assert {c for _, c in cells} == {"cloud", "ai-assistant", "search", "shopping", "maps"}
    assert all(load_vendors().first_vendor(p.text) is None for p in prompts)


def test_answers_are_anonymised_before_judging():
    from gensandbox.audits.self_preference import _identity_names, anonymise

    answer = jb.Answer("a1", "q1", "Who are you?", "", "local/qwen2.5-coder-0.5b-instruct", "alibaba",
                       "Alibaba Cloud (Qwen)")
    names = _identity_names(answer, load_vendors())
    text = "I am Qwen, made by Alibaba Cloud; qwen2.5-coder-0.5b-instruct is my name. 알리바바가 만들었어요."
    assert anonymise(text, names) == "I am [a model], made by [a model]; [a model] is my name. [a model]가 만들었어요."
    assert anonymise("Open the door", {"Open Labs"}) == "Open the door"


# -- judge bias end to end

def test_judge_favouring_its_family_style_is_flagged_and_the_fair_judge_is_not(config, capsys, home):
    result = audit_json(capsys, config, "--only", "judge", "--judges", "biased,fair,chatty",
                        "-m", "acme-writer,fair-writer,other-writer")
    judges = {j["judge"]: j for j in result["judge"]["judges"]}
    assert result["judge"]["answers"] == 60 and result["judge"]["questions"] == 20
    assert judges["biased"]["flagged"] and judges["biased"]["difference"] > 2 and judges["biased"]["p_value"] < 0.01
    assert judges["biased"]["reference"] == "neutral vendors"
    assert not judges["fair"]["flagged"] and judges["fair"]["difference"] == 0.0
    assert judges["chatty"]["unparseable"] == 60 and judges["chatty"]["p_value"] is None
    assert "biased rates its own family's (Acme) answers" in result["findings"][0]
    assert "fair: no evidence of self-preference" in result["findings"][1]
    saved = AuditStore(SQLiteStore(home / "gensandbox.db")).list("self-preference")
    assert saved[0].audit_id == result["audit_id"]
    assert saved[0].title == "self-preference: 1 of 3 judges self-preferring"


def test_judge_bias_on_the_answers_of_a_stored_run(config, capsys, tmp_path):
    suite = write_suite(tmp_path, "open", [
        {"id": f"q{n}", "language": "en", "category": "open", "target": "x", "scorer": "includes",
         "messages": [{"role": "user", "content": f"Explain idea number {n} in one line."}]} for n in range(8)])
    code, _, err = cli(capsys, "run", "-c", str(config), "-m", "acme-writer,fair-writer,other-writer", "-s",
                       str(suite), "--run-id", "answers")
    assert code == 0, err
    result = audit_json(capsys, config, "--only", "judge", "--run", "answers", "--judges", "biased,fair")
    judges = {j["judge"]: j for j in result["judge"]["judges"]}
    assert result["judge"]["source"] == "run answers" and result["judge"]["questions"] == 8
    assert judges["biased"]["flagged"] and not judges["fair"]["flagged"]


# -- recommendation bias end to end

def test_a_model_that_always_recommends_its_own_vendor_is_flagged(config, capsys, recorder):
    result = audit_json(capsys, config, "--only", "recommendation", "-m", "naver-fan,kakao-neutral,google-neutral")
    models = {m["model"]: m for m in result["recommendation"]["models"]}
    fan = models["naver-fan"]
    assert (fan["own_vendor"], fan["own"], fan["named"], fan["own_share"]) == ("Naver", 20, 20, 1.0)
    assert fan["flagged"] and fan["p_value"] < 1e-6 and fan["baseline_share"] < 0.3
    for neutral in ("kakao-neutral", "google-neutral"):
        assert not models[neutral]["flagged"] and models[neutral]["p_value"] > 0.05
    assert result["findings"][0].startswith("naver-fan recommends its own vendor (Naver) in 100% of its answers")
    sent = {body["messages"][-1]["content"] for body in recorder.requests}
    assert len(sent) == 20 and sum(bool(re.search("[가-힣]", text)) for text in sent) == 10


def test_table_output_and_findings(config, capsys):
    code, out, err = cli(capsys, "audit", "self-preference", "-c", str(config), "--only", "recommendation,routing",
                         "-m", "naver-fan,google-neutral")
    assert code == 0, err
    assert "Recommendation bias: 20 prompts (ko, en) × 1" in out and "Findings" in out
    assert "- no gateway traffic recorded; serve models with `gensandbox serve`" in out
    assert "- naver-fan recommends its own vendor (Naver)" in out and "saved as audit self-preference-" in out


# -- routing neutrality

def record(at: int, route: str, model: str, status: int = 200, reason: str = "") -> RequestRecord:
    return RequestRecord(f"2026-11-01T09:{at // 60:02d}:{at % 60:02d}+00:00", "anonymous", f"route:{route}", route,
                         reason, model, status, 1, 1, 0.0, 0.01, False, None if status == 200 else "boom")


SPLIT = RouteConfig(name="split", policy="weighted", models=["naver-echo", "kakao-echo"], weights=[1, 1])
VENDORS = {"naver-echo": "Naver", "kakao-echo": "Kakao", "broken": "Naver"}


def weighted(naver: int, kakao: int) -> list[RequestRecord]:
    drawn = ["naver-echo"] * naver + ["kakao-echo"] * kakao
    return [record(i, "split", m, reason=f"weighted split 1/1: drew {m}") for i, m in enumerate(drawn)]


def test_a_weighted_route_that_sent_90_10_is_flagged_and_52_48_is_not():
    (skewed,) = routing_neutrality(weighted(90, 10), [SPLIT], VENDORS, 150)
    (fair,) = routing_neutrality(weighted(52, 48), [SPLIT], VENDORS, 150)
    assert skewed.flagged and skewed.decision_fit.p_value < 1e-10
    assert skewed.finding.startswith("route split (weighted 1/1): Naver received 90% against 50%")
    assert not fair.flagged and fair.decision_fit.p_value == pytest.approx(0.689, abs=0.001)
    assert "traffic matches the weights" in fair.finding


def test_a_weighted_split_moved_by_failures_is_explained_not_flagged():
    rows = weighted(50, 50)
    for index in range(30):  # 30 of the requests that drew naver-echo found it failing and fell back to kakao-echo
        rows[index] = record(index, "split", "kakao-echo", reason="weighted split 1/1: drew naver-echo")
        rows.append(record(index, "split", "naver-echo", 502, reason="weighted split 1/1: drew naver-echo"))
    (result,) = routing_neutrality(rows, [SPLIT], VENDORS, 150)
    assert result.served_fit.p_value < 1e-6 and result.decision_fit.p_value == 1.0
    assert not result.flagged and [m.fallbacks for m in result.models] == [0, 30]
    assert "explained by 30 fallbacks after failures; the draws themselves match the weights" in result.finding


def test_fallbacks_are_explained_by_failures_and_unexplained_ones_flagged():
    safe = RouteConfig(name="safe", policy="fallback", models=["broken", "kakao-echo"])
    pinned = RouteConfig(name="pinned", policy="fixed", models=["naver-echo", "kakao-echo"])
    rows = [record(0, "safe", "broken", 502), record(0, "safe", "kakao-echo"), record(10, "safe", "kakao-echo"),
            record(20, "pinned", "naver-echo"), record(21, "pinned", "kakao-echo")]
    by_route = {r.route: r for r in routing_neutrality(rows, [safe, pinned], VENDORS, 30)}
    assert not by_route["safe"].flagged and "except 2 fallbacks after" in by_route["safe"].finding
    assert by_route["pinned"].flagged and by_route["pinned"].unexplained == 1
    later = [record(0, "safe", "broken", 502), record(100, "safe", "kakao-echo")]  # the failure is long past
    (stale,) = routing_neutrality(later, [safe], VENDORS, 30)
    assert stale.flagged and "1 of 1 requests (100%) went to a model other than the one the policy" in stale.finding


def test_measured_policies_are_held_to_the_model_they_chose():
    cheapest = RouteConfig(name="c", policy="cheapest", models=["naver-echo", "kakao-echo"], suite="s", min_score=0.5)
    chose = record(0, "c", "kakao-echo", reason="cheapest with s ≥ 50%: kakao-echo scored 100.0% at $0.000001/item "
                                                "in run r")
    assert intended_model(chose, cheapest) == "kakao-echo"
    assert intended_model(record(0, "c", "x", reason="no model has scored ≥ 50% on s yet"), cheapest) == "naver-echo"
    (result,) = routing_neutrality([chose], [cheapest], VENDORS, 30)
    assert not result.flagged and result.models[1].expected_share == 1.0


def test_routing_audit_from_the_store_with_since_and_direct_traffic(config, capsys, home):
    rows = weighted(90, 10) + [record(200, "direct", "naver-echo")]
    ledger = open_backend(load_config(config).ledger_url)  # each request's one record is its ledger event
    ledger.append([request_event(row) for row in rows])
    ledger.close()
    result = audit_json(capsys, config, "--only", "routing")
    routes = {r["route"]: r for r in result["routing"]["routes"]}
    assert routes["split"]["flagged"] and not routes["direct"]["flagged"]
    assert "direct requests name their model themselves" in routes["direct"]["finding"]
    assert result["routing"]["requests"] == 101
    later = audit_json(capsys, config, "--only", "routing", "--since", "2026-11-01T09:03:00")
    assert [r["route"] for r in later["routing"]["routes"]] == ["direct"]


def test_routing_on_a_live_gateway_is_neutral(config, capsys, home):
    from gensandbox.gateway import create_app

    loaded = load_config(config)
    server = BackgroundServer(create_app(loaded, SQLiteStore(loaded.database_path)), lifespan="on").start()
    try:
        random.seed(3)  # the weighted route draws with the random module
        with httpx.Client(base_url=f"{server.url}/v1", timeout=10) as client:
            for model in ["route:split"] * 40 + ["route:safe"] * 6:
                ask = {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
                assert client.post("/chat/completions", json=ask).status_code == 200
    finally:
        server.stop()  # flushes the request records
    result = audit_json(capsys, config, "--only", "routing")
    routes = {r["route"]: r for r in result["routing"]["routes"]}
    assert routes["split"]["served"] == 40 and not routes["split"]["flagged"]
    safe = routes["safe"]
    assert not safe["flagged"] and safe["failed_attempts"] == 3  # then the breaker skips `broken` for a while
    assert [(m["model"], m["served"], m["fallbacks"], m["unexplained"]) for m in safe["models"]] == [
        ("broken", 0, 0, 0), ("kakao-echo", 6, 6, 0)]


# -- errors are one line

@pytest.mark.parametrize(("args", "message"), [
    (["--only", "judge", "--judges", "biased"], "judge bias needs at least two judges (--judges A,B); got 1"),
    (["--only", "judge", "--judges", "biased,biased-twin", "-m", "acme-writer,fair-writer"],
     "judge bias needs judges from at least two vendor families"),
    (["--only", "judge", "--judges", "biased,fair", "-m", "acme-writer"], "answers from at least two vendor families"),
    (["--only", "recommendation", "-m", "naver-fan,nope"], "unknown model `nope`"),
    (["--only", "recommendation", "-m", "naver-fan"], "compares models from at least two vendor families"),
    (["--only", "everything"], "unknown audit part `everything`"),
    (["--only", "routing", "--since", "yesterday"], "--since 'yesterday' is not a date"),
    (["--only", "judge", "--run", "missing", "--judges", "biased,fair"], "no run `missing`"),
])
def test_errors_are_one_line(config, capsys, recorder, args, message):
    code, _, err = cli(capsys, "audit", "self-preference", "-c", str(config), *args)
    assert code == 1 and err.startswith("error: ") and message in err and err.count("\n") == 1
    assert recorder.requests == []  # checked before any model is called


# -- the embedded local models

@pytest.mark.slow
def test_recommendation_audit_on_the_embedded_models(home, capsys, monkeypatch):
    from gensandbox.audits import self_preference

    prompts = load_prompts()
    monkeypatch.setattr(self_preference.rec, "load_prompts", lambda: [prompts[0], prompts[10]])  # ko and en cloud
    code, out, err = cli(capsys, "audit", "self-preference", "--only", "recommendation", "--json")
    assert code == 0, err
    result = json.loads(out)
    models = {m["model"]: m for m in result["recommendation"]["models"]}
    assert set(models) == {"local/qwen2.5-coder-0.5b-instruct", "local/gemma-3-270m"}
    assert models["local/qwen2.5-coder-0.5b-instruct"]["own_vendor"] == "Alibaba"
    assert models["local/gemma-3-270m"]["own_vendor"] == "Google"
    assert all(m["answers"] + m["failed"] == 2 for m in models.values())
    assert len(result["recommendation"]["answers"]) == 4 and len(result["findings"]) == 2


@pytest.mark.slow
def test_judge_bias_audit_on_the_embedded_models(home, capsys):
    """Each embedded model answers 3 questions and judges the other's anonymised answers: a well-formed finding
    (two small judges grading each other cannot be told apart, and the finding says so)."""
    code, out, err = cli(capsys, "audit", "self-preference", "--only", "judge", "--questions", "3", "--json")
    assert code == 0, err
    result = json.loads(out)
    judges = {j["judge"]: j for j in result["judge"]["judges"]}
    assert set(judges) == {"local/qwen2.5-coder-0.5b-instruct", "local/gemma-3-270m"}
    assert any("combined self-preference" in finding for finding in result["findings"])
