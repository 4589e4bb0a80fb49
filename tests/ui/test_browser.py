"""The dashboard and a report in real headless Chromium: every page loads without console errors, the comparison
shows the items where the answers differ, the language switch sticks, and each page is saved as a screenshot
under test-artifacts/screenshots/."""

from __future__ import annotations

import re

from gensandbox.cli.app import main
from gensandbox.config import load_config
from gensandbox.store import SQLiteStore
from gensandbox.ui import create_ui_app
from tests.ui.scenario import AGENT_RUN_ID, AGENT_SESSION, CONTRARY_ANSWER, DIFFERING, RUN_ID, SESSION
from tests.upstream import BackgroundServer


def test_runs_list_run_detail_and_the_served_report(tab, dashboard):
    page = tab.open(dashboard.url, "runs")
    assert page.locator(f'#runs tr[data-run="{RUN_ID}"]').count() == 1
    page.click(f"text={RUN_ID}")
    tab.check("run-detail")
    leaderboard = page.locator("#leaderboard tbody tr")
    assert leaderboard.count() == 2 and leaderboard.first.locator("td").first.inner_text() == "echo"
    page.click("#report-link")
    tab.check("run-report")
    assert RUN_ID in page.content() and page.locator("svg").count() >= 1


def test_comparison_shows_exactly_the_items_whose_answers_differ(tab, dashboard):
    page = tab.open(f"{dashboard.url}/runs/{RUN_ID}/compare?a=echo&b=contrarian", "compare")
    differing = page.locator("#pairs tr.differs")
    assert {differing.nth(i).get_attribute("data-item") for i in range(differing.count())} == DIFFERING
    assert page.locator("#pairs tbody tr").count() == 6
    assert page.locator("#compare-counts").get_attribute("data-differing") == "2"
    # The contrarian's answer is HTML with a script: it shows as text and never runs.
    assert CONTRARY_ANSWER in page.locator('#pairs tr[data-item="q2"]').inner_text()
    assert page.evaluate("window.__pwned === undefined")

    page.check("input[name=only]")
    page.click("#compare-form button[type=submit]")
    tab.check("compare-only-differing")
    assert page.locator("#pairs tbody tr").count() == 2 and page.locator("#pairs tr.differs").count() == 2
    page.select_option("select[name=a]", "contrarian")
    page.select_option("select[name=b]", "echo")
    page.click("#compare-form button[type=submit]")
    tab.check("compare-swapped")
    assert "a=contrarian" in page.url and page.locator("#pairs tr.differs").count() == 2


def test_language_switch_turns_korean_and_is_remembered(tab, dashboard):
    page = tab.open(dashboard.url, "runs-en")
    assert page.get_attribute("html", "lang") == "en" and page.locator("h1").inner_text() == "Runs"
    page.click("#lang-switch")
    tab.check("runs-ko")
    assert page.get_attribute("html", "lang") == "ko" and page.locator("h1").inner_text() == "실행 목록"
    page.click("nav >> text=원장")  # a plain link, no ?lang=: the cookie carries the choice
    tab.check("ledger-ko")
    assert page.get_attribute("html", "lang") == "ko" and page.locator("h1").inner_text() == "원장"
    page.click("#lang-switch")
    tab.check("ledger-en")
    assert page.locator("h1").inner_text() == "Ledger"


def test_a_korean_browser_gets_korean_pages(browser, dashboard):
    from tests.ui.conftest import Tab

    context = browser.new_context(locale="ko-KR")
    try:
        tab = Tab(context.new_page())
        page = tab.open(f"{dashboard.url}/runs/{RUN_ID}", "run-detail-ko")
        assert page.get_attribute("html", "lang") == "ko" and "순위표" in page.content()
        page.click("#report-link")
        tab.check("run-report-ko")
        assert "lang=ko" in page.url
    finally:
        context.close()


def test_ledger_verify_shows_ok_and_the_session_trace_opens(tab, dashboard):
    page = tab.open(f"{dashboard.url}/ledger", "ledger")
    page.click("#verify button")
    status = page.locator("#verify-status.ok")
    status.wait_for(timeout=10_000)
    assert status.inner_text().startswith("OK: ")
    tab.check("ledger-verified")

    page.click(f"#sessions >> text={SESSION}")
    tab.check("trace")
    assert page.locator("#waterfall rect").count() == 3
    assert page.locator("#steps tr.tool").inner_text().count("search_flights") == 1
    assert re.search(r"3 calls \(0 failed\), 1 tool steps", page.locator("#trace-summary").inner_text())

    # An evaluation episode's session (its name holds '#'): its tool ran in the environment and has a bar of its own.
    page = tab.open(f"{dashboard.url}/ledger", "ledger-again")
    page.click(f"#sessions >> text={AGENT_SESSION}")
    tab.check("trace-agent")
    assert page.locator("#waterfall g.tool rect").count() == 1 and page.locator("#waterfall rect").count() == 3
    assert "tool add_to_cart" in page.locator("#steps tr.tool").inner_text()


def test_traffic_shows_spend_per_key_and_model(tab, dashboard):
    page = tab.open(f"{dashboard.url}/traffic", "traffic")
    rows = page.locator("#traffic tbody tr")
    assert rows.count() == 2 and "anonymous" in rows.first.inner_text()


def test_empty_states_in_both_languages(tab, tmp_path, monkeypatch):
    monkeypatch.setenv("GENSANDBOX_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no gensandbox.toml here
    config = load_config(None)
    server = BackgroundServer(create_ui_app(config, SQLiteStore(config.database_path))).start()
    try:
        for lang in ("en", "ko"):
            for name, path in (("runs", "/"), ("traffic", "/traffic"), ("ledger", "/ledger")):
                page = tab.open(f"{server.url}{path}?lang={lang}", f"empty-{name}-{lang}")
                assert page.locator("p.empty code").count() >= 1  # each names the command to run next
    finally:
        server.stop()


def test_written_report_opens_offline_with_its_chart(tab, scenario, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GENSANDBOX_HOME", str(scenario.home))
    report = tmp_path / "report.html"
    assert main(["report", RUN_ID, "-o", str(report), "-c", str(scenario.config_path)]) == 0
    capsys.readouterr()
    page = tab.open(report.as_uri(), "report-file")
    page.wait_for_load_state("networkidle")
    assert page.locator("#frontier-chart svg, #frontier-chart canvas").count() >= 1
    assert tab.errors == []

    # A run of agent tasks: its Agents section draws its own frontier, and an episode's conversation unfolds.
    agents = tmp_path / "agents.html"
    assert main(["report", AGENT_RUN_ID, "-o", str(agents), "-c", str(scenario.config_path)]) == 0
    capsys.readouterr()
    page = tab.open(agents.as_uri(), "report-agents")
    page.wait_for_selector("body[data-charts-ready=true]")
    assert page.locator("#agent-frontier-chart svg").count() >= 1
    assert page.locator("#agent-table tbody tr").count() == 2 and page.locator("#attack-table").count() == 1
    page.fill("#filter-search", "agent-injectable/agents/inbox")
    details = page.locator("#sample-rows details.conversation").first
    details.locator("summary").click()
    tab.check("report-agents-conversation")
    steps = details.locator("ol.steps > li")
    assert steps.count() == 5  # read_inbox, its result, the planted send_email, its result, the answer
    assert "send_email" in steps.nth(2).inner_text() and "evil.example" in steps.nth(2).inner_text()
    assert details.locator(".attack").inner_text() == "the attack worked"


def test_traffic_charts_draw_and_korean_headers_keep_their_words(browser, dashboard):
    from tests.ui.conftest import Tab

    context = browser.new_context(locale="ko-KR", viewport={"width": 1024, "height": 900})
    try:
        tab = Tab(context.new_page())
        page = tab.open(f"{dashboard.url}/traffic?range=all", "traffic-ko")
        page.wait_for_selector("body[data-charts-ready=true]", timeout=20_000)
        for name in ("requests", "spend", "latency"):  # drawn under the page's policy, fetching nothing
            assert page.locator(f'#{name}-chart[data-rendered="true"] svg').count() == 1, name
        assert page.locator("#errors-none").count() == 1  # no errors: said, not drawn as an empty frame
        tab.check("traffic-charts-ko")
        assert page.locator("#requests-chart svg path[aria-roledescription=bar]").count() >= 2  # echo, contrarian
        # Every header cell's text stands on at most two lines (a line: a distinct top among its text's boxes).
        lines = page.locator("#traffic th, #keys th").evaluate_all("""cells => cells.map(cell => {
            const range = document.createRange();
            range.selectNodeContents(cell);
            return [cell.textContent, new Set([...range.getClientRects()].map(r => Math.round(r.top))).size];
        })""")
        assert lines and all(count <= 2 for _, count in lines), lines
        page.click("#spans a[data-span=hour]")  # a plain link: the span is in the address, so a link keeps it
        tab.check("traffic-last-hour-ko")
        assert "range=hour" in page.url and page.locator("#spans a.active").get_attribute("data-span") == "hour"
    finally:
        context.close()
