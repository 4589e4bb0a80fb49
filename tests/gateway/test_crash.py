"""The crash suite: `gensandbox serve` under load, killed with SIGKILL at random moments and started again, one
process and `--workers 2`, on SQLite and on PostgreSQL. Afterwards every receipt a client holds names an event in
the ledger, the recorded spending covers every answered cost, no key is over its budget, and the ledger verifies.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess

import httpx
import orjson
import pytest

from gensandbox.config import load_config
from gensandbox.ledger.events import content_hash, strip_chain
from gensandbox.ledger.signing import Signer, unb64
from gensandbox.ledger.verify import verify_lines
from gensandbox.ledger.writer import open_backend
from gensandbox.store import open_store
from gensandbox.store.gateway import GatewayStore
from tests.gateway.test_processes import create_key, start_gateway
from tests.helpers import write_config
from tests.upstream import unused_port

IN_FLIGHT = 16
REQUESTS = 150  # per life of the gateway; each answer costs about $0.000015 of the key's $0.003 budget


async def load_until_killed(port: int, key: str, process: subprocess.Popen, kill_after: int | None,
                            offset: int) -> list[httpx.Response]:
    """REQUESTS requests, IN_FLIGHT at a time; after `kill_after` answers the gateway is killed (SIGKILL, the whole
    process group), mid-load. Requests cut off by the kill just fail; the answered ones are returned."""
    answered: list[httpx.Response] = []
    gate = asyncio.Semaphore(IN_FLIGHT)
    async with httpx.AsyncClient(timeout=30) as client:
        async def one(n: int) -> None:
            async with gate:
                try:
                    response = await client.post(
                        f"http://127.0.0.1:{port}/v1/chat/completions", headers={"authorization": f"Bearer {key}"},
                        json={"model": "echo", "max_tokens": 8, "messages": [{"role": "user", "content": f"hi {n}"}]})
                except httpx.HTTPError:
                    return
            answered.append(response)
            if kill_after is not None and len(answered) == kill_after:
                os.killpg(process.pid, signal.SIGKILL)

        await asyncio.gather(*(one(offset + n) for n in range(REQUESTS)))
    return answered


def lives(config_path, key: str, options: list[str], kills: list[int]) -> list[httpx.Response]:
    """One life of the gateway per kill (killed after that many answers), then a last one stopped cleanly."""
    answered = []
    for life, kill_after in enumerate([*kills, None]):
        port = unused_port()
        process = start_gateway(config_path, port, *options, new_session=True)
        try:
            answered += asyncio.run(load_until_killed(port, key, process, kill_after, life * REQUESTS))
        finally:
            if kill_after is None:
                process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
    return answered


@pytest.mark.parametrize("options", [[], ["--workers", "2"]], ids=["one-process", "two-workers"])
def test_kill_9_under_load_loses_no_receipt_and_no_spending(home, tmp_path, upstream, backend, options):
    config_path = write_config(tmp_path, upstream.url, {"echo": "echo"})
    budget = 0.003
    key = create_key(config_path, budget)
    kills = random.Random(f"{backend}{options}").sample(range(10, REQUESTS - 20), 2)
    answered = lives(config_path, key, options, kills)
    ok = [r for r in answered if r.status_code == 200]
    assert ok and {r.status_code for r in answered} <= {200, 429}

    config = load_config(config_path)
    ledger = open_backend(config.ledger_url)
    try:
        lines = list(ledger.lines())
    finally:
        ledger.close()
    verdict = verify_lines(lines, Signer.load_or_create(config.signing_key_path).public_key, require_signed_end=False)
    assert verdict.ok, verdict.reason
    events = {content_hash(strip_chain(orjson.loads(line))) for line in lines}
    receipts = [orjson.loads(unb64(r.headers["x-gensandbox-receipt"].split(".")[1]))["event"] for r in ok]
    missing = [event for event in receipts if event not in events]
    assert missing == [], f"{len(missing)} of {len(receipts)} receipts name events the ledger does not hold"

    (record,) = GatewayStore(open_store(config)).keys()
    charged = sum(float(r.headers["x-gensandbox-cost-usd"]) for r in ok)
    assert record.spent_usd >= charged - 1e-12  # every answered cost was recorded before it was answered
    assert record.spent_usd <= budget  # and the key never went over its budget, through every crash


def test_the_kill_is_real(home, tmp_path, upstream):
    """The suite's kill lands mid-load: answers stop arriving at the count it was asked for (give or take those
    already on their way), and the gateway process is gone."""
    config_path = write_config(tmp_path, upstream.url, {"echo": "echo"})
    key = create_key(config_path, 0.003)
    port = unused_port()
    process = start_gateway(config_path, port, new_session=True)
    answered = asyncio.run(load_until_killed(port, key, process, 30, 0))
    assert process.wait(timeout=30) == -signal.SIGKILL
    assert 30 <= len(answered) < 30 + IN_FLIGHT
