"""Python agent environments run in a child process with no network, a time limit and a memory limit: a tool
method that reaches for a socket, outstays its time or eats memory is stopped, and the model is told why."""

from __future__ import annotations

import socket
import threading

import pytest

from gensandbox.errors import ToolFailed
from gensandbox.runner.env_process import EnvironmentLimits, EnvironmentPool, network_isolation

ENVIRONMENT = '''
import socket, time

class Probe:
    def __init__(self):
        self.calls = 0

    def reset(self):
        self.calls = 0

    def add(self, a, b):
        self.calls += 1
        return a + b

    def connect(self, port):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return "connected"

    def sleep(self, seconds):
        time.sleep(seconds)
        return "woke"

    def hog(self, megabytes):
        block = bytearray(megabytes * 1024 * 1024)
        return len(block)

    def snapshot(self):
        return {"calls": self.calls}
'''
TOOLS = ["add", "connect", "sleep", "hog"]


@pytest.fixture
def listener():
    """A TCP server on 127.0.0.1 that counts the connections it accepts."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []

    def accept():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            accepted.append(connection)

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1], accepted
    server.close()


async def open_probe(tmp_path, limits: EnvironmentLimits):
    (tmp_path / "probe.py").write_text(ENVIRONMENT)
    pool = EnvironmentPool(limits)
    return pool, await pool.open("probe.py:Probe", {}, tmp_path, TOOLS)


@pytest.mark.parametrize("namespace", [True, False], ids=["namespace", "sockets-blocked"])
async def test_no_network_from_an_environment(tmp_path, listener, namespace):
    port, accepted = listener
    pool, environment = await open_probe(tmp_path, EnvironmentLimits(network_namespace=namespace))
    try:
        assert await environment.call("add", {"a": 2, "b": 3}) == 5
        with pytest.raises(ToolFailed) as refused:
            await environment.call("connect", {"port": port})
        assert "connect" in str(refused.value)
        assert accepted == []  # nothing reached the server
    finally:
        await pool.close()


async def test_a_call_past_its_time_limit_is_stopped(tmp_path):
    pool, environment = await open_probe(tmp_path, EnvironmentLimits(call_timeout_s=0.5))
    try:
        with pytest.raises(ToolFailed) as stopped:
            await environment.call("sleep", {"seconds": 30})
        assert "0.5" in str(stopped.value) or "time" in str(stopped.value).lower()
    finally:
        await pool.close()


async def test_a_call_past_the_memory_limit_is_stopped(tmp_path):
    pool, environment = await open_probe(tmp_path, EnvironmentLimits(memory_bytes=512 << 20))
    try:
        with pytest.raises(ToolFailed) as stopped:
            await environment.call("hog", {"megabytes": 2048})
        assert "memory" in str(stopped.value).lower() or "MemoryError" in str(stopped.value)
    finally:
        await pool.close()


def test_this_machine_isolates_environments_in_a_network_namespace():
    assert network_isolation() in ("namespace",) or network_isolation().startswith("sockets blocked")
