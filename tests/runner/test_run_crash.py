"""The crash suite for runs: a real `gensandbox run` against the scripted upstream, killed with SIGKILL at random
moments and resumed each time, on SQLite and on PostgreSQL (store and ledger). A kill can land after a batch of
samples is stored and before its events reach the ledger; the resume must write exactly those events. In the end
every stored sample has exactly one call event, no event is duplicated, and `gensandbox ledger verify` is OK.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext

import orjson

from gensandbox.cli.app import main
from gensandbox.config import load_config
from gensandbox.ledger.events import CALL
from gensandbox.ledger.writer import open_backend
from gensandbox.store import open_store
from tests.helpers import write_config, write_suite

ITEMS = 400  # at concurrency 8 and 50 ms an answer, more than the four killed lives get through
KILLS = 4
RUN = "cut"


def items(count: int) -> list[dict]:
    return [{"id": f"i{n:03d}", "language": "en", "category": "c", "target": "yes", "scorer": "includes",
             "messages": [{"role": "user", "content": f"item {n} says yes"}]} for n in range(count)]


def stored_calls(config) -> list[tuple[str, str]]:
    """(model, "SUITE/ITEM#EPOCH") of every sample the run stored (all from model calls: the run has no cache)."""
    store = open_store(config)
    try:
        rows = store.db.execute("SELECT model, suite, item_id, epoch FROM samples WHERE run_id = ?", (RUN,))
        return [(model, f"{suite}/{item}#{epoch}") for model, suite, item, epoch in rows]
    finally:
        store.close()


def ledger_calls(config) -> list[tuple[str, str]]:
    """(model, item) named by each of the run's call events, read straight from the ledger's table (not through
    the backend class, which would wait on the lock `ledger_held` holds)."""
    url = config.ledger_url
    if url.startswith("sqlite:///"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        rows = db.execute("SELECT record FROM ledger WHERE kind = ?", (CALL,)).fetchall()
    else:
        import psycopg  # only here: the SQLite case runs without it

        db = psycopg.connect(url)
        rows = db.execute("SELECT record FROM ledger WHERE kind = %s", (CALL,)).fetchall()
    db.close()
    records = [orjson.loads(bytes(record)) for (record,) in rows]
    return [(r["gen_ai.request.model"], r["gensandbox.item_id"]) for r in records if r.get("gensandbox.run_id") == RUN]


@contextmanager
def ledger_held(config) -> Iterator[None]:
    """Another writer holds the ledger's append lock, as a gateway sharing the ledger does mid-append: the run's
    writer stores its next batch of samples, then waits to append their events."""
    url = config.ledger_url
    if url.startswith("sqlite:///"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
    else:
        import psycopg  # only here: the SQLite case runs without it

        from gensandbox.ledger.postgres import _APPEND_LOCK

        db = psycopg.connect(url)
        db.execute("SELECT pg_advisory_xact_lock(%s)", (_APPEND_LOCK,))
    try:
        yield
    finally:
        db.rollback()
        db.close()


def without_events(config) -> set[tuple[str, str]]:
    return set(stored_calls(config)) - set(ledger_calls(config))


def wait_until(process: subprocess.Popen, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None and not condition():
        time.sleep(0.02)


def killed_life(command: list[str], config, rng: random.Random, ledger_busy: bool) -> int:
    """Start the run, let it store some more samples, then SIGKILL it at a random moment; with `ledger_busy`, at a
    random moment after its writer stored a batch and, with another writer on the ledger, could not append its
    events. Waiting for samples first keeps the kill mid-run on a busy machine, however slow the start. How many
    samples of this life were left without their events."""
    before = without_events(config)  # what earlier kills left; a resume repairs it before it runs anything
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ,
                               start_new_session=True)
    enough = len(stored_calls(config)) + rng.randint(15, 40)
    wait_until(process, lambda: len(stored_calls(config)) >= enough)
    with ledger_held(config) if ledger_busy else nullcontext():
        if ledger_busy:  # while the lock is held, a sample stored without its event stays so
            wait_until(process, lambda: bool(without_events(config) - before))
        time.sleep(rng.uniform(0, 0.25))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the run ended before the kill: give it more items"
    return len(without_events(config) - before)


def test_a_run_killed_and_resumed_has_one_call_event_per_stored_sample(home, tmp_path, upstream, backend, capsys):
    config_path = write_config(tmp_path, upstream.url, {"slow": "echo-slow-50ms"}, model_options="concurrency = 8")
    suite = write_suite(tmp_path, "long", items(ITEMS))
    config = load_config(config_path)
    run = [sys.executable, "-m", "gensandbox", "run", "-c", str(config_path)]
    start = [*run, "-m", "slow", "-s", str(suite), "--run-id", RUN, "--no-cache"]
    open_backend(config.ledger_url).close()  # creates the ledger's table, read directly below
    rng = random.Random(f"run-crash-{backend}")
    gaps = [killed_life(start if life == 0 else [*run, "--resume", RUN], config, rng, ledger_busy=life % 2 == 1)
            for life in range(KILLS)]
    # Every kill while the ledger was busy fell between the two writes: the state the resume must repair.
    assert all(gaps[1::2]), gaps
    code = main(["ledger", "verify", "-c", str(config_path)])
    err = capsys.readouterr().err  # the last kill's gap, named with its fix, until the resume writes it
    assert code == 1 and f"but {gaps[-1]} stored samples have no call event, in run {RUN} ({gaps[-1]})" in err, err
    assert f"`gensandbox run --resume {RUN}` writes them" in err and err.count("\n") == 1

    assert main(["run", "-c", str(config_path), "--resume", RUN]) == 0, capsys.readouterr().err
    stored, events = stored_calls(config), ledger_calls(config)
    assert len(stored) == len(set(stored)) == ITEMS
    assert [event for event, count in Counter(events).items() if count > 1] == []  # none written twice
    missing = sorted(set(stored) - set(events))
    assert missing == [], f"{len(missing)} stored samples have no call event, e.g. {missing[0]}"
    assert set(events) == set(stored)  # and no event without its sample
    capsys.readouterr()
    code = main(["ledger", "verify", "-c", str(config_path)])
    out, err = capsys.readouterr()
    assert code == 0 and out.startswith("OK: "), err
