"""The HTML page: self-contained, safe against what models answer, in English and Korean, with stable hooks."""

import re

import pytest

from gensandbox.reports import build_view, render_report, vega_bundle
from gensandbox.reports.text import EN, KO, TEXT, client_text
from tests.reports.conftest import HOSTILE, embedded_json

HOOKS = ("frontier-chart", "leaderboard", "leaderboard-chart", "category-chart", "language-chart", "sample-browser",
         "manifest", "model-cards", "significance")


@pytest.fixture(scope="module")
def view(made_run):
    store = made_run.store()
    return build_view(store.get_run(made_run.run_id), store, resamples=300)


@pytest.fixture(scope="module")
def english(view):
    return render_report(view, "en")


def test_the_page_is_self_contained_with_vega_inlined_once(english):
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)\s*=\s*["']?(https?:)?//""", english)
    assert "<link" not in english
    assert english.count("window.vegaEmbed=") == 1 and vega_bundle() in english
    assert english.count("<script>") == 2  # the bundle and the page's own script; the rest is JSON data


def test_stable_hooks_for_browsers_and_people(english):
    for hook in HOOKS:
        assert f'id="{hook}"' in english
    assert re.search(r'id="sample-browser" data-embedded="160" data-total="160"', english)
    assert '<html lang="en">' in english


def test_answers_cannot_break_out_of_the_page(english):
    assert "</script><script>alert(1)" not in english and "<!-- & yes" not in english
    rows = embedded_json(english, "sample-data")
    fields = rows["fields"]
    answers = {dict(zip(fields, r, strict=True))["answer"] for r in rows["rows"]}
    assert HOSTILE in answers  # intact once parsed, so the browser shows it as text


def test_english_report_states_method_numbers_and_cards(english):
    assert "sorted by measured score only" in english
    assert "grader † <span class=\"tag\">base model, completion-style</span>" in english
    assert "mixed (40 items)" in english
    assert "echo − grader" in english and "+50.0 pp" in english and "unlikely to be chance" in english
    assert "No established difference between echo and echo-twin" in english
    assert english.count('class="model-card"') == 4
    assert "vendor of echo" in english and "test-license" in english and "$1 in / $2 out per 1M tokens" in english
    assert "<code>gensandbox rerun r1</code>" in english and "&#34;seed&#34;: 0" in english
    assert "On the frontier: grader, echo." in english
    assert 'id="agents"' not in english  # a run without agent tasks has no Agents section


def test_korean_report_is_first_class(view):
    korean = render_report(view, "ko")
    assert '<html lang="ko">' in korean
    for key in ("title", "leaderboard", "frontier", "significance", "samples", "model_cards", "manifest"):
        assert KO[key] in korean
    assert "측정된 점수만으로 정렬합니다" in korean and "sorted by measured score only" not in korean
    assert embedded_json(korean, "ui-text") == client_text("ko")
    assert embedded_json(korean, "chart-specs")["frontier"]["title"]["text"] == "비용 대비 품질"
    assert "50.0%" in korean  # numbers are written the same in both languages


def test_both_languages_have_the_same_keys_and_placeholders():
    assert set(EN) == set(KO) and set(TEXT) == {"en", "ko"}
    for key in EN:
        assert set(re.findall(r"{(\w+)", EN[key])) == set(re.findall(r"{(\w+)", KO[key])), key


def test_an_unknown_language_is_refused(view):
    from gensandbox.errors import UserError

    with pytest.raises(UserError, match="unknown report language `fr`"):
        render_report(view, "fr")
