"""The contract every store backend passes: the same tests on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from gensandbox.errors import DuplicateRecordError, NotFoundError, UserError
from gensandbox.store import RunRecord, store_at
from gensandbox.store.copying import MIGRATIONS_TABLE, STORE_TABLES
from gensandbox.store.migrations import MIGRATIONS
from gensandbox.store.sql import pending_migrations
from tests.store.conftest import run_record, sample_record


def test_runs_and_samples_round_trip(store):
    store.create_run(run_record())
    failed = sample_record("i2", score=None, error="HTTP 500", response_text=None, latency_s=None)
    store.add_sample(sample_record(cached=True, flags=["judge-same-family"], served_model="m-2026"))
    store.add_sample(failed)
    store.set_run_status("r1", "finished")
    loaded = store.get_run("r1")
    assert loaded.status == "finished" and loaded.finished_at
    assert (loaded.models, loaded.settings) == (run_record().models, run_record().settings)
    assert list(store.samples("r1")) == [
        sample_record(cached=True, flags=["judge-same-family"], served_model="m-2026"), failed]
    assert store.count_samples("r1") == 2
    assert store.list_runs() == [loaded]


def test_values_keep_their_types(store):
    store.create_run(run_record())
    store.add_sample(sample_record(cost_usd=0.1 + 0.2, latency_s=1 / 3, cached=False))
    (sample,) = store.samples("r1")
    assert sample.cost_usd == 0.1 + 0.2 and sample.latency_s == 1 / 3  # 64-bit floats, to the last bit
    assert type(sample.input_tokens) is int and sample.cached == 0


def test_a_duplicate_run_id_is_a_user_error_and_the_store_goes_on(store):
    store.create_run(run_record())
    with pytest.raises(UserError, match="run id `r1` already exists"):
        store.create_run(run_record())
    store.create_run(run_record("r2"))
    assert {r.run_id for r in store.list_runs()} == {"r1", "r2"}


def test_an_unknown_run_points_to_the_runs_command(store):
    with pytest.raises(NotFoundError, match="no run `zz`.*gensandbox runs"):
        store.get_run("zz")


def test_runs_are_listed_newest_first(store):
    store.create_run(run_record("a"))
    store.create_run(run_record("b", created_at="2026-11-30T00:00:00+00:00"))
    store.create_run(run_record("c"))
    assert [r.run_id for r in store.list_runs()] == ["b", "c", "a"]


def test_score_rows_group_items_in_code_point_order(store):
    """Mixed case and Hangul: PostgreSQL must sort like SQLite (by code point), whatever the server's locale."""
    store.create_run(run_record())
    for item_id in ["가", "b", "B", "a"]:
        for epoch in (1, 0):
            store.add_sample(sample_record(item_id, epoch=epoch))
    rows = list(store.score_rows("r1"))
    assert [(r.item_id, r.epoch) for r in rows] == [
        ("B", 0), ("B", 1), ("a", 0), ("a", 1), ("b", 0), ("b", 1), ("가", 0), ("가", 1)]
    assert [s.item_id for s in store.samples("r1")] == ["가", "가", "b", "b", "B", "B", "a", "a"]  # as added


def test_samples_stream_while_the_caller_writes(store, monkeypatch):
    from gensandbox.db import postgres

    monkeypatch.setattr(postgres, "_STREAM_BATCH", 3)  # several batches on PostgreSQL
    store.create_run(run_record())
    store.create_run(run_record("copy"))
    for n in range(10):
        store.add_sample(sample_record(f"i{n:02}"))
    for sample in store.samples("r1"):
        store.add_sample(sample_record(sample.item_id, run_id="copy"))
    assert [s.item_id for s in store.samples("copy")] == [f"i{n:02}" for n in range(10)]
    assert len(list(store.score_rows("copy"))) == 10


def test_a_resumed_run_knows_what_is_done_and_cannot_repeat_it(store):
    store.create_run(run_record())
    store.add_sample(sample_record("i1"))
    store.add_sample(sample_record("i1", epoch=1))
    assert store.done_keys("r1") == {("m", "s", "i1", 0), ("m", "s", "i1", 1)}
    with pytest.raises(DuplicateRecordError, match=r"already holds m / s / i1 epoch 0"):
        store.add_sample(sample_record("i1"))
    assert store.count_samples("r1") == 2


def test_each_sample_is_committed_at_once(store, store_url):
    store.create_run(run_record())
    store.add_sample(sample_record())
    other = store_at(store_url)  # another process would see it too
    assert other.count_samples("r1") == 1
    other.close()


def test_response_cache(store):
    assert store.get("k") is None
    store.put("k", {"text": "서울", "usage": [1, 2]})
    store.put("k", {"text": "부산"})  # replaced, not an error
    assert store.get("k") == {"text": "부산"}


def test_a_failed_transaction_leaves_nothing(store):
    with pytest.raises(RuntimeError), store.transaction():
        store.create_run(run_record())
        store.add_sample(sample_record())
        raise RuntimeError("interrupted")
    assert store.list_runs() == [] and store.count_samples("r1") == 0
    with store.transaction():
        store.create_run(run_record())
        store.add_sample(sample_record())
    assert store.count_samples("r1") == 1


def test_migrations_apply_once_when_processes_open_a_new_store_together(store_url):
    stores, failures = [], []

    def open_one():
        try:
            stores.append(store_at(store_url))
        except Exception as error:  # pragma: no cover - what the test is about
            failures.append(error)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert sorted(len(s.applied_migrations) for s in stores) == [0] * 5 + [len(MIGRATIONS)]
    names = [row[0] for row in stores[0].db.execute("SELECT name FROM _migrations ORDER BY name")]
    assert names == [name for name, _ in MIGRATIONS]
    assert pending_migrations(stores[0].db) == [] and store_at(store_url).applied_migrations == []
    for store in stores:
        store.close()


def test_the_copy_list_names_every_table_of_the_schema(store):
    if store.db.dialect == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        query = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    tables = {row[0] for row in store.db.execute(query)}
    assert tables == {*STORE_TABLES, MIGRATIONS_TABLE}, "add new tables to STORE_TABLES in store/copying.py"


def test_a_record_reads_back_equal(store):
    record = RunRecord("r9", "2026-01-01T00:00:00+00:00", "running", [], [], {})
    store.create_run(record)
    assert store.get_run("r9") == record
