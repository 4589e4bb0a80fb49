"""Shared fixtures. Tests never reach beyond loopback: a guard refuses any other address."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.upstream import UpstreamServer

if TYPE_CHECKING:
    from tests.postgres import PostgresServer

_real_connect = socket.socket.connect


def _loopback_only(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            allowed = ipaddress.ip_address(host).is_loopback
        except ValueError:
            allowed = host == "localhost"
        if not allowed:
            raise ConnectionRefusedError(f"tests may only connect to loopback, not {host}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _no_network_beyond_loopback():
    socket.socket.connect = _loopback_only
    yield
    socket.socket.connect = _real_connect


@pytest.fixture(scope="session")
def upstream():
    server = UpstreamServer().start()
    yield server
    server.stop()


@pytest.fixture
def recorder(upstream):
    upstream.recorder.reset()
    return upstream.recorder


@pytest.fixture(scope="session")
def shared_models_dir(tmp_path_factory) -> Path:
    """One model cache for the whole session, so the GGUF files are assembled once."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def home(tmp_path, monkeypatch, shared_models_dir) -> Path:
    """A fresh GENSANDBOX_HOME per test (its own database), sharing the session's model cache."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "models").symlink_to(shared_models_dir, target_is_directory=True)
    monkeypatch.setenv("GENSANDBOX_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server on 127.0.0.1 for the session (ledger and store backends)."""
    from tests.postgres import MISSING, PostgresServer, find_bin_dir  # psycopg only when a test needs the server

    bin_dir = find_bin_dir()
    if bin_dir is None:
        # CI installs the server; there a missing one is a broken setup, not a reason to skip.
        if os.environ.get("GENSANDBOX_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{MISSING} (GENSANDBOX_REQUIRE_POSTGRES=1)")
        pytest.skip(MISSING)
    server = PostgresServer(bin_dir)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server) -> str:
    """A database on the throwaway server, shared by the session."""
    return postgres_server.create_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, monkeypatch) -> str:
    """Each test that takes it runs twice: on SQLite files in GENSANDBOX_HOME, and on a fresh PostgreSQL database
    (store and ledger both, through GENSANDBOX_DATABASE_URL: the ledger goes into the same database by default)."""
    if request.param == "postgresql":
        monkeypatch.setenv("GENSANDBOX_DATABASE_URL", request.getfixturevalue("postgres_server").create_database())
    return request.param
