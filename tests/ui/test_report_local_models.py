"""The report of a run on the two embedded models, opened offline in Chromium: both models on the frontier."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import SMALL_ITEMS as ITEMS
from tests.helpers import write_suite

MODELS = ("local/qwen2.5-coder-0.5b-instruct", "local/gemma-3-270m")


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_local_models_report_opens_offline_with_both_on_the_frontier(home, tmp_path, tab, lang):
    suite = write_suite(tmp_path, "small", ITEMS)
    report = tmp_path / f"report-{lang}.html"
    # In child processes: Playwright's sync API keeps an event loop running in this one.
    for command in (["run", "-s", str(suite), "--run-id", "local"],
                    ["report", "local", "-o", str(report), "--lang", lang, "--charts", str(tmp_path / "charts")]):
        done = subprocess.run([sys.executable, "-m", "gensandbox", *command], capture_output=True, text=True,
                              env=os.environ, timeout=300)
        assert done.returncode == 0, done.stderr
    requests = []
    tab.page.on("request", lambda request: requests.append(request.url))
    page = tab.open(report.as_uri(), f"report-local-models-{lang}")
    page.wait_for_selector("body[data-charts-ready=true]", timeout=20_000)
    frontier = page.locator("#frontier-chart svg.marks").text_content()
    for model in MODELS:
        assert model in frontier
    assert all(url.startswith("file://") for url in requests), requests  # nothing fetched from anywhere
    assert page.get_attribute("html", "lang") == lang
    assert (tmp_path / "charts" / "frontier.svg").exists() and (tmp_path / "charts" / "frontier.png").exists()
    assert tab.errors == []
