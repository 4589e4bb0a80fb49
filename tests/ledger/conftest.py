"""Ledger backends for the contract tests: SQLite always, PostgreSQL on the throwaway local server of
tests/conftest.py (`postgres_server`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gensandbox.ledger.base import LedgerBackend
from gensandbox.ledger.signing import Signer
from gensandbox.ledger.writer import open_backend


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(request, tmp_path) -> str:
    """The address of a fresh, empty ledger of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"  # tmp_path is absolute, so this has four slashes
    # A database per test (a few milliseconds on PostgreSQL 15) keeps tests independent, even of a
    # child process a test killed mid-append.
    return request.getfixturevalue("postgres_server").create_database()


@pytest.fixture
def ledger_backend(ledger_url) -> Iterator[LedgerBackend]:
    backend = open_backend(ledger_url)
    yield backend
    backend.close()


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return Signer.load_or_create(tmp_path / "key.pem")
