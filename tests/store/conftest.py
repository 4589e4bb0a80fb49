"""Stores for the contract tests: SQLite always, PostgreSQL on the throwaway local server (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gensandbox.store import RunRecord, SampleRecord, SQLStore, store_at


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path) -> str:
    """The address of a fresh, empty store of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_server").create_database()  # a database per test: independent


@pytest.fixture
def store(store_url) -> Iterator[SQLStore]:
    opened = store_at(store_url)
    yield opened
    opened.close()


def run_record(run_id: str = "r1", created_at: str = "2026-11-29T00:00:00+00:00") -> RunRecord:
    return RunRecord(run_id=run_id, created_at=created_at, status="running",
                     models=[{"name": "m", "origin": "domestic", "price": 0.25}], suites=[{"name": "s", "items": 1}],
                     settings={"max_tokens": 8, "note": "수도 ✓"})


def sample_record(item_id: str = "i1", **overrides) -> SampleRecord:
    values = dict(run_id="r1", model="m", suite="s", item_id=item_id, category="c", language="ko",
                  request={"messages": [{"role": "user", "content": "수도는? 100%"}]}, response_text="서울",
                  finish_reason="stop", input_tokens=5, output_tokens=1, latency_s=0.1, cost_usd=1e-6,
                  score=1.0, scorer={"name": "includes", "args": {}}, reason="contains '서울'")
    return SampleRecord(**values | overrides)
