"""The Ray executor on a 2-worker local Ray instance: the same results as one process, nothing lost when a
worker or the driver dies, the cost cap held, and no Ray process left behind."""

import asyncio
import contextlib
import importlib.util
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gensandbox.cli.app import main
from gensandbox.config import load_config
from gensandbox.errors import MissingDependencyError, ProviderHTTPError
from gensandbox.runner import RunOptions, ScoringContext, build_plan, execute, run_record
from gensandbox.runner.ray.executor import RAY_MISSING, RayOptions, connect, import_ray, on_ray
from gensandbox.runner.ray.pool import (
    CallFailure,
    request_from_wire,
    request_to_wire,
    response_from_wire,
    response_to_wire,
)
from gensandbox.store import SQLiteStore
from gensandbox.types import ChatRequest, ChatResponse, Message, Usage
from tests.helpers import SMALL_ITEMS, write_config, write_suite

pytestmark = pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray is not installed")

WORKERS = 2


def items(count: int) -> list[dict]:
    # The echo models repeat the prompt; odd items contain their target, so half score 1.
    return [{"id": f"i{n:03d}", "language": "en", "category": "c", "target": "yes" if n % 2 else "no",
             "scorer": "includes", "messages": [{"role": "user", "content": f"item {n} says yes"}]}
            for n in range(count)]


def processes() -> dict[int, tuple[str, str, int, int]]:
    """pid -> (name, state, parent pid, session id), from /proc."""
    found = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            name, rest = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue  # gone meanwhile
        fields = rest.split()
        found[int(entry.name)] = (name.split("(", 1)[1], fields[0], int(fields[1]), int(fields[3]))
    return found


def ray_descendants(root: int) -> set[int]:
    """Ray's processes under `root`: raylet, GCS, agents, workers."""
    table, found, frontier = processes(), set(), {root}
    while frontier:
        frontier = {pid for pid, (_, _, parent, _) in table.items() if parent in frontier} - found
        found |= frontier
    return {pid for pid in found if table[pid][0].startswith(("raylet", "gcs_server", "ray::"))
            or (table[pid][0].startswith("python") and "/ray/" in _command_line(pid))}


def _command_line(pid: int) -> str:
    """Ray's agents are plain `python` processes running a script from the ray package; other python children
    of the test process (servers started by other tests) are not Ray's to stop."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def alive(pids: set[int]) -> set[int]:
    table = processes()
    return {pid for pid in pids if pid in table and table[pid][1] != "Z"}


def in_session(session: int) -> set[int]:
    return {pid for pid, (_, state, _, sid) in processes().items() if sid == session and state != "Z"}


@pytest.fixture(scope="module")
def ray_instance():
    """One local instance for the module (starting Ray takes seconds on 2 cores), checked gone at the end."""
    started = connect(RayOptions(workers=WORKERS))
    import ray

    spawned = ray_descendants(os.getpid())
    yield ray
    if started:
        ray.shutdown()
    deadline = time.monotonic() + 30  # a busy 2-core machine stops Ray's dozen processes slowly
    while alive(spawned) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(spawned), "Ray processes outlived ray.shutdown()"


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def outcomes(database: Path, run_id: str) -> dict:
    rows = sqlite3.connect(database).execute(
        "SELECT model, suite, item_id, epoch, response_text, score, input_tokens, output_tokens, error, attempts "
        "FROM samples WHERE run_id = ?", (run_id,)).fetchall()
    return {row[:4]: row[4:] for row in rows}


def count_rows(database: Path, run_id: str) -> int:
    try:
        return sqlite3.connect(database).execute("SELECT count(*) FROM samples WHERE run_id = ?",
                                                 (run_id,)).fetchone()[0]
    except sqlite3.Error:
        return 0


def prepare(tmp_path, upstream, models: dict[str, str], count: int, model_options: str = "", **options):
    config = load_config(write_config(tmp_path, upstream.url, models, model_options=model_options))
    suite = write_suite(tmp_path, "s", items(count))
    plan, prices = build_plan(config, list(models), [str(suite)], RunOptions(**options))
    store = SQLiteStore(config.database_path)
    store.create_run(run_record(plan, prices))
    return config, plan, store


def test_clear_errors_without_ray_and_for_ray_options_alone(home, tmp_path, monkeypatch, capsys):
    # As if ray were not installed. First in the module, before Ray's threads run: they import lazily.
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingDependencyError, match="^the Ray executor needs ray: pip install 'gensandbox\\[ray\\]'$"):
        import_ray(local_instance=True)
    assert RAY_MISSING == "the Ray executor needs ray: pip install 'gensandbox[ray]'"
    code, _, err = cli(capsys, "run", "-s", "basics-en", "--ray-workers", "3")
    assert code == 1 and err.strip() == "error: --ray-address and --ray-workers go with --executor ray"


def test_results_equal_the_single_process_run_item_by_item(ray_instance, home, tmp_path, upstream, capsys):
    config = write_config(tmp_path, upstream.url, {"echo": "echo", "anthropic-echo": "echo", "bad": "bad-request"})
    suite = write_suite(tmp_path, "s", items(40))
    common = ["run", "-c", str(config), "-m", "echo,anthropic-echo,bad", "-s", str(suite), "--no-cache"]
    assert cli(capsys, *common, "--run-id", "here")[0] == 0
    code, out, err = cli(capsys, *common, "--run-id", "there", "--executor", "ray", "--ray-workers", str(WORKERS))
    assert code == 0, err
    assert f"executor: Ray, {WORKERS} workers" in out
    database = home / "gensandbox.db"
    here, there = outcomes(database, "here"), outcomes(database, "there")
    assert len(there) == 120 and there == here
    assert "answered HTTP 400" in there[("bad", "s", "i000", 0)][4]  # a model's error comes back as itself
    settings = SQLiteStore(database).get_run("there").settings
    assert settings["executor"] == {"name": "ray", "address": "local", "workers": WORKERS}
    calls = sqlite3.connect(home / "ledger.db").execute(
        "SELECT count(*) FROM ledger WHERE kind = 'gen_ai.call'").fetchone()
    assert calls == (240,)  # one ledger event per model call, from both runs
    assert cli(capsys, "ledger", "verify", "-c", str(config))[0] == 0


def test_judge_models_answer_from_the_cluster_too(ray_instance, home, tmp_path, upstream, capsys):
    config = write_config(tmp_path, upstream.url, {"echo": "echo", "grader": "grader"})
    suite = write_suite(tmp_path, "open", [
        {"id": "q1", "language": "en", "category": "open", "target": "Paris",
         "scorer": {"name": "judge", "args": {"rubric": "Names the capital of France."}},
         "messages": [{"role": "user", "content": "What is the capital of France?"}]}])
    code, _, err = cli(capsys, "run", "-c", str(config), "-m", "echo", "-s", str(suite), "--judge", "grader",
                       "--run-id", "judged", "--executor", "ray", "--ray-workers", str(WORKERS))
    assert code == 0, err
    row = sqlite3.connect(home / "gensandbox.db").execute(
        "SELECT score, reason FROM samples WHERE run_id = 'judged'").fetchone()
    assert row == (1.0, "judge grader: GRADE C")


async def test_a_killed_worker_loses_nothing(ray_instance, home, tmp_path, upstream):
    config, plan, store = prepare(tmp_path, upstream, {"slow": "echo-slow-50ms"}, 160, "concurrency = 8",
                                  use_cache=False)
    with on_ray(plan, ScoringContext(), config, RayOptions(workers=WORKERS)) as ray_run:
        victim = ray_run.pool.pids()[0]

        async def kill_mid_run():
            while store.count_samples(plan.run_id) < 30:
                await asyncio.sleep(0.01)
            os.kill(victim, signal.SIGKILL)

        killer = asyncio.create_task(kill_mid_run())
        outcome = await execute(ray_run.plan, store)
        await killer
        assert ray_run.pool.lost_calls > 0  # the kill hit calls in flight, and they were sent again
        assert victim not in ray_run.pool.pids()  # Ray restarted the worker
    samples = list(store.samples(plan.run_id))
    assert outcome.status == "finished"
    assert len(samples) == len({s.item_id for s in samples}) == 160  # every item, none twice
    assert all(s.error is None for s in samples)
    assert sum(s.score for s in samples) == 80


def test_a_killed_driver_resumes_with_every_item_exactly_once(ray_instance, home, tmp_path, upstream, capsys):
    config = write_config(tmp_path, upstream.url, {"slow": "echo-slow-50ms"}, model_options="concurrency = 4")
    suite = write_suite(tmp_path, "long", items(300))
    command = [sys.executable, "-m", "gensandbox", "run", "-c", str(config), "-m", "slow", "-s", str(suite),
               "--no-cache", "--run-id", "cut", "--executor", "ray"]
    driver = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ,
                              start_new_session=True)  # its own session: its Ray processes are found by it
    database = home / "gensandbox.db"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and count_rows(database, "cut") < 40 and driver.poll() is None:
            time.sleep(0.05)
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=10)
    finally:
        for pid in in_session(driver.pid):  # Ray's agents can outlive a killed driver
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    kept = count_rows(database, "cut")
    assert 40 <= kept < 300

    code, out, err = cli(capsys, "run", "-c", str(config), "--resume", "cut", "--executor", "ray",
                         "--ray-workers", str(WORKERS))
    assert code == 0, err
    assert f"{kept} of 300 items already done" in out
    resumed = outcomes(database, "cut")
    assert count_rows(database, "cut") == len(resumed) == 300  # every item, none twice
    assert sorted(score for score, *_ in (v[1:] for v in resumed.values())) == [0.0] * 150 + [1.0] * 150


async def test_the_cost_cap_holds_across_the_cluster(ray_instance, home, tmp_path, upstream, recorder):
    config, plan, store = prepare(tmp_path, upstream, {"slow": "echo-slow-50ms"}, 200, "concurrency = 16",
                                  max_tokens=16, max_cost_usd=0.0003)
    with on_ray(plan, ScoringContext(), config, RayOptions(workers=WORKERS)) as ray_run:
        outcome = await execute(ray_run.plan, store)
    samples = list(store.samples(plan.run_id))
    assert outcome.status == "capped"
    assert 0 < len(samples) < 200
    assert sum(s.cost_usd for s in samples) == pytest.approx(outcome.spent_usd) and outcome.spent_usd <= 0.0003
    assert len(recorder.requests) == len(samples)  # no call was made that was not recorded


def test_model_errors_keep_their_fields_on_the_way_back():
    error = ProviderHTTPError("HTTP 429 from x", status=429, body="{}", retry_after=7.0)
    error.attempts = 3
    back = CallFailure.of(error).error()
    assert (type(back), str(back), back.status, back.retry_after, back.attempts) == (
        ProviderHTTPError, "HTTP 429 from x", 429, 7.0, 3)


def test_requests_and_answers_cross_unchanged():
    request = ChatRequest(model="m", messages=(Message("system", "짧게"), Message("user", "2 + 2?")), max_tokens=7,
                          temperature=0.7, stop=("\n",), seed=None)
    response = ChatResponse(text="4 ✓", finish_reason="length", usage=Usage(12, 3), latency_s=0.123456789, model="x")
    assert request_from_wire(request_to_wire(request)) == request
    assert response_from_wire(response_to_wire(response)) == response


@pytest.mark.slow
def test_embedded_local_models_on_ray_equal_the_single_process_run(ray_instance, home, tmp_path, capsys):
    suite = write_suite(tmp_path, "small", SMALL_ITEMS)
    assert cli(capsys, "run", "-s", str(suite), "--run-id", "here", "--no-cache")[0] == 0
    code, out, err = cli(capsys, "run", "-s", str(suite), "--run-id", "there", "--no-cache", "--executor", "ray",
                         "--ray-workers", str(WORKERS))
    assert code == 0, err
    database = home / "gensandbox.db"
    here, there = outcomes(database, "here"), outcomes(database, "there")
    assert len(there) == 6 and all(v[4] is None for v in there.values())
    assert {k: v[:4] for k, v in there.items()} == {k: v[:4] for k, v in here.items()}  # text, score, tokens
