"""The shared sandbox's workbench in real headless Chromium, in Korean and in English, served as `gensandbox ui`
serves it from a home of its own: a tester signs in with a key, uploads a Korean suite, sees the estimate, caps
the cost, runs it on the embedded Qwen model, watches it finish and opens the report; a regulator verifies the
ledger and cannot start a run; a wrong key is refused in the page's language and signing out ends the session;
Korean table headers never break one syllable per line."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gensandbox.access import OPERATOR
from gensandbox.access.keys import KeyAdmin
from gensandbox.access.projects import ProjectAdmin, ProjectStore
from gensandbox.access.record import AdminRecorder
from gensandbox.config import Config, load_config
from gensandbox.store import SQLiteStore, open_store
from gensandbox.store.base import RunRecord, SampleRecord
from gensandbox.ui import create_ui_app
from gensandbox.ui.guard import SESSION_COOKIE
from gensandbox.ui.text import t
from tests.ui.conftest import Tab
from tests.upstream import BackgroundServer

QWEN = "local/qwen2.5-coder-0.5b-instruct"
MODELS = (QWEN, "local/gemma-3-270m")
PROJECT = "lab"
SEEDED_RUN = "2026-12-01-korean-suites-on-both-embedded-models"
LOCALES = {"en": "en-US", "ko": "ko-KR"}
LANGS = pytest.mark.parametrize("lang", ["en", "ko"])
KOREAN_ITEMS = [
    {"id": "ko-capital", "language": "ko", "category": "knowledge", "target": ["서울", "Seoul"], "scorer": "includes",
     "messages": [{"role": "user", "content": "대한민국의 수도는 어디입니까? 도시 이름만 답하세요."}]},
    {"id": "ko-sum", "language": "ko", "category": "arithmetic", "target": "8", "scorer": "includes",
     "messages": [{"role": "user", "content": "3 더하기 5는 얼마입니까? 숫자만 답하세요."}]},
]


@dataclass
class Sandbox:
    config: Config
    keys: dict[str, str]  # role → secret: admin (every project), tester and regulator (of PROJECT)
    url: str = ""


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, shared_models_dir) -> Iterator[Sandbox]:
    """A fresh GENSANDBOX_HOME with no gensandbox.toml (the embedded models), a project that shares Qwen, a key of
    each role the tests sign in with, one finished run, and the dashboard serving it all."""
    home = tmp_path_factory.mktemp("workbench-browser")
    (home / "models").symlink_to(shared_models_dir, target_is_directory=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GENSANDBOX_HOME", str(home))
        patch.chdir(home)
        config = load_config(None)
        sandbox = Sandbox(config, _keys_and_a_run(config))
        server = BackgroundServer(create_ui_app(config, SQLiteStore(config.database_path))).start()
        sandbox.url = server.url
        try:
            yield sandbox
        finally:
            server.stop()


def _keys_and_a_run(config: Config) -> dict[str, str]:
    store = open_store(config)
    try:
        recorder = AdminRecorder(config)
        ProjectAdmin(store, recorder).create(OPERATOR, PROJECT, "Test lab", models=[QWEN])
        keys = KeyAdmin(store, recorder)
        secrets = {role: keys.create(OPERATOR, role, project, label=f"{role}-of-the-korean-test-laboratory")[0]
                   for role, project in (("admin", "default"), ("tester", PROJECT), ("regulator", PROJECT))}
        _seed_crowded_run(store)
        return secrets
    finally:
        store.close()


def _seed_crowded_run(store) -> None:
    """A finished run of both embedded models on three suites: long names that leave its tables' headers little room."""
    suites = ["basics-ko", "safety-ko", "tools-ko"]
    store.create_run(RunRecord(SEEDED_RUN, "2026-12-01T00:00:00Z", "finished",
                               [{"name": model, "provider": "local"} for model in MODELS],
                               [{"name": suite, "items": 1} for suite in suites]))
    for model in MODELS:
        for suite in suites:
            store.add_sample(SampleRecord(SEEDED_RUN, model, suite, f"{suite}-01", "knowledge", "ko",
                                          {"messages": [{"role": "user", "content": "대한민국의 수도는?"}]}, "서울",
                                          "stop", 9, 2, 0.4, 0.0, 1.0, {"name": "includes"}, "ok"))
    ProjectStore(store).assign_run(SEEDED_RUN, PROJECT, "test")


@pytest.fixture
def lang_tab(browser, request) -> Iterator[Tab]:
    """A fresh browser context (no cookies) whose browser prefers the test's language."""
    lang = request.node.callspec.params["lang"]
    context = browser.new_context(locale=LOCALES[lang], viewport={"width": 1280, "height": 900})
    yield Tab(context.new_page())
    context.close()


def sign_in(tab: Tab, sandbox: Sandbox, role: str, wanted: str, name: str):
    """Asks for a page, is sent to sign-in, signs in with the role's key and lands on the page asked for."""
    page = tab.open(f"{sandbox.url}{wanted}", f"{name}-signin")
    assert page.url == f"{sandbox.url}/signin?next={wanted}"
    page.fill("#signin input[name=key]", sandbox.keys[role])
    with page.expect_navigation():
        page.click("#signin button[type=submit]")
    tab.check(name)
    assert page.url == f"{sandbox.url}{wanted}"
    return page


def write_korean_suite(directory: Path) -> Path:
    path = directory / "수도와-덧셈.jsonl"
    path.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in KOREAN_ITEMS), encoding="utf-8")
    return path


@pytest.mark.slow
@LANGS
def test_a_tester_uploads_a_korean_suite_runs_it_capped_on_qwen_and_opens_the_report(lang_tab, sandbox, lang,
                                                                                         tmp_path):
    page = sign_in(lang_tab, sandbox, "tester", "/workbench", f"wb-tester-{lang}")
    assert page.get_attribute("html", "lang") == lang
    assert page.locator("h1").inner_text() == t(lang, "wb.title")
    models = page.locator("#start-run input[name=models]")
    assert models.count() == 1 and models.first.get_attribute("value") == QWEN and models.first.is_checked()

    page.set_input_files("#suite-file", str(write_korean_suite(tmp_path)))
    uploaded = t(lang, "wb.uploaded", name="수도와-덧셈", items=2)
    page.wait_for_function("text => document.getElementById('upload-status').textContent === text", arg=uploaded)
    assert page.locator("#suite-picks input[name=suites]:checked").count() == 1  # only the upload is picked

    page.fill("#start-run input[name=limit]", "2")
    page.click("#estimate")
    estimate = page.locator("#estimate-result")
    estimate.wait_for(state="visible")
    expected = re.escape(t(lang, "wb.estimate_text", items=2, calls=2, cost="COST", unpriced="")).replace(
        "COST", r"(\d+\.\d{4})")
    shown = re.fullmatch(expected, estimate.inner_text())
    assert shown, estimate.inner_text()
    cap = float(shown.group(1)) * 10 + 0.01  # the local model's compute time, priced: the cap leaves it room
    page.fill("#start-run input[name=max_cost_usd]", f"{cap:.4f}")
    lang_tab.check(f"wb-estimated-{lang}")

    with page.expect_navigation(url=re.compile(r"/runs/[^/]+/live$")):
        page.click("#start")
    lang_tab.check(f"live-started-{lang}")
    run_id = page.locator("#live").get_attribute("data-run")
    if "finished" not in page.locator("#live-status").get_attribute("class"):  # not already over
        assert page.locator("#open-report").is_hidden() and page.locator("#cancel").is_visible()
    page.locator("#live-status.finished").wait_for(timeout=120_000)
    assert page.locator("#live-status").inner_text() == t(lang, "live.status.finished")
    assert page.locator("#live-items").inner_text() == "2 / 2" and page.locator("#live-errors").inner_text() == "0"
    assert page.locator("#cancel").is_hidden() and page.locator("#open-report").is_visible()
    lang_tab.check(f"live-finished-{lang}")

    page.click("#open-report")
    lang_tab.check(f"wb-report-{lang}")
    assert page.url.startswith(f"{sandbox.url}/runs/{run_id}/report")
    assert page.get_attribute("html", "lang") == lang
    report = page.content()
    assert run_id in report and QWEN in report and "수도와-덧셈" in report
    for item in KOREAN_ITEMS:
        assert item["id"] in report  # a tester reads the samples: each item's result is there


@LANGS
def test_a_regulator_verifies_the_ledger_and_cannot_start_a_run(lang_tab, sandbox, lang):
    page = sign_in(lang_tab, sandbox, "regulator", "/", f"regulator-{lang}")
    menu = page.locator("header.top nav a")
    assert page.locator('header.top nav a[href="/workbench"]').count() == 0 and menu.count() >= 2
    assert t(lang, "who.role.regulator") in page.locator("#who").inner_text()
    page.click(f"header.top nav >> text={t(lang, 'nav.ledger')}")
    lang_tab.check(f"regulator-ledger-{lang}")
    page.click("#verify button")
    status = page.locator("#verify-status.ok")
    status.wait_for(timeout=20_000)
    assert status.inner_text().startswith(t(lang, "ledger.ok").split(":")[0] + ": ")
    lang_tab.check(f"regulator-verified-{lang}")

    # Not by the page, nor by the API with the session and its CSRF token, as the page's own script would send it.
    assert page.request.get(f"{sandbox.url}/workbench").status == 403
    csrf = page.get_attribute('meta[name="csrf-token"]', "content")
    refused = page.request.post(f"{sandbox.url}/api/runs", headers={"x-csrf-token": csrf},
                                data={"models": [QWEN], "suites": ["basics-ko"], "limit": 1})
    assert refused.status == 403 and refused.json()["error"]["code"] == "permission_denied"
    assert "regulator key may not" in refused.json()["error"]["message"]


@LANGS
def test_a_wrong_key_is_refused_in_the_pages_language_and_signing_out_ends_the_session(lang_tab, sandbox, lang):
    page = lang_tab.open(f"{sandbox.url}/signin", f"signin-{lang}")
    assert page.locator("h1").inner_text() == t(lang, "signin.title")
    page.fill("#signin input[name=key]", "gsk_not-a-key")
    with page.expect_navigation() as refused:
        page.click("#signin button[type=submit]")
    assert refused.value.status == 401
    assert page.locator("#signin-problem").inner_text() == t(lang, "signin.wrong")
    # Chromium logs the refused sign-in's 401 as a failed load: that one error, and no other, is expected.
    assert [error for error in lang_tab.errors if "status of 401" not in error] == []
    lang_tab.errors.clear()
    lang_tab.check(f"signin-wrong-{lang}")

    page = sign_in(lang_tab, sandbox, "tester", "/workbench", f"signed-in-{lang}")
    session = next(c["value"] for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
    with page.expect_navigation(url=re.compile(r"/signin$")):
        page.click("#signout button")
    lang_tab.check(f"signed-out-{lang}")
    assert SESSION_COOKIE not in {c["name"] for c in page.context.cookies()}
    # The server ended the session: the old cookie, replayed, opens nothing.
    replayed = httpx.get(f"{sandbox.url}/api/me", cookies={SESSION_COOKIE: session})
    assert replayed.status_code == 401
    page.goto(f"{sandbox.url}/workbench")
    assert page.url == f"{sandbox.url}/signin?next=/workbench"


@LANGS
def test_the_live_page_of_a_finished_run_offers_its_report_and_no_cancel(lang_tab, sandbox, lang):
    page = sign_in(lang_tab, sandbox, "tester", f"/runs/{SEEDED_RUN}/live", f"live-seeded-{lang}")
    page.locator("#live-status.finished").wait_for()
    assert page.locator("#live-status").inner_text() == t(lang, "live.status.finished")
    assert page.locator("#cancel").is_hidden()  # the page's CSS gives buttons a display: `hidden` must still win
    assert page.locator("#open-report").is_visible() and page.locator("#open-run").is_visible()
    assert page.locator("#open-report").inner_text() == t(lang, "live.report")
    lang_tab.check(f"live-seeded-finished-{lang}")


# Each page and the fewest <th> it shows (the workbench's form has none, but its menu is measured too).
PAGES_WITH_TABLES = {"/workbench": 0, "/keys": 12, "/": 9, f"/runs/{SEEDED_RUN}": 20, f"/runs/{SEEDED_RUN}/live": 4}
# Lines of text in each element, from its text's bounding box and its line height: n lines measure (n - 1) line
# heights plus one line of glyphs, which is less than a line height (about 0.77 of it in these fonts).
LINES = """elements => elements.map(element => {
  const range = document.createRange();
  range.selectNodeContents(element);
  const height = range.getBoundingClientRect().height;
  const lineHeight = parseFloat(getComputedStyle(element).lineHeight);
  return {text: element.innerText, words: element.innerText.split(/\\s+/).filter(Boolean).length,
          lines: height === 0 ? 0 : Math.floor(height / lineHeight) + 1};
})"""


def text_lines(page, selector: str) -> list[dict]:
    return page.locator(selector).evaluate_all(LINES)


@LANGS
def test_table_headers_and_the_menu_keep_words_whole(lang_tab, sandbox, lang):
    """Chromium breaks Hangul between any two syllables unless told `word-break: keep-all`: a squeezed Korean
    header would stand one syllable per line. On a laptop's window no header takes more than two lines; on a phone's
    a header breaks only between words, and each menu entry stays on one line."""
    page = sign_in(lang_tab, sandbox, "admin", "/workbench", f"headers-{lang}")
    for width, name in ((1280, "laptop"), (640, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        for path, expected in PAGES_WITH_TABLES.items():
            page = lang_tab.open(f"{sandbox.url}{path}", f"headers-{lang}-{name}{path.replace('/', '-')}")
            assert page.get_attribute("html", "lang") == lang
            headers = text_lines(page, "th")
            assert len(headers) >= expected, path
            split = [header for header in headers if header["lines"] > header["words"]]
            assert split == [], f"{path} at {width} px: headers with a word broken across lines: {split}"
            if width == 1280:
                tall = [header for header in headers if header["lines"] > 2]
                assert tall == [], f"{path} at {width} px: headers taller than two lines: {tall}"
            menu = [entry for entry in text_lines(page, "header.top nav a") if entry["lines"] != 1]
            assert menu == [], f"{path} at {width} px: menu entries broken across lines: {menu}"
