"""Two `gensandbox serve` processes on one PostgreSQL store (GENSANDBOX_DATABASE_URL, nothing else set): one key's
budget holds across both, and both append to one ledger chain, kept in the same database by default."""

from __future__ import annotations

from gensandbox.config import load_config
from gensandbox.store import store_at
from gensandbox.store.gateway import GatewayStore
from tests.gateway.test_processes import BUDGET, create_key, ledger_calls, load_through
from tests.helpers import write_config
from tests.upstream import unused_port


def test_two_gateways_on_postgres_share_a_budget_exactly_and_one_chain(home, tmp_path, upstream, postgres_server,
                                                                       monkeypatch):
    url = postgres_server.create_database()
    monkeypatch.setenv("GENSANDBOX_DATABASE_URL", url)
    config_path = write_config(tmp_path, upstream.url, {"echo": "echo"})
    key = create_key(config_path)
    responses = load_through(config_path, key, [[], []], [unused_port(), unused_port()])
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
    assert ledger_calls(url, config) == len(ok)
