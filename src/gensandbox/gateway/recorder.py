"""Recorded before answered: a request's ledger event (its one record) and its key's spending are durable before
its answer (and the receipt that names the event) leaves.

Requests that end while a commit is being written wait for the next one, which takes all of them in one store
transaction (spending and lease renewals: budget state) and one ledger transaction (the events) — a group commit:
under load a commit covers many requests, so throughput holds, and when a process is killed no client holds a
receipt for an event that was not written, nor got an answer whose spending was not added to its key. The two
cannot share a transaction (the ledger may live in another database: [ledger] url), so the store goes first,
then the ledger: a crash between the two leaves spending recorded for an answer that never left, never the
reverse. `gensandbox traffic` reads the events, so it always shows what the ledger shows.

If a commit fails (a locked or unreachable database), its requests are answered 503 instead of being answered
unrecorded, and their events say so (http.response.status_code 503, and why, in gensandbox.reason): nothing has
chained or named them yet. When the store failed, their spending and their events are kept here, for the next
commit to write, store first; when the ledger failed, their spending is already in the store and their events
stay queued in the ledger. Between requests a commit still runs every RENEW_EVERY_S seconds, so
budget leases are renewed while held and a checkpoint is signed when one is due.

The ledger's commit waits for the disk (synchronous=FULL). It is waited for in place, on the event loop, while
commits are quick (an fsync on an SSD: 0.2-0.4 ms here): a round trip to a worker thread costs more CPU than that
(~60 µs here) and its hand-offs of the GIL delay every answer (paced at 1,000 requests/s, the median answer took
1.5 ms in place against 2.3 ms through a thread). When commits wait (for the disk or a lock, apart from their own
computing) longer than SLOW_COMMIT_S on average (a slow disk, a remote database, another process holding SQLite's
write lock), they go to a worker thread for SLOW_FOR_S seconds, so that requests keep being answered, and gather
for the next commit, meanwhile. A big batch that takes long to compute stays in place: a thread would not compute
it any sooner, since it needs the GIL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from gensandbox.errors import NotRecorded
from gensandbox.gateway.keys import LEASE_TTL_S, KeyGate
from gensandbox.ledger.events import CALL
from gensandbox.ledger.writer import Ledger
from gensandbox.store.gateway import GatewayStore

log = logging.getLogger("gensandbox.gateway")
RENEW_EVERY_S = LEASE_TTL_S / 6  # well inside the lease's lifetime, however slow one commit is
SLOW_COMMIT_S, SLOW_FOR_S = 0.002, 10.0


@dataclass(slots=True)
class _Entry:
    key_id: str
    spent_usd: float | None  # what the request cost its key (None: anonymous)
    event: dict  # the request's record: its ledger event
    done: asyncio.Future | None  # None: nobody waits (a client that left)


class Recorder:
    def __init__(self, store: GatewayStore, ledger: Ledger, keys: KeyGate):
        self._store, self._ledger, self._keys = store, ledger, keys
        self._entries: list[_Entry] = []
        self._carried: list[dict] = []  # events of a failed store commit, written after the next one
        self._carried_spent: dict[str, float] = {}
        self._waiter: asyncio.Future | None = None  # what _run awaits while there is nothing to commit
        self._task: asyncio.Task | None = None
        self._threaded_until = 0.0  # ledger commits go to a worker thread until then (time.monotonic())
        self._waited_s = 0.0  # how long ledger commits in place wait: a moving average over the last ~8

    async def commit(self, key_id: str, spent_usd: float | None, event: dict) -> None:
        """Return once the spending and the event are durable; NotRecorded if they cannot be."""
        done = asyncio.get_running_loop().create_future()
        self._add(_Entry(key_id, spent_usd, event, done))
        await done

    def submit(self, key_id: str, spent_usd: float | None, event: dict) -> None:
        """Record without waiting (nobody is left to answer, e.g. a client that closed its stream)."""
        self._add(_Entry(key_id, spent_usd, event, None))

    def _add(self, entry: _Entry) -> None:
        self._entries.append(entry)
        _wake(self._waiter)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._write(self._take())  # whatever arrived last; the ledger's own close signs the end

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._entries:  # else they came during the last commit: the next one starts at once
                await self._next_entry(loop)
            # One turn of the loop first, so that the requests already resumed in this one add theirs to this
            # commit (at 64 in flight, a commit took 32 requests on average instead of 22).
            await asyncio.sleep(0)
            entries = self._take()
            try:
                events = self._write_store(entries)
            except Exception as error:  # nothing was written: all of it is carried to the next commit
                self._carry(entries, error)
                self._refuse(entries, error)
                continue
            try:
                await self._commit_ledger(events)
            except Exception as error:  # the events stay queued in the ledger for the next commit
                _mark_unanswered(entries, error)
                self._refuse(entries, error)
                continue
            _settle(entries, None)

    async def _next_entry(self, loop: asyncio.AbstractEventLoop) -> None:
        """Until an entry comes, or RENEW_EVERY_S passes (leases are renewed and a checkpoint signed when due)."""
        self._waiter = waiter = loop.create_future()
        timer = loop.call_later(RENEW_EVERY_S, _wake, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    async def _commit_ledger(self, events: list[dict]) -> None:
        """In place while commits are quick, else on a worker thread for a while (see the module's docstring)."""
        if time.monotonic() < self._threaded_until:
            await asyncio.to_thread(self._ledger.commit, events)
            return
        started, computing = time.monotonic(), time.thread_time()
        self._ledger.commit(events)
        waited = time.monotonic() - started - (time.thread_time() - computing)
        self._waited_s += (waited - self._waited_s) / 8  # one slow fsync does not tip it
        if self._waited_s > SLOW_COMMIT_S:
            self._threaded_until, self._waited_s = time.monotonic() + SLOW_FOR_S, 0.0

    def _take(self) -> list[_Entry]:
        entries, self._entries = self._entries, []
        return entries

    def _refuse(self, entries: list[_Entry], error: Exception) -> None:
        log.warning("could not record %d requests; they are answered 503: %s", len(entries), error)
        _settle(entries, NotRecorded(f"the gateway could not record this request ({error}); it was not answered, "
                                     "so that no answer goes out unrecorded"))

    def _write(self, entries: list[_Entry]) -> None:
        self._ledger.commit(self._write_store(entries))
        _settle(entries, None)

    def _write_store(self, entries: list[_Entry]) -> list[dict]:
        """The spending (with any carried from a failed commit) and the lease renewal, in one store transaction;
        returns the events to commit to the ledger next, carried ones first."""
        spent = dict(self._carried_spent)
        for entry in entries:
            if entry.spent_usd is not None:
                spent[entry.key_id] = spent.get(entry.key_id, 0.0) + entry.spent_usd
        events = self._carried + [entry.event for entry in entries]
        if spent or self._keys.holds_leases():  # else nothing to write and no lease to renew
            now = time.time()
            self._store.record_spending(spent, self._keys.holder, now)
            self._keys.renewed(now)
        self._carried, self._carried_spent = [], {}
        return events

    def _carry(self, entries: list[_Entry], error: Exception) -> None:
        """A failed store commit loses nothing: the spending stays owed, and the events, which say that the
        requests got a 503, wait for the next commit (after their spending, as always)."""
        for entry in entries:
            if entry.spent_usd is not None:
                self._carried_spent[entry.key_id] = self._carried_spent.get(entry.key_id, 0.0) + entry.spent_usd
        _mark_unanswered(entries, error)
        self._carried += [entry.event for entry in entries]


def _wake(waiter: asyncio.Future | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


def _mark_unanswered(entries: list[_Entry], error: Exception) -> None:
    """The events of requests answered 503 say so. They are changed in place: a failed ledger commit left these
    very dicts queued in the ledger, and nothing has chained them or named them in a receipt yet. A client that
    left got no answer at all, and a refused request none either way: their events stay as they were."""
    for entry in entries:
        if entry.done is not None and entry.event["kind"] == CALL:
            entry.event["http.response.status_code"] = 503
            entry.event["gensandbox.reason"] = f"answered 503: not recorded ({error})"


def _settle(entries: list[_Entry], error: Exception | None) -> None:
    for entry in entries:
        if entry.done is not None and not entry.done.done():
            if error is None:
                entry.done.set_result(None)
            else:
                entry.done.set_exception(error)
