"""The dashboard's pages through Starlette's TestClient: content, 404s, empty states, escaping, languages."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from gensandbox.config import load_config
from gensandbox.ui.text import STRINGS, choose_language, preferred_language
from tests.ui.conftest import dashboard_client
from tests.ui.scenario import AGENT_RUN_ID, AGENT_SESSION, CONTRARY_ANSWER, DIFFERING, RUN_ID, SESSION

KOREAN = re.compile("[가-힣]")


@pytest.fixture(scope="module")
def client(scenario):
    return dashboard_client(scenario.config)


@pytest.fixture
def empty_client(home):
    return dashboard_client(load_config(None))


def differing_items(html: str) -> set[str]:
    return set(re.findall(r'<tr data-item="([^"]+)" data-suite="[^"]*" class="differs">', html))


def test_every_string_has_both_languages():
    for key, (english, korean) in STRINGS.items():
        assert english.strip() and korean.strip(), key
        assert set(re.findall(r"{(\w+)}", english)) == set(re.findall(r"{(\w+)}", korean)), key


@pytest.mark.parametrize(("header", "expected"), [
    ("ko-KR,ko;q=0.9,en-US;q=0.8", "ko"), ("en-US,en;q=0.9,ko;q=0.8", "en"), ("fr-FR,ko;q=0.5", "ko"),
    ("de,fr", "en"), ("", "en"), ("en;q=0.2,ko;q=0.9", "ko"), ("ko;q=0", "en"), ("ko;q=abc,en", "en"),
])
def test_accept_language_picks_the_first_language_we_speak(header, expected):
    assert preferred_language(header) == expected


def test_query_beats_cookie_beats_header():
    assert choose_language("en", "ko", "ko") == "en"
    assert choose_language(None, "ko", "en") == "ko"
    assert choose_language("xx", "yy", "ko-KR") == "ko"


def test_runs_list_shows_the_run_with_its_totals(client):
    html = client.get("/").text
    assert f'data-run="{RUN_ID}"' in html and "echo, contrarian" in html and "duel-suite" in html
    row = html[html.index(f'data-run="{RUN_ID}"'):]
    assert "<td>6</td><td>12</td><td>0</td>" in row  # 6 items, 12 answers, no errors


def test_run_detail_has_the_leaderboard_and_links(client):
    html = client.get(f"/runs/{RUN_ID}").text
    board = html[html.index('id="leaderboard"'):]
    assert board.index(">echo<") < board.index(">contrarian<")  # echo answers all six right
    assert "100.0%" in board and "66.7%" in board
    assert f'href="/runs/{RUN_ID}/report?lang=en"' in html and f'href="/runs/{RUN_ID}/compare"' in html


def test_comparison_pairs_items_and_marks_the_differing_ones(client):
    html = client.get(f"/runs/{RUN_ID}/compare", params={"a": "echo", "b": "contrarian"}).text
    assert differing_items(html) == DIFFERING
    assert html.count("<tr data-item=") == 6
    assert "The answers differ on 2 of 6 items." in html
    only = client.get(f"/runs/{RUN_ID}/compare", params={"a": "echo", "b": "contrarian", "only": "1"}).text
    assert only.count("<tr data-item=") == 2 and differing_items(only) == DIFFERING


def test_model_answers_are_escaped_and_scripts_are_forbidden(client):
    response = client.get(f"/runs/{RUN_ID}/compare")
    assert CONTRARY_ANSWER not in response.text
    assert "&lt;script&gt;window.__pwned = true&lt;/script&gt;&lt;b&gt;No.&lt;/b&gt;" in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_unknown_model_run_session_and_path_are_404_pages_in_the_chosen_language(client):
    cases = {f"/runs/{RUN_ID}/compare?a=nobody&": "nobody", "/runs/nothing-here?": "nothing-here",
             "/runs/nothing-here/report?": "nothing-here", "/traces/nobody?": "nobody",
             "/no/such/page?": "/no/such/page"}
    for path, named in cases.items():
        for lang, title in (("en", "Not found"), ("ko", "찾을 수 없음")):
            response = client.get(f"{path}lang={lang}")
            assert response.status_code == 404, path
            assert f'<html lang="{lang}">' in response.text and title in response.text
            assert named in response.text and "Traceback" not in response.text


def test_a_bad_page_number_shows_the_nearest_page(client):
    for page in ("0", "-3", "abc", "999"):
        assert client.get("/", params={"page": page}).status_code == 200
        assert client.get("/ledger", params={"page": page}).status_code == 200


@pytest.mark.parametrize(("path", "english", "korean"), [
    ("/", "No runs yet", "아직 실행이 없습니다"),
    ("/traffic", "start it with <code>gensandbox serve</code>", "<code>gensandbox serve</code>로 시작"),
    ("/ledger", "The ledger is empty", "원장이 비어 있습니다"),
])
def test_empty_states_say_what_to_run_next(empty_client, path, english, korean):
    assert english in empty_client.get(path, params={"lang": "en"}).text
    html = empty_client.get(path, params={"lang": "ko"}).text
    assert korean in html and '<html lang="ko">' in html


def test_a_run_with_one_model_explains_how_to_compare(empty_client, home):
    from gensandbox.store import RunRecord, SQLiteStore

    SQLiteStore(home / "gensandbox.db").create_run(RunRecord("solo", "2026-01-01T00:00:00+00:00", "finished",
                                                             [{"name": "m"}], [{"name": "s", "items": 0}]))
    assert "-m MODEL_A,MODEL_B" in empty_client.get("/runs/solo/compare").text
    assert "gensandbox run --resume solo" in empty_client.get("/runs/solo").text


def test_language_comes_from_accept_language_and_a_choice_is_remembered(scenario):
    client = dashboard_client(scenario.config)  # its own cookie jar
    assert '<html lang="ko">' in client.get("/traffic", headers={"accept-language": "ko-KR,ko;q=0.9"}).text
    chosen = client.get("/", params={"lang": "ko"}, headers={"accept-language": "en"})
    assert chosen.cookies.get("gensandbox_lang") == "ko"
    after = client.get("/ledger", headers={"accept-language": "en"})
    assert '<html lang="ko">' in after.text and KOREAN.search(after.text)


def test_traffic_shows_spend_per_key_and_model(client):
    html = client.get("/traffic", params={"lang": "en"}).text
    rows = re.findall(r'<tr><td class="text">anonymous</td><td class="text">(\w+)</td><td>(\d+)</td>', html)
    assert sorted(rows) == [("contrarian", "1"), ("echo", "2")]


def test_ledger_lists_records_newest_first_and_the_session(client):
    html = client.get("/ledger", params={"lang": "en"}).text
    numbers = [int(n) for n in re.findall(r'<tr(?: class="failed")?><td>(\d+)</td>', html)]
    assert numbers == list(range(len(numbers), 0, -1))  # every record (fewer than a page), newest first
    # The duel's 12 answers, the gateway session's 3 calls, the agent run's 9 model calls and 5 tool calls
    assert html.count(">model call<") == 12 + 3 + 9 and html.count(">tool call<") == 5
    assert ">signed checkpoint<" in html
    sessions = html[html.index('id="sessions"'):]
    assert f'<a href="/traces/{SESSION}">{SESSION}</a></td><td>3</td>' in sessions


def test_verification_reports_ok_and_progress_as_json(client):
    started = client.post("/ledger/verify", headers={"accept": "application/json"})
    assert started.status_code == 202
    job = started.json()
    status = client.get(job["poll"], params={"lang": "en"}).json()  # the thread has finished by now
    assert status["state"] == "ok" and status["message"].startswith("OK: ")
    assert status["checked"] == status["total"] > 12
    assert client.get("/ledger/verify/unknown").status_code == 404


def test_verification_without_script_redirects_to_the_ledger_page(client):
    response = client.post("/ledger/verify", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/ledger?verify=")
    page = client.get(response.headers["location"] + "&lang=en").text
    assert 'class="ok"' in page and "OK: " in page


def test_trace_page_has_calls_tool_steps_and_a_timeline(client):
    html = client.get(f"/traces/{SESSION}", params={"lang": "en"}).text
    assert "3 calls (0 failed), 1 tool steps" in html
    assert "tool search_flights" in html and html.count("<rect ") == 3
    assert "depth-1" in html  # the second and third calls are children of the first


def test_an_agent_episode_trace_has_its_executed_tool_steps(client):
    html = client.get(f"/traces/{quote(AGENT_SESSION)}", params={"lang": "en"}).text
    assert "2 calls (0 failed), 1 tool steps" in html
    tool_row = html[html.index('<tr class="tool">'):]
    tool_row = tool_row[:tool_row.index("</tr>")]
    assert "tool add_to_cart" in tool_row and " s</td>" in tool_row and ">ok<" in tool_row
    assert html.count("<rect ") == 3 and html.count('class="bar tool"') == 1  # two calls and the tool between
    ledger = client.get("/ledger", params={"lang": "en"}).text
    assert f'<a href="/traces/{quote(AGENT_SESSION)}">{AGENT_SESSION}</a>' in ledger


def test_run_page_shows_the_agent_metrics(client):
    html = client.get(f"/runs/{AGENT_RUN_ID}", params={"lang": "en"}).text
    table = html[html.index('id="agents"'):html.index("</table>", html.index('id="agents"'))]
    right = table[table.index('data-model="agent-right"'):]
    injectable = table[table.index('data-model="agent-injectable"'):]
    assert table.index("agent-right") < table.index("agent-injectable")  # ranked by success
    assert "<strong>100.0%</strong>" in right[:right.index("</tr>")]
    assert '<td class="attack">0.0%</td>' in right[:right.index("</tr>")]
    assert "<strong>50.0%</strong>" in injectable and '<td class="attack">100.0%</td>' in injectable
    assert "pass^1" in table and f"<code>gensandbox trace --run {AGENT_RUN_ID}</code>" in html
    assert "과제당 도구 호출" in client.get(f"/runs/{AGENT_RUN_ID}", params={"lang": "ko"}).text
    assert 'id="agents"' not in client.get(f"/runs/{RUN_ID}", params={"lang": "en"}).text


def test_report_route_serves_the_run_report(client):
    response = client.get(f"/runs/{RUN_ID}/report", params={"lang": "ko"})
    assert response.status_code == 200 and RUN_ID in response.text and "<svg" in response.text


def _write_ledger(config, calls: int) -> None:
    from gensandbox.ledger.events import CallFacts
    from gensandbox.ledger.writer import open_ledger

    ledger = open_ledger(config)
    for n in range(calls):
        ledger.record_call(CallFacts("gateway", "openai", "m", "m", f"2026-01-01T00:00:{n % 60:02d}+00:00", 0.1,
                                     n, n, 0.001, "prices", [{"role": "user", "content": "hi"}], "hello",
                                     session=f"s-{n % 3}"))
    ledger.close()


def test_a_tampered_record_is_named_as_the_first_bad_one(home):
    import sqlite3

    config = load_config(None)
    _write_ledger(config, 5)
    with sqlite3.connect(home / "ledger.db") as db:  # someone edits a cost in place
        db.execute("UPDATE ledger SET record = CAST(replace(CAST(record AS TEXT), '\"gensandbox.cost_usd\":0.001', "
                   "'\"gensandbox.cost_usd\":0.0') AS BLOB) WHERE seq = 3")
    client = dashboard_client(config)
    job = client.post("/ledger/verify", headers={"accept": "application/json"}).json()
    status = client.get(job["poll"] + "?lang=en").json()
    assert status["state"] == "bad", status["message"]
    assert status["message"].startswith("BAD: record 3 is the first bad one: its hash does not match")
    korean = client.get(job["poll"] + "?lang=ko").json()["message"]
    assert korean.startswith("손상: 기록 3번이")


def test_ledger_pages_go_from_newest_to_oldest(home):
    config = load_config(None)
    _write_ledger(config, 120)  # and one checkpoint: 121 records, 3 pages
    client = dashboard_client(config)
    pages = [client.get("/ledger", params={"page": page, "lang": "en"}).text for page in (1, 2, 3)]
    numbers = [[int(n) for n in re.findall(r"<tr(?: class=\"failed\")?><td>(\d+)</td>", html)] for html in pages]
    assert numbers == [list(range(121, 71, -1)), list(range(71, 21, -1)), list(range(21, 0, -1))]
    assert "Page 2 of 3" in pages[1] and 'rel="prev" href="/ledger?page=1' in pages[1]
    sessions = re.findall(r'<a href="/traces/(s-\d)">', pages[0][pages[0].index('id="sessions"'):])
    assert sorted(sessions) == ["s-0", "s-1", "s-2"]


def test_a_ledger_that_cannot_be_opened_is_explained_not_crashed(home, monkeypatch):
    monkeypatch.setenv("GENSANDBOX_LEDGER_URL", "bogus://nowhere")
    response = dashboard_client(load_config(None)).get("/ledger", params={"lang": "en"})
    assert response.status_code == 503 and "unknown ledger address" in response.text
    assert "Cannot show this" in response.text


def test_an_unexpected_error_is_a_short_page_without_internals(home, monkeypatch):
    from gensandbox.ui import traffic_data

    def broken(*args):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(traffic_data, "read_traffic", broken)
    client = dashboard_client(load_config(None), raise_server_exceptions=False)
    response = client.get("/traffic", params={"lang": "ko"})
    assert response.status_code == 500 and "문제가 발생했습니다" in response.text
    assert "secret internals" not in response.text and "Traceback" not in response.text


def test_only_loopback_host_names_are_answered(client):
    assert client.get("/", headers={"host": "localhost:8765"}).status_code == 200
    assert client.get("/", headers={"host": "[::1]:8765"}).status_code == 200
    assert client.get("/", headers={"host": "rebound.example:8765"}).status_code == 400
