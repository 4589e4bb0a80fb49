"""The collector's settings for a run: tuned while it runs, then as they were (a test session goes on after a run)."""

import gc

from gensandbox.collector import GC_THRESHOLDS, tuned_gc


def test_a_run_tunes_the_collector_and_gives_it_back():
    before, frozen_before = gc.get_threshold(), gc.get_freeze_count()
    with tuned_gc():
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > frozen_before  # start-up's objects are out of the collector's sight
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0  # unfrozen: garbage made before the run can be collected again
