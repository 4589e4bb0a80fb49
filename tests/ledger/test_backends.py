"""The contract every ledger backend passes: SQLite and PostgreSQL run the same tests (`ledger_backend`)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import psycopg
import pytest

from gensandbox.db.urls import address_without_password
from gensandbox.errors import ConfigError
from gensandbox.ledger import postgres as postgres_module
from gensandbox.ledger import sqlite as sqlite_module
from gensandbox.ledger.events import CALL, CHECKPOINT, GENESIS, Head, chain, plan_append, record_from_line
from gensandbox.ledger.postgres import PostgresLedger
from gensandbox.ledger.signing import Signer
from gensandbox.ledger.verify import verify_lines
from gensandbox.ledger.writer import open_backend


def event(number: int, session: str | None = None, writer: str = "test") -> dict:
    content = {"kind": CALL, "n": number, "writer": writer}
    if session is not None:
        content["gen_ai.conversation.id"] = session
    return content


def stamp(signer: Signer):
    return lambda head: signer.checkpoint(head, "2025-01-01T00:00:00+00:00")


def kinds(backend) -> list[str]:
    return [orjson.loads(line)["kind"] for line in backend.lines()]


def assert_one_chain(backend, signer: Signer, records: int, *, signed_end: bool = True) -> None:
    verdict = verify_lines(backend.lines(), signer.public_key, require_signed_end=signed_end)
    assert verdict.ok, verdict.reason
    assert verdict.records == records
    assert backend.head() == Head(records, verdict.head_hash)


# ---- append, head, lines ----


def test_an_empty_ledger_has_the_genesis_head(ledger_backend):
    assert ledger_backend.head() == Head(0, GENESIS)
    assert list(ledger_backend.lines()) == []


def test_append_round_trips_through_lines(ledger_backend, signer):
    first = ledger_backend.append([event(1), event(2)])
    second = ledger_backend.append([event(3)], stamp(signer))
    assert [r.seq for r in first + second] == [1, 2, 3, 4]
    assert second[-1].kind == CHECKPOINT
    assert list(ledger_backend.lines()) == [r.line for r in first + second]
    assert ledger_backend.head() == Head(4, second[-1].hash)
    assert_one_chain(ledger_backend, signer, 4)


def test_lines_after_seq_reads_across_pages(ledger_backend, monkeypatch):
    monkeypatch.setattr(sqlite_module, "READ_BATCH", 7)
    monkeypatch.setattr(postgres_module, "READ_BATCH", 7)
    records = ledger_backend.append([event(n) for n in range(1, 26)])
    assert list(ledger_backend.lines(10)) == [r.line for r in records[10:]]
    assert list(ledger_backend.lines(0)) == [r.line for r in records]
    assert list(ledger_backend.lines(25)) == []


# ---- checkpoints ----


def test_checkpoint_rules(ledger_backend, signer):
    assert ledger_backend.append([], stamp(signer)) == []  # nothing to sign on an empty ledger
    assert [r.kind for r in ledger_backend.append([event(1)], stamp(signer))] == [CALL, CHECKPOINT]
    assert ledger_backend.append([], stamp(signer)) == []  # never a checkpoint right after a checkpoint
    assert ledger_backend.append([], None) == []
    ledger_backend.append([event(2)])
    assert [r.kind for r in ledger_backend.append([], stamp(signer))] == [CHECKPOINT]
    assert kinds(ledger_backend) == [CALL, CHECKPOINT, CALL, CHECKPOINT]
    assert_one_chain(ledger_backend, signer, 4)


def test_a_checkpoint_signs_the_head_it_follows(ledger_backend, signer):
    records = ledger_backend.append([event(1), event(2)], stamp(signer))
    signed = orjson.loads(records[-1].line)
    assert (signed["signed_seq"], signed["signed_hash"]) == (2, records[1].hash)
    assert signed["key_id"] == signer.key_id


# ---- sessions ----


def test_session_lines_are_that_sessions_records_in_order(ledger_backend, monkeypatch):
    monkeypatch.setattr(postgres_module, "READ_BATCH", 2)
    ledger_backend.append([event(1, "a"), event(2, "b"), event(3), event(4, "a")])
    ledger_backend.append([event(5, "a"), event(6, "b")])
    numbers = [orjson.loads(line)["n"] for line in ledger_backend.session_lines("a")]
    assert numbers == [1, 4, 5]
    assert list(ledger_backend.session_lines("nobody")) == []


# ---- import ----


def test_import_into_an_empty_ledger_keeps_the_records_as_they_are(ledger_backend, signer):
    planned = plan_append([event(n, "s") for n in range(1, 6)], Head(), None, stamp(signer))
    lines = [r.line for r in planned]
    assert ledger_backend.import_records(record_from_line(line) for line in lines) == 6
    assert list(ledger_backend.lines()) == lines
    assert len(list(ledger_backend.session_lines("s"))) == 5
    assert_one_chain(ledger_backend, signer, 6)
    assert ledger_backend.append([event(6)])[0].seq == 7  # and the chain goes on from the imported head


def test_import_into_a_ledger_with_records_is_refused(ledger_backend):
    ledger_backend.append([event(1)])
    with pytest.raises(ConfigError, match="already has records; import into an empty one"):
        ledger_backend.import_records(chain([event(1)], Head()))
    assert len(list(ledger_backend.lines())) == 1


# ---- several writers ----


def test_threads_sharing_one_backend_build_one_chain(ledger_backend, signer):
    threads_count, batches, size = 4, 50, 20

    def write(name: str) -> None:
        for batch in range(batches):
            checkpoint = stamp(signer) if batch % 5 == 4 else None
            ledger_backend.append([event(batch * size + i, writer=name) for i in range(size)], checkpoint)

    threads = [threading.Thread(target=write, args=(f"t{n}",)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    checkpoints = threads_count * batches // 5
    assert_one_chain(ledger_backend, signer, threads_count * batches * size + checkpoints)
    assert_every_event_once(ledger_backend, [f"t{n}" for n in range(threads_count)], batches * size)


def assert_every_event_once(backend, writers: list[str], per_writer: int) -> None:
    seen = [(record["writer"], record["n"]) for record in map(orjson.loads, backend.lines())
            if record["kind"] == CALL]
    assert sorted(seen) == sorted((writer, n) for writer in writers for n in range(per_writer))


def append_from_process(url: str, key_path: str, name: str, batches: int, size: int, start) -> None:
    """Runs in a spawned process, with its own connection (as a second gateway would)."""
    backend, signer = open_backend(url), Signer.load_or_create(Path(key_path))
    start.wait(timeout=60)
    for batch in range(batches):
        checkpoint = stamp(signer) if batch % 3 == 2 else None
        backend.append([event(batch * size + i, writer=name) for i in range(size)], checkpoint)
    backend.close()


def test_processes_appending_at_once_build_one_chain(ledger_url, ledger_backend, signer, tmp_path):
    processes_count, batches, size = 3, 30, 20
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(processes_count)
    processes = [context.Process(target=append_from_process,
                                 args=(ledger_url, str(tmp_path / "key.pem"), f"p{n}", batches, size, start))
                 for n in range(processes_count)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [process.exitcode for process in processes] == [0] * processes_count
    checkpoints = processes_count * (batches // 3)
    assert_one_chain(ledger_backend, signer, processes_count * batches * size + checkpoints)
    assert_every_event_once(ledger_backend, [f"p{n}" for n in range(processes_count)], batches * size)


# ---- a writer killed mid-append ----

_WRITE_FOREVER = """
import sys
from pathlib import Path
from gensandbox.config.schema import LedgerConfig
from gensandbox.ledger.events import CallFacts
from gensandbox.ledger.signing import Signer
from gensandbox.ledger.writer import Ledger, open_backend

ledger = Ledger(open_backend(sys.argv[1]), Signer.load_or_create(Path(sys.argv[2])),
                LedgerConfig(checkpoint_every=70, checkpoint_interval_s=3600), None)
while True:
    for n in range(25):
        ledger.record_call(CallFacts("run", "openai", "m", "m", "2025-01-01T00:00:00+00:00", 0.1, n, n, 0.0,
                                     "prices", [{"role": "user", "content": "hi"}], "hello"))
    ledger.flush()
"""


def test_a_writer_killed_mid_append_leaves_a_valid_chain(ledger_url, ledger_backend, signer, tmp_path):
    child = subprocess.Popen([sys.executable, "-c", _WRITE_FOREVER, ledger_url, str(tmp_path / "key.pem")],
                             stderr=subprocess.PIPE)
    try:
        wait_for_records(ledger_backend, child, at_least=300)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    stored = verify_lines(ledger_backend.lines(), signer.public_key, require_signed_end=False)
    assert stored.ok, stored.reason
    assert stored.checkpoints >= 1
    # If it died inside a transaction, that transaction is rolled back (PostgreSQL: when the server sees the
    # socket close, which also frees the append lock; SQLite: the uncommitted WAL frames are ignored).
    more = ledger_backend.append([event(1), event(2)], stamp(signer))
    assert more[0].seq == stored.records + 1
    assert_one_chain(ledger_backend, signer, stored.records + 3)


def wait_for_records(backend, child: subprocess.Popen, at_least: int) -> None:
    deadline = time.monotonic() + 60
    while backend.head().seq < at_least:
        if child.poll() is not None:
            pytest.fail(f"the writer exited early: {child.stderr.read().decode(errors='replace')}")
        assert time.monotonic() < deadline, "the writer committed nothing in 60 s"
        time.sleep(0.02)


# ---- PostgreSQL only: addresses and connection errors ----


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://app:s3cret@db.internal:5432/ledger", "postgresql://app@db.internal:5432/ledger"),
    ("postgresql://app@h1:5432,h2:5433/ledger?password=s3cret&sslmode=require",
     "postgresql://app@h1:5432,h2:5433/ledger?sslmode=require"),
    ("postgres://localhost/ledger", "postgres://localhost/ledger"),
])
def test_the_location_never_shows_the_password(url, shown):
    assert address_without_password(url) == shown


def test_an_unreachable_server_is_one_clean_line(unused_tcp_port):
    with pytest.raises(ConfigError) as raised:
        PostgresLedger(f"postgresql://app:s3cret@127.0.0.1:{unused_tcp_port}/ledger")
    message, shown = str(raised.value), f"postgresql://app@127.0.0.1:{unused_tcp_port}/ledger"
    assert message.startswith(f"could not connect to the ledger at {shown}: ")
    assert message.endswith("; check [ledger] url or GENSANDBOX_LEDGER_URL")
    assert "s3cret" not in message and "\n" not in message


def test_a_new_postgres_database_gives_a_working_ledger(postgres_server):
    url = postgres_server.create_database()
    backend = PostgresLedger(url)
    try:
        assert backend.location == url
        assert backend.head() == Head(0, GENESIS)
        appended = backend.append([event(1)])
        assert backend.head() == Head(1, appended[-1].hash)
    finally:
        backend.close()


def test_a_dropped_connection_fails_one_append_cleanly_then_reconnects(postgres_server):
    backend = PostgresLedger(postgres_server.create_database())
    try:
        backend.append([event(1)])
        with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                          (backend.location.rpartition("/")[2],))
        # Not retried on its own: after a lost COMMIT nobody knows whether the events were stored.
        with pytest.raises(ConfigError, match="failed: .*check that the server is up"):
            backend.append([event(2)])
        assert backend.append([event(3)])[0].seq == 2
    finally:
        backend.close()
