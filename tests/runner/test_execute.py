import time

import orjson
import pytest

from gensandbox.calls.call import RetryPolicy
from gensandbox.config import load_config
from gensandbox.config.schema import LedgerConfig
from gensandbox.ledger.events import CALL
from gensandbox.ledger.signing import Signer
from gensandbox.ledger.sqlite import SQLiteLedger
from gensandbox.ledger.writer import Ledger
from gensandbox.runner import RunOptions, aggregate, build_plan, execute, run_record
from gensandbox.runner.results import by_model_and_suite
from gensandbox.store import SQLiteStore
from tests.helpers import write_config, write_suite
from tests.upstream import unused_port

FAST_RETRY = RetryPolicy(retries=2, base_delay_s=0.01, max_delay_s=0.05)


def many(count: int, prefix: str = "i") -> list[dict]:
    return [{"id": f"{prefix}{n}", "language": "en", "category": "c", "target": "x", "scorer": "includes",
             "messages": [{"role": "user", "content": f"x {prefix}{n}"}]} for n in range(count)]


def prepare(tmp_path, base_url, models: dict[str, str], items=None, model_options: str = "", run_id=None,
            **options):
    config = load_config(write_config(tmp_path, base_url, models, model_options=model_options))
    suite = write_suite(tmp_path, "echo-suite", items)
    plan, prices = build_plan(config, list(models), [str(suite)],
                              RunOptions(**{"retry": FAST_RETRY} | options), run_id)
    store = SQLiteStore(config.database_path)
    store.create_run(run_record(plan, prices))
    return plan, store


async def test_every_item_is_called_scored_costed_and_stored(home, tmp_path, upstream, recorder):
    plan, store = prepare(tmp_path, upstream.url, {"echo-openai": "echo", "anthropic-echo": "echo"})
    seen = []
    outcome = await execute(plan, store, on_sample=seen.append)
    samples = list(store.samples(plan.run_id))
    assert outcome.status == "finished"
    assert len(samples) == len(seen) == 8
    by_item = {(s.model, s.item_id): s for s in samples}
    assert [by_item[("echo-openai", i)].score for i in ("e1", "e2", "k1", "k2")] == [1.0, 1.0, 0.0, 1.0]
    assert by_item[("anthropic-echo", "k1")].reason == "does not contain '서울'"
    sample = by_item[("echo-openai", "e1")]
    assert sample.request["messages"] == [{"role": "user", "content": "Paris"}]
    assert sample.served_model == "echo" and sample.attempts == 1 and not sample.cached
    assert sample.cost_usd == pytest.approx((4 * 1.0 + 1 * 2.0) / 1e6)
    assert outcome.spent_usd == pytest.approx(sum(s.cost_usd for s in samples))
    rows = aggregate(store.score_rows(plan.run_id), by_model_and_suite)
    assert [(r.key, r.n, r.score) for r in rows] == [
        (("anthropic-echo", "echo-suite"), 4, 0.75), (("echo-openai", "echo-suite"), 4, 0.75)]


async def test_failed_calls_are_recorded_after_retries_and_the_run_goes_on(home, tmp_path, upstream, recorder):
    plan, store = prepare(tmp_path, upstream.url, {"good": "echo", "broken": "error-500"})
    await execute(plan, store)
    samples = list(store.samples(plan.run_id))
    broken = [s for s in samples if s.model == "broken"]
    assert len(samples) == 8
    assert all(s.error and "HTTP 500" in s.error and s.score is None and s.attempts == 3 for s in broken)
    assert sum(1 for body in recorder.requests if body["model"] == "error-500") == 4 * 3
    rows = {r.key[0]: r for r in aggregate(store.score_rows(plan.run_id), by_model_and_suite)}
    assert (rows["broken"].n, rows["broken"].errors) == (0, 4)


async def test_rate_limited_calls_wait_as_long_as_retry_after_says(home, tmp_path, upstream, recorder):
    plan, store = prepare(tmp_path, upstream.url, {"flaky": "flaky"}, items=many(3))
    started = time.monotonic()
    await execute(plan, store)
    samples = list(store.samples(plan.run_id))
    assert all(s.error is None and s.attempts == 2 for s in samples)
    assert time.monotonic() - started >= 0.2  # the server asked for 0.2 s; backoff alone is ≤ 0.05 s


async def test_client_errors_are_not_retried(home, tmp_path, upstream, recorder):
    plan, store = prepare(tmp_path, upstream.url, {"bad": "bad-request"}, items=many(2))
    await execute(plan, store)
    assert [s.attempts for s in store.samples(plan.run_id)] == [1, 1]
    assert len(recorder.requests) == 2


async def test_per_item_timeout(home, tmp_path, upstream):
    plan, store = prepare(tmp_path, upstream.url, {"slow": "hang"}, items=many(1), model_options="timeout_s = 0.3",
                          retry=RetryPolicy(retries=0))
    started = time.monotonic()
    await execute(plan, store)
    (sample,) = store.samples(plan.run_id)
    assert "within" in sample.error and "0.3 s" in sample.error
    assert time.monotonic() - started < 5


async def test_unreachable_endpoint_fails_per_item_not_the_run(home, tmp_path):
    plan, store = prepare(tmp_path, f"http://127.0.0.1:{unused_port()}", {"gone": "echo"})
    await execute(plan, store)
    assert all("cannot reach" in s.error for s in store.samples(plan.run_id))


async def test_concurrency_is_limited_per_endpoint(home, tmp_path, upstream, recorder):
    plan, store = prepare(tmp_path, upstream.url, {"slow": "echo-slow-50ms"}, items=many(24),
                          model_options="concurrency = 3")
    await execute(plan, store)
    assert recorder.max_in_flight["echo-slow-50ms"] == 3
    assert store.count_samples(plan.run_id) == 24


async def test_requests_per_minute_are_paced(home, tmp_path, upstream, recorder):
    plan, store = prepare(tmp_path, upstream.url, {"paced": "echo"}, items=many(6), model_options="rpm = 600")
    await execute(plan, store)
    gaps = [b - a for a, b in zip(recorder.times, recorder.times[1:], strict=False)]
    assert len(gaps) == 5 and min(gaps) >= 0.08


async def test_the_cache_answers_repeated_requests_for_free(home, tmp_path, upstream, recorder):
    plan, store = prepare(tmp_path, upstream.url, {"echo": "echo"}, run_id="first")
    await execute(plan, store, cache=store)
    calls_before = len(recorder.requests)
    config = load_config(tmp_path / "gensandbox.toml")
    again, prices = build_plan(config, ["echo"], [str(tmp_path / "echo-suite.jsonl")], RunOptions(), "second")
    store.create_run(run_record(again, prices))
    outcome = await execute(again, store, cache=store)
    second = list(store.samples("second"))
    assert len(recorder.requests) == calls_before  # nothing called again
    assert all(s.cached and s.attempts == 0 for s in second)
    assert outcome.spent_usd == 0.0
    first = {s.item_id: s for s in store.samples("first")}
    assert {s.item_id: s.score for s in second} == {i: s.score for i, s in first.items()}
    assert {s.item_id: s.cost_usd for s in second} == {i: s.cost_usd for i, s in first.items()}  # what it would cost


async def test_the_cache_key_ignores_transport_settings_but_not_the_question():
    from gensandbox.calls.call import cache_key
    from gensandbox.types import ChatRequest, Message

    identity = {"provider": "openai", "endpoint": "http://h/v1", "model": "m"}
    ask = ChatRequest(model="m", messages=(Message("user", "hi"),))
    assert cache_key(identity, ask) == cache_key(dict(identity), ChatRequest(model="m", messages=ask.messages))
    assert cache_key(identity, ask) != cache_key(identity, ChatRequest(model="m", messages=ask.messages, seed=1))
    assert cache_key(identity, ask) != cache_key(identity | {"model": "n"}, ask)


async def test_spending_never_passes_the_cap_with_many_calls_in_flight(home, tmp_path, upstream, recorder):
    items = many(200)
    plan, store = prepare(tmp_path, upstream.url, {"slow": "echo-slow-50ms"}, items=items, max_tokens=16,
                          max_cost_usd=0.0003, model_options="concurrency = 16")
    outcome = await execute(plan, store)
    samples = list(store.samples(plan.run_id))
    assert outcome.status == "capped"
    assert 0 < len(samples) < 200
    assert sum(s.cost_usd for s in samples) <= 0.0003
    assert len(recorder.requests) == len(samples)  # nothing was called that was not recorded


async def test_epochs_repeat_every_item_with_their_own_seed(home, tmp_path, upstream, recorder):
    plan, store = prepare(tmp_path, upstream.url, {"echo": "echo"}, epochs=3, temperature=0.7, seed=10)
    await execute(plan, store)
    samples = list(store.samples(plan.run_id))
    assert len(samples) == 12
    assert sorted({b["seed"] for b in recorder.requests}) == [10, 11, 12]
    assert all(b["temperature"] == 0.7 for b in recorder.requests)
    (row,) = aggregate(store.score_rows(plan.run_id), by_model_and_suite)
    assert (row.n, row.epochs, row.epoch_scores) == (4, 3, (0.75, 0.75, 0.75))
    assert row.epoch_std == 0.0


async def test_items_already_stored_are_not_run_again(home, tmp_path, upstream, recorder):
    plan, store = prepare(tmp_path, upstream.url, {"echo": "echo"}, items=many(10))
    await execute(plan, store)
    recorder.reset()
    await execute(plan, store)  # as a resumed run would
    assert recorder.requests == []
    assert store.count_samples(plan.run_id) == 10


class SlowLedgerBackend:
    """A SQLite ledger whose commits take 0.3 s (a slow disk's fsync); counts the upstream's requests meanwhile."""

    def __init__(self, backend: SQLiteLedger, recorder):
        self.backend, self.recorder, self.requests_during = backend, recorder, []

    def append(self, contents, checkpoint=None):
        before = len(self.recorder.requests)
        time.sleep(0.3)
        self.requests_during.append(len(self.recorder.requests) - before)
        return self.backend.append(contents, checkpoint)

    def __getattr__(self, name):
        return getattr(self.backend, name)


async def test_calls_go_on_while_the_ledger_commits(home, tmp_path, upstream, recorder):
    """The ledger's commit waits for the disk: the writer runs it in a thread, and the workers' calls go on."""
    plan, store = prepare(tmp_path, upstream.url, {"echo": "echo"}, items=many(6), model_options="concurrency = 1")
    backend = SlowLedgerBackend(SQLiteLedger(home / "ledger.db"), recorder)
    ledger = Ledger(backend, Signer.load_or_create(home / "signing.key"), LedgerConfig(), None)
    outcome = await execute(plan, store, ledger=ledger)
    ledger.close()
    assert outcome.status == "finished" and store.count_samples(plan.run_id) == 6
    assert backend.requests_during[0] > 0  # the first commit (after the first sample) did not stop the next calls
    lines = [orjson.loads(line) for line in SQLiteLedger(home / "ledger.db").lines()]
    assert sorted(event["gensandbox.item_id"] for event in lines if event["kind"] == CALL) == [
        f"echo-suite/i{n}#0" for n in range(6)]
