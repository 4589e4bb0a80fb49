"""Request records, key spending and ledger events written in batches, off the request path.

A request appends a record to memory and returns; a background task commits whatever has gathered
every `interval_s` in one transaction (no per-request disk sync on the hot path). Shutdown flushes.
A failed write (a locked or unreachable database) keeps what was pending and is tried again next time.
"""

from __future__ import annotations

import asyncio
import logging
import time

from gensandbox.gateway.keys import KeyGate
from gensandbox.ledger.writer import Ledger
from gensandbox.store.gateway import GatewayStore, RequestRecord

log = logging.getLogger("gensandbox.gateway")


class Recorder:
    def __init__(self, store: GatewayStore, ledger: Ledger, keys: KeyGate, interval_s: float = 0.1):
        self._store, self._ledger, self._keys = store, ledger, keys
        self._interval_s = interval_s
        self._pending: list[RequestRecord] = []
        self._spent: dict[str, float] = {}
        self._task: asyncio.Task | None = None

    def add(self, record: RequestRecord, key_spent_usd: float | None) -> None:
        """`key_spent_usd`: what this request cost the key (None for anonymous requests)."""
        self._pending.append(record)
        if key_spent_usd is not None:
            self._spent[record.key_id] = self._spent.get(record.key_id, 0.0) + key_spent_usd

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self.flush()

    def flush(self) -> None:
        self._ledger.flush()
        self._flush_requests()

    def _flush_requests(self) -> None:
        if not self._pending and not self._spent:
            return
        batch, spent = self._pending, self._spent
        self._pending, self._spent = [], {}
        now = time.time()
        try:
            self._store.record(batch, spent, self._keys.holder, now)
        except Exception:
            self._pending = batch + self._pending
            for key_id, amount in spent.items():
                self._spent[key_id] = self._spent.get(key_id, 0.0) + amount
            raise
        self._keys.renewed(now)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                # The ledger's commit waits for the disk (synchronous=FULL): on a worker thread, so that a slow
                # fsync never stalls the requests being answered meanwhile.
                await asyncio.to_thread(self._ledger.flush)
                self._flush_requests()
            except Exception as error:  # the next round retries; the gateway keeps answering meanwhile
                log.warning("could not write request records or ledger events yet: %s", error)
