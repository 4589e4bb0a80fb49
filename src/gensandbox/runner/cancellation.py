"""Stopping a run (or an audit) from another thread: what a server process's cancel button needs.

The run's event loop lives in the thread that executes it; another thread cannot raise into it. So the run hands
its loop and main task to a `Cancellation` when it starts, and `cancel()` asks that loop, thread-safely, to cancel
the task. Cancelled calls stop where they are (an HTTP request is dropped; the local model ends its generation at
the next token, providers/local.py), samples already finished are saved, and the run ends as `interrupted`,
resumable with `gensandbox run --resume`, as after Ctrl-C. A cancel that comes before the run has started its loop
is remembered and applied the moment it does.
"""

from __future__ import annotations

import asyncio
import threading

__all__ = ["Cancellation"]


class Cancellation:
    def __init__(self) -> None:
        self._lock = threading.Lock()  # cancel() and attach() come from different threads
        self._requested = False
        self._running: list[tuple[asyncio.AbstractEventLoop, asyncio.Task]] = []

    @property
    def requested(self) -> bool:
        return self._requested

    def cancel(self) -> None:
        """Ask the run to stop. Idempotent: a second click must not also cancel the run's clean-up."""
        with self._lock:
            if self._requested:
                return
            self._requested = True
            running, self._running = self._running, []
        for loop, task in running:
            loop.call_soon_threadsafe(task.cancel)

    def attach(self) -> None:
        """Called from inside the run's event loop: cancel() now cancels the current task (at once, if it has
        already been asked for)."""
        task = asyncio.current_task()
        with self._lock:
            if not self._requested:
                self._running.append((asyncio.get_running_loop(), task))
                return
        task.cancel()

    def detach(self) -> None:
        """The current task is done with its work (its clean-up must not be cancelled)."""
        task = asyncio.current_task()
        with self._lock:
            self._running = [(loop, running) for loop, running in self._running if running is not task]
