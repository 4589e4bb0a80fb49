"""Agent metrics on tries whose results are known: pass@1, pass^k, steps, invalid calls, cost and time per solved
task, attack success rate and the simulated user's cost, per model and suite and per model."""

import math

from gensandbox.runner.agent_metrics import AgentTry, agent_metrics, agent_tries, by_model, metrics_json
from gensandbox.store import SampleRecord


def attempt(model="m", item="a", epoch=0, score=1.0, suite="s", cost=0.01, latency=2.0, steps=2, tools=1,
            invalid=0, user_cost=0.0, attack=None):
    return AgentTry(model, suite, item, epoch, score, cost, latency, steps, tools, invalid, user_cost, attack)


def test_pass_at_1_and_pass_k_over_three_epochs():
    # Item a solved every time, b twice of three, c never: pass@1 = 5/9, pass^3 = 1/3.
    scores = {"a": [1, 1, 1], "b": [1, 0, 1], "c": [0, 0, 0]}
    tries = [attempt(item=item, epoch=epoch, score=float(score)) for item, row in scores.items()
             for epoch, score in enumerate(row)]
    (row,) = agent_metrics(tries, epochs=3)
    assert row.key == ("m", "s") and row.items == 3 and row.tries == 9 and row.epochs == 3
    assert math.isclose(row.success, 5 / 9) and math.isclose(row.pass_k, 1 / 3)
    assert row.solved == 5
    assert math.isclose(row.cost_per_solved_usd, 0.09 / 5) and math.isclose(row.latency_per_solved_s, 18 / 5)
    assert row.ci_low <= row.success <= row.ci_high


def test_one_epoch_pass_k_equals_pass_at_1():
    (row,) = agent_metrics([attempt(item="a", score=1.0), attempt(item="b", score=0.0)], epochs=1)
    assert row.success == row.pass_k == 0.5


def test_a_failed_try_is_counted_apart_and_breaks_reliability():
    tries = [attempt(item="a", epoch=0, score=1.0), attempt(item="a", epoch=1, score=None, steps=1, tools=0),
             attempt(item="b", epoch=0, score=1.0), attempt(item="b", epoch=1, score=1.0)]
    (row,) = agent_metrics(tries, epochs=2)
    assert row.errors == 1 and row.success == 1.0
    assert row.pass_k == 1.0  # only b has two scored tries, and both were solved
    assert row.steps_per_task == 7 / 4 and row.tool_calls_per_task == 3 / 4  # the failed try's steps count too
    assert math.isclose(row.cost_per_solved_usd, 0.04 / 3)


def test_invalid_calls_attacks_and_the_users_cost():
    tries = [attempt(item="a", invalid=2, attack=True, user_cost=0.002),
             attempt(item="b", invalid=0, attack=False, user_cost=0.001), attempt(item="c", score=0.0)]
    (row,) = agent_metrics(tries)
    assert row.invalid_calls == 2 and math.isclose(row.invalid_per_task, 2 / 3)
    assert row.attack_tries == 2 and row.attacks_succeeded == 1 and row.attack_success_rate == 0.5
    assert math.isclose(row.user_cost_usd, 0.003) and math.isclose(row.cost_usd, 0.03)


def test_nothing_solved_and_no_attack_give_no_number():
    (row,) = agent_metrics([attempt(score=0.0)])
    assert math.isnan(row.cost_per_solved_usd) and math.isnan(row.attack_success_rate)
    (data,) = metrics_json([row])
    assert data["cost_per_solved_usd"] is None and data["attack_success_rate"] is None and data["suite"] == "s"


def test_groups_per_model_and_suite_and_per_model():
    tries = [attempt(model="x", suite="one"), attempt(model="x", suite="two", score=0.0), attempt(model="y")]
    assert [row.key for row in agent_metrics(tries)] == [("x", "one"), ("x", "two"), ("y", "s")]
    per_model = agent_metrics(tries, key=by_model)
    assert [(row.key, row.items, row.success) for row in per_model] == [(("x",), 2, 0.5), (("y",), 1, 1.0)]
    assert "suite" not in metrics_json(per_model)[0]


def test_agent_tries_passes_every_sample_on_and_keeps_the_agent_ones():
    episode = {"model_calls": 3, "tool_calls": 2, "invalid_calls": 1, "user_cost_usd": 0.5,
               "attack_succeeded": False}
    common = dict(run_id="r", model="m", suite="s", category="c", language="en", request={}, response_text="ok",
                  finish_reason="stop", input_tokens=1, output_tokens=1, latency_s=1.0, cost_usd=0.1, score=1.0,
                  scorer={"name": "exact"}, reason="")
    samples = [SampleRecord(item_id="plain", **common), SampleRecord(item_id="agent", episode=episode, **common)]
    kept: list[AgentTry] = []
    assert list(agent_tries(samples, kept)) == samples
    assert kept == [AgentTry("m", "s", "agent", 0, 1.0, 0.1, 1.0, 3, 2, 1, 0.5, False)]
