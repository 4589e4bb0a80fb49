"""Two `gensandbox serve` processes on one PostgreSQL store (GENSANDBOX_DATABASE_URL, nothing else set): one key's
budget holds across both, and both append to one ledger chain, kept in the same database by default."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys

from gensandbox.config import load_config
from gensandbox.ledger.signing import Signer
from gensandbox.ledger.verify import verify_lines
from gensandbox.ledger.writer import open_backend
from gensandbox.store import store_at
from gensandbox.store.gateway import GatewayStore
from tests.gateway.test_processes import BUDGET, hammer, start_gateway
from tests.helpers import write_config
from tests.upstream import unused_port


def test_two_gateways_on_postgres_share_a_budget_exactly_and_one_chain(home, tmp_path, upstream, postgres_server,
                                                                       monkeypatch):
    url = postgres_server.create_database()
    monkeypatch.setenv("GENSANDBOX_DATABASE_URL", url)
    config_path = write_config(tmp_path, upstream.url, {"echo": "echo"})
    created = subprocess.run([sys.executable, "-m", "gensandbox", "keys", "create", "--budget-usd", str(BUDGET),
                              "-c", str(config_path)], env=os.environ, capture_output=True, text=True, check=True)
    key = re.search(r"gsk_\S+", created.stdout).group(0)
    ports = [unused_port(), unused_port()]
    processes = [start_gateway(config_path, port) for port in ports]
    try:
        responses = asyncio.run(hammer(ports, key))
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            process.wait(timeout=30)
    ok = [r for r in responses if r.status_code == 200]
    assert ok and len(ok) < len(responses)  # the budget ran out under the load
    assert {r.status_code for r in responses} == {200, 429}

    config = load_config(config_path)
    assert config.ledger_url == url and not (home / "gensandbox.db").exists() and not (home / "ledger.db").exists()
    store = store_at(url)
    (record,) = GatewayStore(store).keys()
    charged = sum(float(r.headers["x-gensandbox-cost-usd"]) for r in ok)
    assert BUDGET * 0.8 < record.spent_usd <= BUDGET and abs(record.spent_usd - charged) < 1e-9
    assert store.db.execute("SELECT count(*) FROM budget_leases").fetchone()[0] == 0
    store.close()
    backend = open_backend(url)
    lines = list(backend.lines())
    backend.close()
    verdict = verify_lines(lines, Signer.load_or_create(config.signing_key_path).public_key, require_signed_end=True)
    assert verdict.ok, verdict.reason
    assert sum(b'"kind":"gen_ai.call"' in line for line in lines) == len(ok)
