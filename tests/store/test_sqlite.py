import sqlite3

import pytest

from gensandbox.errors import NotFoundError, UserError
from gensandbox.store import RunRecord, SampleRecord, SQLiteStore
from gensandbox.store.sqlite import MIGRATIONS


def run(run_id="r1") -> RunRecord:
    return RunRecord(run_id=run_id, created_at="2026-11-29T00:00:00+00:00", status="running",
                     models=[{"name": "m", "origin": "domestic"}], suites=[{"name": "s", "items": 1}],
                     settings={"max_tokens": 8})


def sample(item_id="i1", **overrides) -> SampleRecord:
    values = dict(run_id="r1", model="m", suite="s", item_id=item_id, category="c", language="ko",
                  request={"messages": [{"role": "user", "content": "수도는?"}]}, response_text="서울",
                  finish_reason="stop", input_tokens=5, output_tokens=1, latency_s=0.1, cost_usd=1e-6,
                  score=1.0, scorer={"name": "includes", "args": {}}, reason="contains '서울'")
    return SampleRecord(**values | overrides)


def test_runs_and_samples_round_trip(tmp_path):
    store = SQLiteStore(tmp_path / "g.db")
    store.create_run(run())
    store.add_sample(sample())
    store.add_sample(sample("i2", score=None, error="HTTP 500", response_text=None))
    store.set_run_status("r1", "finished")
    loaded = store.get_run("r1")
    assert loaded.status == "finished" and loaded.finished_at
    assert loaded.models == [{"name": "m", "origin": "domestic"}]
    assert list(store.samples("r1")) == [sample(), sample("i2", score=None, error="HTTP 500", response_text=None)]
    assert store.count_samples("r1") == 2


def test_duplicate_run_id_is_a_user_error(tmp_path):
    store = SQLiteStore(tmp_path / "g.db")
    store.create_run(run())
    with pytest.raises(UserError, match="run id `r1` already exists"):
        store.create_run(run())


def test_unknown_run_points_to_the_runs_command(tmp_path):
    with pytest.raises(NotFoundError, match="no run `zz`.*gensandbox runs"):
        SQLiteStore(tmp_path / "g.db").get_run("zz")


def test_each_sample_is_committed_at_once(tmp_path):
    store = SQLiteStore(tmp_path / "g.db")
    store.create_run(run())
    store.add_sample(sample())
    other = sqlite3.connect(tmp_path / "g.db")  # another process would see it too
    assert other.execute("SELECT count(*) FROM samples").fetchone()[0] == 1


def test_migrations_are_recorded_and_not_repeated(tmp_path):
    SQLiteStore(tmp_path / "g.db").close()
    store = SQLiteStore(tmp_path / "g.db")
    names = [r[0] for r in sqlite3.connect(tmp_path / "g.db").execute("SELECT name FROM _migrations")]
    assert names == [name for name, _ in MIGRATIONS]
    assert store.list_runs() == []


def test_runs_are_listed_newest_first(tmp_path):
    store = SQLiteStore(tmp_path / "g.db")
    store.create_run(run("a"))
    store.create_run(RunRecord(**{**run("b").__dict__, "created_at": "2026-11-30T00:00:00+00:00"}))
    assert [r.run_id for r in store.list_runs()] == ["b", "a"]


def test_a_version_one_store_is_upgraded_in_place_without_loss(tmp_path):
    from gensandbox.store import migrations

    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for statement in migrations.MIGRATIONS[0][1]:
        old.execute(statement)
    old.execute("INSERT INTO _migrations VALUES ('001_runs_and_samples', 'then')")
    old.execute("INSERT INTO runs VALUES ('r1', 'then', NULL, 'finished', '[]', '[]', '{}')")
    old.execute("INSERT INTO samples (run_id, model, suite, item_id, category, language, request, response_text, "
                "finish_reason, input_tokens, output_tokens, latency_s, cost_usd, score, scorer, reason, error, "
                "created_at) VALUES ('r1', 'm', 's', 'i1', 'c', 'ko', '{}', '서울', 'stop', 5, 1, 0.1, 0.001, 1.0, "
                "'{}', 'ok', NULL, 'then')")
    old.commit()
    old.close()
    store = SQLiteStore(path)
    (upgraded,) = store.samples("r1")
    assert (upgraded.response_text, upgraded.score, upgraded.epoch, upgraded.cached, upgraded.flags) == (
        "서울", 1.0, 0, 0, [])
    store.add_sample(sample("i1", epoch=1))  # the new unique key admits a second epoch of the same item
    assert store.count_samples("r1") == 2


def test_response_cache_round_trip(tmp_path):
    store = SQLiteStore(tmp_path / "g.db")
    assert store.get("k") is None
    store.put("k", {"text": "서울"})
    assert store.get("k") == {"text": "서울"}
