"""The gateway's and the audits' tables, the same on SQLite and on PostgreSQL; budgets shared by processes."""

from __future__ import annotations

import threading

import pytest

from gensandbox.errors import NotFoundError
from gensandbox.gateway.routing import Router
from gensandbox.ledger.sqlite import SQLiteLedger
from gensandbox.store import store_at
from gensandbox.store.audits import AuditStore
from gensandbox.store.gateway import GatewayStore, KeyRecord
from tests.ledger.test_requests import events, request
from tests.store.conftest import run_record, sample_record


def key(key_id: str = "key_1", budget_usd: float | None = 1.0, created_at: str = "2026-11-29T00:00:00+00:00"):
    return KeyRecord(key_id, f"hash-{key_id}", "developer", "팀 A", budget_usd, 0.0, 60, created_at)


@pytest.fixture
def gateway(store) -> GatewayStore:
    return GatewayStore(store)


def test_keys_are_added_listed_and_revoked(gateway):
    gateway.add_key(key("key_2", None, created_at="2026-11-30T00:00:00+00:00"))
    gateway.add_key(key())
    assert [k.key_id for k in gateway.keys()] == ["key_1", "key_2"]
    assert gateway.keys()[0] == key()
    gateway.revoke_key("key_1")
    assert gateway.keys()[0].revoked_at
    with pytest.raises(NotFoundError, match="no active key `key_1`"):
        gateway.revoke_key("key_1")


def test_spending_is_recorded_in_one_transaction_per_batch(gateway, store):
    gateway.add_key(key())
    gateway.record_spending({"key_1": 0.25})
    gateway.record_spending({"key_1": 0.5})
    assert gateway.key_totals() == {"key_1": 0.75}
    with pytest.raises(RuntimeError), store.transaction():
        gateway.add_key(key("key_2"))
        raise RuntimeError("rolled back")
    assert [k.key_id for k in gateway.keys()] == ["key_1"]


def test_routing_reads_latencies_and_latest_results(gateway, store, tmp_path):
    store.create_run(run_record("old", created_at="2026-01-01T00:00:00+00:00"))
    store.create_run(run_record("new"))
    for run_id, score in (("old", 0.0), ("new", 1.0), ("new", 0.0)):
        store.add_sample(sample_record(f"{run_id}-{score}", run_id=run_id, score=score, latency_s=0.2))
    ledger = SQLiteLedger(tmp_path / "ledger.db")
    router = Router(["m"], [], gateway, ledger)
    assert router._latencies(["m"]) == {"m": [0.2, 0.2, 0.2]}  # no gateway traffic yet: the evaluations'
    ledger.append(events(*[request(latency_s=0.7)] * 5))  # the gateway's own requests, once there are five
    assert router._latencies(["m"]) == {"m": [0.7] * 5}
    assert gateway.latest_suite_results("s", ["m", "other"]) == {"m": ("new", 0.5, 1e-6, 2)}
    ledger.close()


def test_leases_claim_only_what_is_left(gateway):
    gateway.add_key(key(budget_usd=1.0))
    assert gateway.lease("key_1", "a", 0.75, 0.5, now=100.0, ttl_s=30) == (0.75, 1.0)
    assert gateway.lease("key_1", "b", 0.5, 0.5, now=100.0, ttl_s=30) == (0.0, 0.25)  # not enough for the minimum
    assert gateway.lease("key_1", "b", 0.5, 0.125, now=100.0, ttl_s=30) == (0.25, 0.25)  # what is left
    gateway.record_spending({"key_1": 0.5}, holder="a", now=110.0)  # spent: from a's lease to the total
    assert gateway.key_totals() == {"key_1": 0.5}
    gateway.release("a")  # a stops: its unspent 0.25 comes back
    assert gateway.lease("key_1", "c", 1.0, 0.1, now=120.0, ttl_s=30) == (0.25, 0.25)
    assert gateway.lease("key_1", "c", 1.0, 0.1, now=200.0, ttl_s=30)[0] == 0.5  # b and c went stale


def test_processes_sharing_a_store_never_lease_more_than_the_budget(store_url):
    """Eight "processes" (a store connection each) claim 1/16 of a budget of 1 at a time, 40 times each."""
    stores = [store_at(store_url) for _ in range(8)]
    GatewayStore(stores[0]).add_key(key(budget_usd=1.0))
    granted: list[float] = []

    def claim(store, holder: str) -> None:
        gateway = GatewayStore(store)
        for _ in range(40):
            granted.append(gateway.lease("key_1", holder, 0.0625, 0.0625, now=100.0, ttl_s=30)[0])

    threads = [threading.Thread(target=claim, args=(s, f"p{n}")) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) == 1.0 and granted.count(0.0625) == 16
    assert stores[0].db.execute("SELECT sum(amount_usd) FROM budget_leases").fetchone()[0] == 1.0
    for store in stores:
        store.close()


def test_audits_are_saved_listed_and_read(store):
    audits = AuditStore(store)
    first = audits.save("switching", "A → B keeps 94%", {"run_id": "r1", "ratio": 1 / 7})
    second = audits.save("holdout", "committed 10 items", {"root": "ab"})
    assert audits.get(first.audit_id) == first and audits.get(first.audit_id).result["ratio"] == 1 / 7
    assert {a.audit_id for a in audits.list()} == {first.audit_id, second.audit_id}
    assert audits.list("holdout") == [second]
    with pytest.raises(NotFoundError, match="no audit `nope`"):
        audits.get("nope")
