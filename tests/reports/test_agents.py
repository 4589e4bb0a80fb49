"""The report of a real run of agent tasks (tests/agent_run.py): the Agents section's metrics per model and suite,
its cost–success frontier and the attack success rate, in English and Korean, and the sample browser's whole
conversation of an episode."""

from __future__ import annotations

import pytest

from gensandbox.reports import build_view, render_report
from gensandbox.reports.charts import chart_specs
from gensandbox.store import SQLiteStore
from tests.agent_run import EPOCHS, RUN_ID, make_agent_run
from tests.reports.conftest import embedded_json
from tests.upstream_agent import AgentUpstream


@pytest.fixture(scope="module")
def agent_view(tmp_path_factory):
    upstream = AgentUpstream().start()
    try:
        made = make_agent_run(tmp_path_factory.mktemp("agent-report"), upstream)
    finally:
        upstream.stop()
    store = SQLiteStore(made.home / "gensandbox.db")
    try:
        yield build_view(store.get_run(RUN_ID), store, resamples=200)
    finally:
        store.close()


def test_metrics_per_model_have_the_known_values(agent_view):
    agents = agent_view.agents
    assert agents.epochs == EPOCHS
    rows = {row.model: row for row in agents.per_model}
    right, wrong = rows["agent-right"], rows["agent-wrong"]
    assert (right.items, right.tries, right.errors) == (6, 12, 0)
    assert right.success == right.pass_k == 1.0 and right.invalid_calls == 0
    assert wrong.success == pytest.approx(2 / 6) and wrong.pass_k == pytest.approx(2 / 6)
    assert rows["agent-unknown"].invalid_calls == 12 and rows["agent-unknown"].invalid_per_task == 1.0
    # Model calls and tool calls: weather 2 and 1, two-cities 2 and 2, irrelevant 1 and 0, the others 2 and 1.
    assert right.steps_per_task == pytest.approx((2 + 2 + 2 + 1 + 2 + 2) / 6)
    assert right.tool_calls_per_task == pytest.approx((1 + 2 + 1 + 0 + 1 + 1) / 6)
    assert right.cost_per_solved_usd == pytest.approx(right.cost_usd / 12) and right.cost_usd > 0
    assert [row.model for row in agents.per_model][0] == "agent-right"  # ranked by success
    assert rows["agent-injectable"].attack_success_rate == 1.0 and right.attack_success_rate == 0.0
    assert list(agents.per_suite) == ["agents"] and len(agents.per_suite["agents"]) == 4


def test_the_agents_section_in_english(agent_view):
    html = render_report(agent_view, "en")
    section = html[html.index('<section id="agents">'):html.index("</section>", html.index('<section id="agents">'))]
    assert 'href="#agents"' in html and "pass^2" in section and "Success (pass@1)" in section
    row = section[section.index('<tr data-model="agent-right">'):]
    assert row.index("100.0%") < row.index("</tr>")
    attacks = section[section.index('id="attack-table"'):]
    assert attacks.index('data-model="agent-right"') < attacks.index('data-model="agent-injectable"')  # safest first
    specs = embedded_json(html, "chart-specs")
    assert {point["model"] for point in specs["agent-frontier"]["data"]["values"]} == {
        "agent-right", "agent-wrong", "agent-unknown", "agent-injectable"}
    assert specs["agent-frontier"]["title"]["text"] == "Agent tasks: cost versus success"


def test_the_agents_section_in_korean(agent_view):
    html = render_report(agent_view, "ko")
    assert "성공률(pass@1)" in html and "공격 성공률" in html and "해결한 과제당 비용" in html
    assert chart_specs(agent_view, "ko")["agent-frontier"]["title"]["text"] == "에이전트 과제: 비용 대비 성공률"
    assert embedded_json(html, "ui-text")["status_invalid"] == "잘못된 호출, 실행 안 함"


def test_the_sample_browser_carries_each_episode(agent_view):
    payload = embedded_json(render_report(agent_view, "en"), "sample-data")
    samples = [dict(zip(payload["fields"], row, strict=True)) for row in payload["rows"]]
    assert all(sample["conversation"] is not None for sample in samples)
    by_key = {(s["model"], s["item_id"], s["epoch"]): s["conversation"] for s in samples}
    shop = by_key["agent-right", "shop", 0]
    assert shop["session"] == f"{RUN_ID}/agent-right/agents/shop#0" and shop["end"] == "answered"
    assert [step["kind"] for step in shop["steps"]] == ["model", "tool", "model"]
    assert shop["steps"][0]["tool_calls"] == [{"name": "add_to_cart",
                                               "arguments": '{"product": "kimchi", "quantity": 2}'}]
    assert shop["steps"][1] | {"result": ""} == {"kind": "tool", "name": "add_to_cart", "status": "ok",
                                                 "arguments": '{"product": "kimchi", "quantity": 2}', "result": "",
                                                 "problem": None}
    assert '"stock": 1' in shop["state"]
    unknown = by_key["agent-unknown", "weather", 1]["steps"][1]
    assert unknown["status"] == "invalid" and "unknown tool 'no_such_tool'" in unknown["problem"]
    assert by_key["agent-injectable", "inbox", 0]["attack_succeeded"] is True

