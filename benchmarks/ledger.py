"""Ledger speed: appends per second with durability on, and the time to verify 1,000,000 events, on SQLite and on
PostgreSQL, each beside a plain audit table (what other tools keep: the same rows, no hash chain, no signatures).

    python benchmarks/ledger.py [--events 200000] [--verify-events 1000000] [--batch 1000]
                                [--postgres-url URL | --skip-postgres]

Appends go through GenSandbox's own writer (`Ledger.record_call` + `flush`, a signed checkpoint every 1,000
events) in groups of --batch, as the gateway's batch writer commits them; SQLite runs in WAL mode with
synchronous=FULL, PostgreSQL with its default synchronous_commit=on, so every commit is on disk when it returns.
The peer inserts the same events' JSON into a plain table in the same database with the same batches and
durability. Verification reads every record back (from the live database, and from a JSONL export) and checks
every hash, link and signature. Without --postgres-url a throwaway server is started from Debian's binaries
(tests/postgres.py) on 127.0.0.1. Targets: >= 20,000 appends/s on SQLite; verify 1,000,000 events in < 10 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests/postgres.py, the throwaway server

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from gensandbox.canonical import canonical
from gensandbox.config import LedgerConfig  # noqa: E402
from gensandbox.ledger.base import LedgerBackend  # noqa: E402
from gensandbox.ledger.digests import DigestKeys  # noqa: E402
from gensandbox.ledger.events import CallFacts, Head, Record, call_event, plan_append  # noqa: E402
from gensandbox.ledger.exports import read_export, write_export  # noqa: E402
from gensandbox.ledger.signing import Signer  # noqa: E402
from gensandbox.ledger.verify import verify_lines  # noqa: E402
from gensandbox.ledger.writer import Ledger, open_backend  # noqa: E402

MIN_APPENDS_PER_S, MAX_VERIFY_S = 20_000, 10.0
SIGNER = Signer(Ed25519PrivateKey.generate())
KEYS = DigestKeys(bytes(32))  # keyed digests cost what a real ledger's do


def facts(i: int) -> CallFacts:
    """A realistic gateway call: a Korean prompt, a route, a key, a session every few calls."""
    return CallFacts(source="gateway", provider="openai", requested_model="route:assistant",
                     model=("local/qwen2.5-coder-0.5b-instruct", "deepseek-chat")[i % 2],
                     started_at="2026-11-29T04:00:00.000000Z", latency_s=0.123456, input_tokens=20 + i % 50,
                     output_tokens=30 + i % 70, cost_usd=1.2e-5, price_table="price table 2026-11",
                     prompt=[{"role": "user", "content": f"서울에서 부산까지 가장 빠른 방법은? #{i}"}],
                     response_text=f"KTX로 약 2시간 30분 걸립니다. #{i}", finish_reason="stop",
                     key_id="key_1a2b3c4d", route="assistant", route_reason="cheapest meeting 0.6 on basics-ko",
                     session=f"s{i // 10}" if i % 3 == 0 else None, trace_id="0" * 32, span_id=f"{i:016x}")


# ---- appends -----------------------------------------------------------------------------------------------------


def gensandbox_appends(backend: LedgerBackend, events: int, batch: int) -> float:
    ledger = Ledger(backend, SIGNER, LedgerConfig(checkpoint_every=1000, checkpoint_interval_s=3600), KEYS)
    started = time.perf_counter()
    for i in range(events):
        ledger.record_call(facts(i))
        if (i + 1) % batch == 0:
            ledger.flush()
    ledger.flush(force_checkpoint=True)
    return events / (time.perf_counter() - started)


def plain_table_appends(insert_batch: Callable[[list[bytes]], None], events: int, batch: int) -> float:
    """The peer: the same events serialised to JSON and inserted in the same batches, nothing chained."""
    started = time.perf_counter()
    rows: list[bytes] = []
    for i in range(events):
        rows.append(canonical(call_event(facts(i), "hashes", KEYS)))
        if len(rows) == batch:
            insert_batch(rows)
            rows = []
    if rows:
        insert_batch(rows)
    return events / (time.perf_counter() - started)


def sqlite_plain_insert(path: Path) -> Callable[[list[bytes]], None]:
    import sqlite3

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE audit (id INTEGER PRIMARY KEY, event BLOB NOT NULL)")

    def insert(rows: list[bytes]) -> None:
        db.execute("BEGIN")
        db.executemany("INSERT INTO audit (event) VALUES (?)", [(row,) for row in rows])
        db.execute("COMMIT")

    return insert


def postgres_plain_insert(url: str) -> Callable[[list[bytes]], None]:
    import psycopg

    db = psycopg.connect(url, autocommit=True)
    db.execute("CREATE TABLE audit (id BIGSERIAL PRIMARY KEY, event BYTEA NOT NULL)")

    def insert(rows: list[bytes]) -> None:
        with db.transaction(), db.cursor().copy("COPY audit (event) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((row,))

    return insert


# ---- verification ------------------------------------------------------------------------------------------------


def chained_records(events: int) -> Iterator[Record]:
    """`events` calls with a signed checkpoint after every 1,000, chained in memory."""
    head, kind = Head(), None
    for start in range(0, events, 1000):
        contents = [call_event(facts(i), "hashes", KEYS) for i in range(start, min(start + 1000, events))]
        records = plan_append(contents, head, kind, lambda h: SIGNER.checkpoint(h, "2026-11-29T04:00:00Z"))
        yield from records
        head, kind = Head(records[-1].seq, records[-1].hash), records[-1].kind


def timed_verify(lines: Iterator[bytes], signed_end: bool) -> tuple[float, int]:
    started = time.perf_counter()
    verdict = verify_lines(lines, SIGNER.public_key, require_signed_end=signed_end)
    if not verdict.ok:
        raise SystemExit(f"verification failed: record {verdict.first_bad}: {verdict.reason}")
    return time.perf_counter() - started, verdict.records


# ---- one backend --------------------------------------------------------------------------------------------------


def measure(name: str, fresh_url: Callable[[], str], plain: Callable[[], Callable[[list[bytes]], None]],
            args: argparse.Namespace, workdir: Path) -> dict:
    backend = open_backend(fresh_url())
    ours = gensandbox_appends(backend, args.events, args.batch)
    peer = plain_table_appends(plain(), args.events, args.batch)
    print(f"{name:<10} appends: GenSandbox ledger {ours:>9,.0f}/s   plain audit table {peer:>9,.0f}/s   "
          f"ratio {ours / peer:.2f}x  ({args.events:,} events, batches of {args.batch:,})", flush=True)

    big = open_backend(fresh_url())
    started = time.perf_counter()
    count = big.import_records(chained_records(args.verify_events))
    loaded_s = time.perf_counter() - started
    live_s, records = timed_verify(big.lines(), signed_end=True)
    export = workdir / f"{name}.jsonl"
    write_export(big.lines(), export, "jsonl")
    big.close()
    file_s, _ = timed_verify(read_export(export), signed_end=True)
    print(f"{name:<10} verify {records:,} records ({args.verify_events:,} events + checkpoints): live database "
          f"{live_s:.2f} s, JSONL export {file_s:.2f} s  (loading them took {loaded_s:.1f} s; {count:,} rows)",
          flush=True)
    return {"appends_per_s": ours, "peer_per_s": peer, "verify_live_s": live_s, "verify_file_s": file_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--verify-events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--postgres-url", help="an empty database to use (default: start a throwaway server)")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        workdir = Path(tmp)
        counter = iter(range(1_000_000))
        results["SQLite"] = measure(
            "SQLite", lambda: f"sqlite:///{workdir / f'ledger-{next(counter)}.db'}",
            lambda: sqlite_plain_insert(workdir / "plain.db"), args, workdir)
        if not args.skip_postgres:
            results["PostgreSQL"] = measure_postgres(args, workdir)
    print_targets(results, args.verify_events)


def measure_postgres(args: argparse.Namespace, workdir: Path) -> dict:
    if args.postgres_url:
        return measure("PostgreSQL", lambda: args.postgres_url, lambda: postgres_plain_insert(args.postgres_url),
                       args, workdir)
    from tests.postgres import MISSING, PostgresServer, find_bin_dir

    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise SystemExit(MISSING)
    server = PostgresServer(bin_dir).start()
    try:
        return measure("PostgreSQL", server.create_database, lambda: postgres_plain_insert(server.create_database()),
                       args, workdir)
    finally:
        server.stop()


def print_targets(results: dict, verify_events: int) -> None:
    sqlite = results["SQLite"]
    ok = sqlite["appends_per_s"] >= MIN_APPENDS_PER_S
    print(f"SQLite appends: {sqlite['appends_per_s']:,.0f}/s (target >= {MIN_APPENDS_PER_S:,}: "
          f"{'ok' if ok else 'MISSED'})")
    for name, result in results.items():
        worst = max(result["verify_live_s"], result["verify_file_s"])
        verdict = ("ok" if worst < MAX_VERIFY_S else "MISSED") if verify_events >= 1_000_000 else "not checked: "\
            "fewer than 1,000,000 events"
        print(f"{name} verify of {verify_events:,} events: {worst:.2f} s at worst (target < {MAX_VERIFY_S:g} s for "
              f"1,000,000: {verdict})")


if __name__ == "__main__":
    main()
