"""Two `gensandbox serve` processes on one store, under a concurrent load against one key's small budget: the
key's budget holds across both (no overspend), and both append to one ledger chain that verifies."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time

import httpx

from gensandbox.config import load_config
from gensandbox.ledger.signing import Signer
from gensandbox.ledger.verify import verify_lines
from gensandbox.ledger.writer import open_backend
from gensandbox.store import SQLiteStore
from gensandbox.store.gateway import GatewayStore
from tests.helpers import write_config
from tests.upstream import unused_port

BUDGET = 0.005
REQUESTS_PER_PROCESS = 400


def start_gateway(config_path, port: int, *options: str, new_session: bool = False) -> subprocess.Popen:
    """`new_session`: the gateway leads a process group of its own, so one signal reaches its workers too."""
    process = subprocess.Popen([sys.executable, "-m", "gensandbox", "serve", "-c", str(config_path), "--port",
                                str(port), *options], env=os.environ, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, start_new_session=new_session)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"gateway on port {port} did not start: {process.stderr.read().decode()[-2000:]}")


async def hammer(ports: list[int], key: str) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=64)
    # No limit on waiting for one of the 64 connections: on a starved machine the queue is long, not broken.
    async with httpx.AsyncClient(timeout=httpx.Timeout(60, pool=None), limits=limits) as client:
        async def one(n: int) -> httpx.Response:
            port = ports[n % len(ports)]
            return await client.post(f"http://127.0.0.1:{port}/v1/chat/completions",
                                     headers={"authorization": f"Bearer {key}"},
                                     json={"model": "echo", "max_tokens": 16,
                                           "messages": [{"role": "user", "content": f"hello there {n}"}]})
        return await asyncio.gather(*(one(n) for n in range(REQUESTS_PER_PROCESS * len(ports))))


def create_key(config_path, budget: float = BUDGET) -> str:
    """A key with a small budget, made the way a user makes one; its secret."""
    created = subprocess.run([sys.executable, "-m", "gensandbox", "keys", "create", "--budget-usd", str(budget),
                              "-c", str(config_path)], env=os.environ, capture_output=True, text=True, check=True)
    return re.search(r"gsk_\S+", created.stdout).group(0)


def load_through(config_path, key: str, gateways: list[list[str]], ports: list[int]) -> list[httpx.Response]:
    """Start one `gensandbox serve` per entry of `gateways` (its extra options), send the load spread over
    `ports`, then stop them cleanly (last records written, leases given back)."""
    listening = list(dict.fromkeys(ports))  # a port named twice is one gateway taking half the load
    processes = [start_gateway(config_path, port, *options) for port, options in zip(listening, gateways, strict=True)]
    try:
        return asyncio.run(hammer(ports, key))
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            process.wait(timeout=60)


def ledger_calls(ledger_url: str, config) -> int:
    """The ledger verifies with this machine's key (one chain, signed at the end); its number of call events."""
    backend = open_backend(ledger_url)
    lines = list(backend.lines())
    backend.close()
    verdict = verify_lines(lines, Signer.load_or_create(config.signing_key_path).public_key, require_signed_end=True)
    assert verdict.ok, verdict.reason
    return sum(b'"kind":"gen_ai.call"' in line for line in lines)


def test_two_gateway_processes_share_a_budget_exactly_and_one_chain(home, tmp_path, upstream):
    config_path = write_config(tmp_path, upstream.url, {"echo": "echo"})
    key = create_key(config_path)
    responses = load_through(config_path, key, [[], []], [unused_port(), unused_port()])
    ok = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert len(ok) + len(refused) == len(responses)
    assert all(r.json()["error"]["code"] == "insufficient_quota" for r in refused)
    served_by = {r.headers["x-gensandbox-model"] for r in ok}
    assert served_by == {"echo"} and refused  # the budget ran out: the test did reach its limit

    config = load_config(config_path)
    store = GatewayStore(SQLiteStore(config.database_path))
    (record,) = store.keys()
    charged = sum(float(r.headers["x-gensandbox-cost-usd"]) for r in ok)
    assert record.spent_usd <= BUDGET  # no overspend across the two processes
    assert abs(record.spent_usd - charged) < 1e-9  # every answered request is counted once, none twice
    assert record.spent_usd > BUDGET * 0.8  # and the budget was really used, not refused early
    assert store._db.execute("SELECT count(*) FROM budget_leases").fetchone()[0] == 0  # leases given back

    assert ledger_calls(config.ledger_url, config) == len(ok)  # one event per answer, both processes, one chain


def test_one_gateway_with_two_worker_processes_shares_the_budget(home, tmp_path, upstream):
    """`gensandbox serve --workers 2`: one port, two processes, the same guarantees as two separate gateways."""
    config_path = write_config(tmp_path, upstream.url, {"echo": "echo"})
    key = create_key(config_path)
    port = unused_port()
    responses = load_through(config_path, key, [["--workers", "2"]], [port, port])
    ok = [r for r in responses if r.status_code == 200]
    assert ok and all(r.status_code in (200, 429) for r in responses)
    config = load_config(config_path)
    store = GatewayStore(SQLiteStore(config.database_path))
    (record,) = store.keys()
    assert record.spent_usd <= BUDGET
    assert abs(record.spent_usd - sum(float(r.headers["x-gensandbox-cost-usd"]) for r in ok)) < 1e-9
    assert ledger_calls(config.ledger_url, config) == len(ok)
