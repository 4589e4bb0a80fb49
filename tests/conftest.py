"""Shared fixtures. Tests never reach beyond loopback: a guard refuses any other address."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pytest

from tests.upstream import UpstreamServer

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
