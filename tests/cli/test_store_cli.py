"""`gensandbox migrate`, `gensandbox store copy`, and a run kept in PostgreSQL, through the command line."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import psycopg
import pytest

from gensandbox.cli import app as app_module
from gensandbox.store import SQLiteStore
from gensandbox.store.audits import AuditStore
from gensandbox.store.copying import MIGRATIONS_TABLE, STORE_TABLES
from gensandbox.store.gateway import GatewayStore, KeyRecord
from gensandbox.store.migrations import MIGRATIONS
from tests.helpers import write_config, write_suite
from tests.store.conftest import run_record, sample_record
from tests.upstream import unused_port


@pytest.fixture
def cli(capsys):
    def run(*args: str) -> tuple[int, str, str]:
        code = app_module.main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_migrate_upgrades_an_old_sqlite_store_in_place(home, cli):
    path = home / "gensandbox.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for name, statements in MIGRATIONS[:2]:
        for statement in statements:
            old.execute(statement)
        old.execute("INSERT INTO _migrations VALUES (?, 'then')", (name,))
    old.execute("INSERT INTO runs VALUES ('r1', 'then', NULL, 'finished', '[]', '[]', '{}')")
    old.commit()
    old.close()
    code, out, err = cli("migrate")
    later = [name for name, _ in MIGRATIONS[2:]]
    assert code == 0, err
    assert f"{path}: applied {len(later)} migrations: {', '.join(later)}" in out
    assert cli("migrate")[1].strip() == f"{path}: up to date ({len(MIGRATIONS)} migrations)"
    assert SQLiteStore(path).get_run("r1").status == "finished"


def test_migrate_a_postgres_store_named_by_the_environment(home, cli, postgres_server, monkeypatch):
    monkeypatch.setenv("GENSANDBOX_DATABASE_URL", postgres_server.create_database())
    code, out, _ = cli("migrate")
    assert code == 0 and f"applied {len(MIGRATIONS)} migrations" in out
    assert "up to date" in cli("migrate")[1]
    assert not (home / "gensandbox.db").exists()


def fill(path: Path) -> None:
    """A store with a row in most tables, and values that are easy to lose: floats, non-ASCII, quotes, NULLs."""
    store = SQLiteStore(path)
    for n in range(3):
        store.create_run(run_record(f"r{n}", created_at=f"2026-11-2{n}T00:00:00+00:00"))
    for n in range(25):
        store.add_sample(sample_record(f"항목-{n}", run_id=f"r{n % 3}", cost_usd=(0.1 + 0.2) * n, latency_s=1 / (n + 1),
                                       score=None if n % 4 else 0.5, reason="it's 100% ?"))
    store.put("k1", {"text": "서울 \"quoted\""})
    gateway = GatewayStore(store)
    gateway.add_key(KeyRecord("key_1", "h" * 64, "developer", "팀", 1e-300, 0.0, 60, "2026-11-29T00:00:00+00:00"))
    # No longer written (requests are ledger events), but older homes have rows here, and a copy keeps them.
    store.db.execute("INSERT INTO gateway_requests (created_at, key_id, requested_model, route, route_reason, model, "
                     "status, input_tokens, output_tokens, cost_usd, latency_s, stream, error) VALUES "
                     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ("2026-11-29T00:00:01+00:00", "key_1", "m", "fixed",
                                                                 "only", None, 500, 0, 0, 0.0, None, True,
                                                                 "upstream failed"))
    AuditStore(store).save("switching", "A → B keeps 94%", {"run_id": "r1", "ratio": 1 / 7})
    store.close()


def dump(path: Path) -> dict[str, list]:
    """Every row of every table, with each value's type, straight from SQLite."""
    db = sqlite3.connect(path)
    order = {**STORE_TABLES, MIGRATIONS_TABLE: "name"}
    return {table: [[(type(v).__name__, v) for v in row] for row in db.execute(f"SELECT * FROM {table} ORDER BY {key}")]
            for table, key in order.items()}


def digests(out: str) -> dict[str, tuple[str, str]]:
    return {m[1]: (m[2], m[3]) for m in re.finditer(r"^ +(\w+) +(\d+) rows +sha256 ([0-9a-f]{64})$", out, re.M)}


def test_copy_sqlite_to_postgres_and_back_loses_nothing(home, tmp_path, cli, postgres_server):
    fill(tmp_path / "first.db")
    middle = postgres_server.create_database()
    code, there, err = cli("store", "copy", "--from", f"sqlite:///{tmp_path / 'first.db'}", "--to", middle)
    assert code == 0, err
    assert "verified" in there and "ledger is not part of the store" in there
    code, back, err = cli("store", "copy", "--from", middle, "--to", str(tmp_path / "last.db"))  # a plain path
    assert code == 0, err
    assert digests(there) == digests(back) and set(digests(there)) == {*STORE_TABLES, MIGRATIONS_TABLE}
    assert digests(there)["samples"][0] == "25"
    assert dump(tmp_path / "first.db") == dump(tmp_path / "last.db")
    copied = SQLiteStore(tmp_path / "last.db")
    copied.create_run(run_record("new"))
    copied.add_sample(sample_record("after", run_id="new"))  # ids continue after the copied ones
    with psycopg.connect(middle) as db:
        db.execute("INSERT INTO runs VALUES ('new', 'now', NULL, 'running', '[]', '[]', '{}')")
        db.execute("INSERT INTO samples (run_id, model, suite, item_id, category, language, request, input_tokens, "
                   "output_tokens, cost_usd, scorer, reason, created_at) VALUES ('new', 'm', 's', 'i', 'c', 'en', "
                   "'{}', 1, 1, 0, '{}', '', 'now')")  # the identity column was moved past the copied ids


def test_copy_refuses_a_target_that_is_not_empty(home, tmp_path, cli):
    fill(tmp_path / "a.db")
    fill(tmp_path / "b.db")
    before = dump(tmp_path / "b.db")
    code, _, err = cli("store", "copy", "--from", str(tmp_path / "a.db"), "--to", str(tmp_path / "b.db"))
    assert code == 1 and err.startswith(f"error: the target store {tmp_path / 'b.db'} is not empty (table runs")
    assert err.count("\n") == 1 and dump(tmp_path / "b.db") == before


@pytest.mark.parametrize("source, target, message", [
    ("sqlite:///{tmp}/a.db", "mysql://app:s3cret@db/x", "error: not a store address (mysql:…): use sqlite:///PATH"),
    ("sqlite:///{tmp}/missing.db", "{tmp}/b.db", "error: no store at {tmp}/missing.db: no such file"),
    ("sqlite:///{tmp}/a.db", "sqlite://relative.db", "error: not a store address (sqlite:…)"),
    ("sqlite:///{tmp}/a.db", "postgresql://app:s3cret@127.0.0.1:{port}/x",
     "error: could not connect to the store at postgresql://app@127.0.0.1:{port}/x: "),
])
def test_bad_addresses_are_one_line(home, tmp_path, cli, source, target, message):
    fill(tmp_path / "a.db")
    port = unused_port()
    code, _, err = cli("store", "copy", "--from", source.format(tmp=tmp_path), "--to",
                       target.format(tmp=tmp_path, port=port))
    assert code == 1 and err.startswith(message.format(tmp=tmp_path, port=port)), err
    assert err.count("\n") == 1 and "s3cret" not in err and "Traceback" not in err


def test_a_run_against_postgres_is_stored_there_and_shown_back(home, tmp_path, upstream, cli, postgres_server,
                                                               monkeypatch):
    url = postgres_server.create_database()
    monkeypatch.setenv("GENSANDBOX_DATABASE_URL", url)
    config = write_config(tmp_path, upstream.url, {"echo-a": "echo"})
    code, out, err = cli("run", "-c", str(config), "-m", "echo-a", "-s", str(write_suite(tmp_path)), "--run-id", "pg")
    assert code == 0, err
    assert f"store {url}" in out
    code, out, err = cli("show", "pg", "--json", "-c", str(config))
    assert code == 0, err
    shown = json.loads(out)
    assert shown["run_id"] == "pg" and (shown["results"][0]["n"], shown["results"][0]["score"]) == (4, 0.75)
    assert not (home / "gensandbox.db").exists()
    with psycopg.connect(url) as db:
        assert db.execute("SELECT count(*) FROM samples WHERE run_id = 'pg'").fetchone()[0] == 4
        assert db.execute("SELECT count(*) FROM ledger").fetchone()[0] >= 4  # the ledger came along by default
