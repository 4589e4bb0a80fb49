"""Request records and key spending written in batches, off the request path.

A request appends a record to memory and returns; a background task commits whatever has gathered
every `interval_s` in one transaction (no per-request disk sync on the hot path). Shutdown flushes.
"""

from __future__ import annotations

import asyncio

from gensandbox.store.gateway import GatewayStore, RequestRecord


class Recorder:
    def __init__(self, store: GatewayStore, interval_s: float = 0.1):
        self._store = store
        self._interval_s = interval_s
        self._pending: list[RequestRecord] = []
        self._spent: dict[str, float] = {}
        self._task: asyncio.Task | None = None

    def add(self, record: RequestRecord, key_spent_usd: float | None) -> None:
        self._pending.append(record)
        if key_spent_usd is not None:
            self._spent[record.key_id] = key_spent_usd

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
        if not self._pending and not self._spent:
            return
        batch, spent = self._pending, self._spent
        self._pending, self._spent = [], {}
        self._store.record(batch, spent)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            self.flush()
