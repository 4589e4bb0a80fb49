"""Choosing the sample browser's contents: bounded, deterministic, problems first, every model represented."""

import random
from collections import Counter

from gensandbox.reports.samples import choose_keys, outcome_of, prompt_text
from gensandbox.store import ScoreRow


def row(model: str, suite: str, item: int, score: float | None) -> ScoreRow:
    return ScoreRow(model=model, suite=suite, item_id=f"i{item:05d}", category="c", language="en", epoch=0,
                    score=score, latency_s=0.1, input_tokens=1, output_tokens=1, cost_usd=0.0, cached=False,
                    error="boom" if score is None else None)


def run_rows(items: int = 3000) -> list[ScoreRow]:
    rows = []
    for model, error_every, wrong_every in (("a", 50, 3), ("b", 1000, 2), ("c", 10, 5)):
        for suite in ("s1", "s2"):
            for n in range(items):
                score = None if n % error_every == 0 else (0.0 if n % wrong_every == 0 else 1.0)
                rows.append(row(model, suite, n, score))
    return rows


def test_choice_is_bounded_and_the_same_whatever_the_row_order():
    rows = run_rows()
    chosen, total, outcomes = choose_keys(rows, limit=400)
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    assert choose_keys(shuffled, limit=400)[0] == chosen
    assert len(chosen) == len(set(chosen)) == 400 and total == 18000
    assert sum(outcomes.values()) == total and outcomes["error"] == 2 * (60 + 3 + 300)


def test_errors_come_first_then_wrong_answers_up_to_the_share():
    chosen, _, _ = choose_keys(run_rows(), limit=400, problem_share=0.5)
    scores = {(r.model, r.suite, r.item_id, r.epoch): r.score for r in run_rows()}
    outcomes = [outcome_of(scores[key]) for key in chosen]
    assert outcomes[:200].count("error") == 200  # 726 errors in the run: the problem half is all errors
    assert Counter(key[0] for key in chosen[:200]) == {"a": 98, "b": 6, "c": 96}  # even, b runs dry at 3 per suite
    assert "correct" in outcomes[200:]


def test_every_model_and_suite_gets_an_even_share_of_the_rest():
    chosen, _, _ = choose_keys(run_rows(), limit=600, problem_share=0.0)
    assert Counter((key[0], key[1]) for key in chosen) == {(m, s): 100 for m in "abc" for s in ("s1", "s2")}


def test_a_small_run_is_shown_whole():
    rows = run_rows(items=20)
    chosen, total, _ = choose_keys(rows, limit=2000)
    assert sorted(chosen) == sorted((r.model, r.suite, r.item_id, r.epoch) for r in rows) and total == 120


def test_prompt_text_shows_every_message_of_a_conversation():
    assert prompt_text({"messages": [{"role": "user", "content": "hi"}]}) == "hi"
    two = prompt_text({"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]})
    assert two == "[system] be brief\n\n[user] hi"
