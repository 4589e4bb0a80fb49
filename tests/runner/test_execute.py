import pytest

from gensandbox.config import load_config
from gensandbox.runner import aggregate, build_plan, execute, run_record
from gensandbox.runner.results import by_model_and_suite
from gensandbox.store import SQLiteStore
from tests.helpers import write_config, write_suite
from tests.upstream import unused_port


def plan_for(home, tmp_path, upstream, models: dict[str, str], extra: str = ""):
    config = load_config(write_config(tmp_path, upstream.url, models, extra))
    suite = write_suite(tmp_path)
    plan, prices = build_plan(config, list(models), [str(suite)])
    store = SQLiteStore(config.database_path)
    store.create_run(run_record(plan, prices))
    return plan, store


async def test_every_item_is_called_scored_costed_and_stored(home, tmp_path, upstream, recorder):
    plan, store = plan_for(home, tmp_path, upstream, {"echo-openai": "echo", "anthropic-echo": "echo"})
    seen = []
    await execute(plan, store, seen.append)
    samples = list(store.samples(plan.run_id))
    assert len(samples) == len(seen) == 8
    by_item = {(s.model, s.item_id): s for s in samples}
    assert [by_item[("echo-openai", i)].score for i in ("e1", "e2", "k1", "k2")] == [1.0, 1.0, 0.0, 1.0]
    assert by_item[("anthropic-echo", "k1")].reason == "does not contain '서울'"
    sample = by_item[("echo-openai", "e1")]
    assert sample.request["messages"] == [{"role": "user", "content": "Paris"}]
    assert sample.cost_usd == pytest.approx((4 * 1.0 + 1 * 2.0) / 1e6)
    rows = aggregate(samples, by_model_and_suite)
    assert [(r.key, r.n, r.score) for r in rows] == [
        (("anthropic-echo", "echo-suite"), 4, 0.75), (("echo-openai", "echo-suite"), 4, 0.75)]


async def test_failed_calls_are_recorded_and_the_run_goes_on(home, tmp_path, upstream, recorder):
    plan, store = plan_for(home, tmp_path, upstream, {"good": "echo", "broken": "error-500"})
    await execute(plan, store)
    samples = list(store.samples(plan.run_id))
    broken = [s for s in samples if s.model == "broken"]
    assert len(samples) == 8
    assert all(s.error and "HTTP 500" in s.error and s.score is None for s in broken)
    assert all(s.error is None for s in samples if s.model == "good")
    rows = {r.key[0]: r for r in aggregate(samples, by_model_and_suite)}
    assert (rows["broken"].n, rows["broken"].errors) == (0, 4)


async def test_unreachable_endpoint_fails_per_item_not_the_run(home, tmp_path, upstream):
    config_path = write_config(tmp_path, f"http://127.0.0.1:{unused_port()}", {"gone": "echo"})
    config = load_config(config_path)
    plan, prices = build_plan(config, ["gone"], [str(write_suite(tmp_path))])
    store = SQLiteStore(config.database_path)
    store.create_run(run_record(plan, prices))
    await execute(plan, store)
    assert all("cannot reach" in s.error for s in store.samples(plan.run_id))


async def test_concurrency_is_limited_per_endpoint(home, tmp_path, upstream, recorder):
    items = [{"id": f"i{n}", "language": "en", "category": "c", "target": "x", "scorer": "includes",
              "messages": [{"role": "user", "content": "x"}]} for n in range(24)]
    config = load_config(write_config(tmp_path, upstream.url, {"slow": "echo-slow-50ms"}))
    config.models["slow"] = config.models["slow"].model_copy(update={"concurrency": 3})
    plan, prices = build_plan(config, ["slow"], [str(write_suite(tmp_path, "many", items))])
    store = SQLiteStore(config.database_path)
    store.create_run(run_record(plan, prices))
    await execute(plan, store)
    assert recorder.max_in_flight["echo-slow-50ms"] == 3
    assert len(list(store.samples(plan.run_id))) == 24
