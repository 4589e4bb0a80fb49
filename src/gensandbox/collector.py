"""The garbage collector's settings for a busy process: each gateway worker, and the event loop of a run.

Young objects are collected once 10,000 more have been made than freed, not 700: a request's (or an agent step's)
objects are nearly all freed by reference counting when it ends, but with 64 in flight the default threshold ran a
collection every ~16 requests, each finding them still alive, and a full collection scanned start-up's ~60,000
objects every few thousand requests (measured at 64 in flight: 20-30 µs of collections per request; ~0.5 µs with
these settings). In a run of agent tasks the full collection paused every episode in flight for 30-50 ms.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

GC_THRESHOLDS = (10_000, 10, 10)


def tune_gc_after_start_up() -> None:
    """Once start-up is done: what it made (modules, config, models, a run's plan) is moved out of the collector's
    sight (gc.freeze), so that full collections scan only what the work makes; young collections run less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


@contextmanager
def tuned_gc() -> Iterator[None]:
    """tune_gc_after_start_up for the length of a piece of work (a run), then the collector as it was: a process
    that goes on afterwards (a test session, a notebook) keeps its own settings and gets its objects back."""
    thresholds = gc.get_threshold()
    tune_gc_after_start_up()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
