"""Runs started, watched and cancelled from a server process (runner/jobs.py), against the scripted upstream on
127.0.0.1 and, in one slow test, the embedded local model: the estimate, progress from memory, the cost cap,
cancelling (and resuming what was cancelled), queueing, and failures that end one run but not the server."""

from __future__ import annotations

import time

import pytest

import gensandbox
from gensandbox.config import load_config
from gensandbox.errors import NotFoundError
from gensandbox.runner.jobs import RunJobs, estimate
from gensandbox.store import open_store
from tests.helpers import SMALL_ITEMS, write_config, write_suite

UNPRICED = '[[models]]\nname = "free"\nprovider = "openai"\nmodel = "echo"\nbase_url = "{url}/v1"\n'
JUDGED = [{"id": f"q{n}", "language": "en", "category": "open", "target": "Paris",
           "scorer": {"name": "judge", "args": {"rubric": "Names the capital of France."}},
           "messages": [{"role": "user", "content": f"What is the capital of France? ({n})"}]} for n in range(10)]


def items(count: int) -> list[dict]:
    return [{"id": f"i{n:03d}", "language": "en", "category": "c", "target": "yes", "scorer": "includes",
             "messages": [{"role": "user", "content": f"item {n} says yes"}]} for n in range(count)]


def setup(tmp_path, upstream, models: dict[str, str], count: int = 4, extra: str = ""):
    config = load_config(write_config(tmp_path, upstream.url, models, extra=extra))
    return config, str(write_suite(tmp_path, "s", items(count)))


def wait_until(condition, timeout_s: float = 20.0):
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)
    return value


def ended(jobs: RunJobs, run_id: str, timeout_s: float = 20.0):
    return wait_until(lambda: (p := jobs.progress(run_id)).ended and p, timeout_s)


def stored_status(config, run_id: str) -> tuple[str, int]:
    store = open_store(config)
    try:
        return store.get_run(run_id).status, store.count_samples(run_id)
    finally:
        store.close()


@pytest.fixture
def jobs():
    running = RunJobs(max_running=2)
    yield running
    running.shutdown()


def test_the_estimate_is_the_one_the_cost_cap_is_checked_against(home, tmp_path, upstream, recorder):
    config, suite = setup(tmp_path, upstream, {"echo": "echo"}, count=6, extra=UNPRICED.format(url=upstream.url))
    found = estimate(config, ["echo", "free"], [suite], epochs=2)
    echo, free = found.models
    assert (echo.model, echo.items, echo.calls, echo.priced_by) == ("echo", 12, 12, "tokens") and echo.usd > 0
    assert (free.priced_by, free.usd, found.unpriced) == ("unpriced", 0.0, ["free"])
    assert "price_per_million" in free.price_source  # says how to add a price
    assert (found.items, found.calls, found.usd) == (24, 24, echo.usd)
    with pytest.raises(gensandbox.UserError, match="is above --max-cost"):
        gensandbox.evaluate(["echo"], [suite], config=config, epochs=2, max_cost_usd=echo.usd * 0.999)
    assert gensandbox.evaluate(["echo"], [suite], config=config, epochs=2, max_cost_usd=echo.usd).status == "finished"
    with pytest.raises(gensandbox.UserError, match="unknown run settings: epoch"):
        estimate(config, ["echo"], [suite], epoch=2)
    assert recorder.requests and all(r["model"] == "echo" for r in recorder.requests)


def test_a_run_goes_on_in_the_background_and_reports_its_progress_from_memory(home, tmp_path, upstream, jobs):
    config, suite = setup(tmp_path, upstream, {"echo": "echo-slow-50ms"}, count=12)
    seen = []
    job = jobs.start(config, ["echo"], [suite], max_cost_usd=None, run_id="bg", on_started=lambda run_id: seen.append(
        (run_id, stored_status(config, run_id))))
    assert job.run_id == "bg" and jobs.get("bg") is job
    final = ended(jobs, "bg")
    assert seen == [("bg", ("running", 0))]  # called once the run exists, before any sample
    assert (final.status, final.done, final.total, final.errors, final.message) == ("finished", 12, 12, 0, None)
    assert final.cost_usd > 0 and final.elapsed_s > 0 and len(final.recent) == 5
    assert {item.item_id for item in final.recent} <= {f"i{n:03d}" for n in range(12)}
    assert any(note.startswith("run id: bg") for note in final.notes)
    assert stored_status(config, "bg") == ("finished", 12)
    started = time.perf_counter()
    for _ in range(2000):
        jobs.progress("bg")
    assert time.perf_counter() - started < 0.5  # 20 people polling every second for 100 s, in under half a second
    with pytest.raises(NotFoundError, match="no run `nope`"):
        jobs.progress("nope")


def test_a_cancelled_run_stops_at_once_keeps_its_samples_and_resumes(home, tmp_path, upstream, recorder, jobs):
    config, suite = setup(tmp_path, upstream, {"held": "held-after-20"}, count=30)
    jobs.start(config, ["held"], [suite], max_cost_usd=None, run_id="cut")
    wait_until(lambda: jobs.progress("cut").done == 20)  # the rest are held by the upstream: calls in flight
    asked = time.monotonic()
    assert jobs.cancel("cut").status == "running"
    final = ended(jobs, "cut", timeout_s=5)
    assert time.monotonic() - asked < 2
    assert final.status == "cancelled" and "gensandbox run --resume cut" in final.message
    assert stored_status(config, "cut") == ("interrupted", 20)
    assert jobs.cancel("cut").status == "cancelled"  # again: nothing changes
    recorder.release.set()
    resumed = gensandbox.evaluate(config=config, resume="cut")
    assert resumed.status == "finished" and resumed.rows[0].n == 30


def test_runs_beyond_the_limit_wait_their_turn_and_a_queued_one_can_be_cancelled(home, tmp_path, upstream, recorder):
    config, suite = setup(tmp_path, upstream, {"held": "held-after-20", "echo": "echo"}, count=25)
    jobs = RunJobs(max_running=1)
    try:
        started = []
        jobs.start(config, ["held"], [suite], max_cost_usd=None, run_id="first")
        jobs.start(config, ["echo"], [suite], max_cost_usd=None, run_id="second", on_started=started.append)
        jobs.start(config, ["echo"], [suite], max_cost_usd=None, run_id="third", on_started=started.append)
        wait_until(lambda: jobs.progress("first").done == 20)
        assert [jobs.progress(r).status for r in ("first", "second", "third")] == ["running", "queued", "queued"]
        assert jobs.progress("second").elapsed_s == 0
        third = jobs.cancel("third")
        assert (third.status, third.message) == ("cancelled", "cancelled before it started")
        with pytest.raises(gensandbox.UserError, match="already queued or running"):
            jobs.start(config, ["echo"], [suite], max_cost_usd=None, run_id="second")
        jobs.cancel("first")
        assert ended(jobs, "second").status == "finished"
        assert started == ["second"]  # the cancelled one never started
        with pytest.raises(NotFoundError):
            stored_status(config, "third")
    finally:
        recorder.release.set()
        jobs.shutdown()


def test_a_failed_run_says_why_in_one_line_and_the_server_goes_on(home, tmp_path, upstream, recorder, jobs):
    config, suite = setup(tmp_path, upstream, {"echo": "echo"})
    jobs.start(config, ["echo"], [str(tmp_path / "missing.jsonl")], max_cost_usd=None, run_id="no-suite")
    failed = ended(jobs, "no-suite")
    assert failed.status == "failed" and "missing.jsonl" in failed.message and "Traceback" not in failed.message

    def refuse(run_id):
        raise RuntimeError("owner table is gone")

    jobs.start(config, ["echo"], [suite], max_cost_usd=None, run_id="no-owner", on_started=refuse)
    failed = ended(jobs, "no-owner")
    assert failed.status == "failed"
    assert failed.message == ("unexpected error (RuntimeError: owner table is gone); the server's log has the "
                              "details")
    assert stored_status(config, "no-owner") == ("failed", 0) and recorder.requests == []
    jobs.start(config, ["echo"], [suite], max_cost_usd=None, run_id="fine")
    assert ended(jobs, "fine").status == "finished"


def test_the_cost_cap_refuses_a_run_estimated_above_it_and_stops_one_that_reaches_it(home, tmp_path, upstream,
                                                                                   recorder, jobs):
    config, suite = setup(tmp_path, upstream, {"echo": "echo", "grader": "grader"}, count=10)
    worst = estimate(config, ["echo"], [suite]).usd
    jobs.start(config, ["echo"], [suite], max_cost_usd=worst / 2, run_id="refused")
    refused = ended(jobs, "refused")
    assert refused.status == "failed" and "is above --max-cost" in refused.message and recorder.requests == []
    # Judge calls are not in the estimate (as for `gensandbox run`): the cap stops the run when they reach it.
    judged = str(write_suite(tmp_path, "judged", JUDGED))
    cap = estimate(config, ["echo"], [judged]).usd
    jobs.start(config, ["echo"], [judged], max_cost_usd=cap, judge="grader", run_id="capped")
    capped = ended(jobs, "capped")
    assert capped.status == "capped" and "--resume capped --max-cost HIGHER" in capped.message
    assert 0 < capped.cost_usd <= cap and capped.done < 10
    assert stored_status(config, "capped") == ("capped", capped.done)


@pytest.mark.slow
def test_a_run_on_the_embedded_model_is_cancelled_mid_generation(home, tmp_path):
    config = load_config(None)  # no gensandbox.toml: the embedded default models
    suite = str(write_suite(tmp_path, "small", SMALL_ITEMS))
    jobs = RunJobs()
    try:
        jobs.start(config, ["local/qwen2.5-coder-0.5b-instruct"], [suite], max_cost_usd=None, limit=2,
                   run_id="local")
        done = ended(jobs, "local", timeout_s=300)
        assert (done.status, done.done, done.total) == ("finished", 2, 2) and done.cost_usd > 0
        long = [{"id": f"l{n}", "language": "en", "category": "c", "target": "x", "scorer": "includes",
                 "max_tokens": 2000, "messages": [{"role": "user", "content": "Write the numbers from 1 to 2000 "
                                                   "separated by commas, with nothing else."}]}
                for n in range(3)]
        jobs.start(config, ["local/qwen2.5-coder-0.5b-instruct"], [str(write_suite(tmp_path, "long", long))],
                   max_cost_usd=None, run_id="long")
        wait_until(lambda: jobs.progress("long").status == "running" and jobs.progress("long").total == 3, 120)
        time.sleep(3)  # well into the first answer's 2,000 tokens
        asked = time.monotonic()
        jobs.cancel("long")
        final = ended(jobs, "long", timeout_s=30)
        assert final.status == "cancelled" and time.monotonic() - asked < 3
        assert stored_status(config, "long")[0] == "interrupted"
        # The answer being generated was given up too, not left running to 2,000 tokens holding the model.
        jobs.start(config, ["local/qwen2.5-coder-0.5b-instruct"], [suite], max_cost_usd=None, limit=1, run_id="next")
        assert ended(jobs, "next", timeout_s=2 * done.elapsed_s + 10).status == "finished"
    finally:
        jobs.shutdown()
