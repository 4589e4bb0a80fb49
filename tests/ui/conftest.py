"""The dashboard's fixtures: the scenario home (built once), the dashboard on a loopback port, and Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gensandbox.config import Config
from gensandbox.store import SQLiteStore
from gensandbox.ui import create_ui_app
from tests.ui.access_world import World, world_in
from tests.ui.scenario import Scenario, answering_app, build_in
from tests.upstream import BackgroundServer

SCREENSHOTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"
NO_BROWSER = ("Debian's Chromium is not installed (apt-get install chromium fonts-nanum); "
              "set GENSANDBOX_REQUIRE_BROWSER=1 to make this a failure")


@pytest.fixture(scope="session")
def answering_upstream() -> Iterator[BackgroundServer]:
    server = BackgroundServer(answering_app()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def scenario(tmp_path_factory, answering_upstream) -> Scenario:
    return build_in(tmp_path_factory.mktemp("ui-home"), answering_upstream.url)


@pytest.fixture(scope="module")
def world(tmp_path_factory, request) -> Iterator[World]:
    """A sandbox shared by two projects (tests/ui/access_world.py), one per test module."""
    with world_in(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])) as built:
        yield built


def dashboard_client(config: Config, **options) -> TestClient:
    # The dashboard answers only loopback Host headers (TestClient's default would be "testserver"), and before any
    # key exists only a caller on this machine: the client says it is 127.0.0.1, as a local browser would be.
    return TestClient(create_ui_app(config, SQLiteStore(config.database_path)), base_url="http://127.0.0.1",
                      client=("127.0.0.1", 50000), **options)


@pytest.fixture(scope="module")
def dashboard(scenario) -> Iterator[BackgroundServer]:
    """The dashboard served by uvicorn, as `gensandbox ui` serves it."""
    server = BackgroundServer(create_ui_app(scenario.config, SQLiteStore(scenario.config.database_path))).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    """One Chromium per module: starting it takes seconds on a small machine."""
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        if os.environ.get("GENSANDBOX_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{NO_BROWSER} (GENSANDBOX_REQUIRE_BROWSER=1)")
        pytest.skip(NO_BROWSER)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield chromium
        chromium.close()


class Tab:
    """A browser page that records console errors and uncaught exceptions, and screenshots what it visits."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def open(self, url: str, name: str):
        response = self.page.goto(url, wait_until="load")
        assert response is not None and response.ok, f"{url}: {response.status if response else 'no response'}"
        return self.check(name)

    def check(self, name: str):
        """After a page has loaded (by goto or by a click): no console errors, and a screenshot of it."""
        self.page.wait_for_load_state("load")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        assert self.errors == [], f"console errors on {self.page.url}: {self.errors}"
        return self.page


@pytest.fixture
def tab(browser) -> Iterator[Tab]:
    """A fresh browser context (no cookies) whose browser prefers English."""
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    yield Tab(context.new_page())
    context.close()
