"""Report generation at scale: `gensandbox report` on a synthetic run of 10,000 and 100,000 samples.

    .venv/bin/python benchmarks/report_scale.py [--samples 10000,100000] [--models 4] [--keep DIR]

Each size gets its own temporary GENSANDBOX_HOME with one run written through the store's own API
(`SQLiteStore.add_sample`, inside one transaction): --models models × 2 suites (one English, one Korean)
× as many items as it takes, eight categories, about 1% failed calls, prompts and answers of realistic
length. Then `gensandbox report RUN -o FILE` runs as a whole process (start-up included) and the script
prints its wall time, the file's size and how many samples the page embeds. There is no drop-in peer
that turns an evaluation store into an offline HTML report, so the yardstick is a bare pass of
`aggregate()` over the same rows (one breakdown, the run's bootstrap setting): the report makes four
breakdowns, paired tests, sample selection and charts on top of that. Target: under 30 s at 100,000.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import tempfile
import time
from pathlib import Path

from gensandbox.runner.results import aggregate, by_model
from gensandbox.store import RunRecord, SampleRecord, SQLiteStore

PROJECT = Path(__file__).resolve().parents[1]
GENSANDBOX = PROJECT / ".venv" / "bin" / "gensandbox"
RUN_ID = "scale"
TARGET_S = 30.0
CATEGORIES = ("knowledge", "arithmetic", "reading", "reasoning", "coding", "safety", "translation", "summary")
MODEL_SKILL = (0.82, 0.74, 0.61, 0.48, 0.35, 0.27)  # chance of a right answer, per model
PROMPT_EN = "Question {n}: read the passage below and answer in one word. " + "The river runs north. " * 8
PROMPT_KO = "문제 {n}: 아래 글을 읽고 한 단어로 답하세요. " + "강은 북쪽으로 흐릅니다. " * 8


def model_records(count: int) -> list[dict]:
    return [{"name": f"model-{index}", "provider": "openai", "vendor": f"vendor {index}",
             "origin": "domestic" if index % 2 else "foreign", "weights": "open" if index % 3 else "closed",
             "license": "Apache-2.0", "prompt_style": "completion" if index == count - 1 else "chat",
             "price": {"per_million_input_tokens_usd": 0.2 * (index + 1), "per_million_output_tokens_usd":
                       0.8 * (index + 1), "per_compute_hour_usd": None, "source": "synthetic"}}
            for index in range(count)]


def run_record(models: int, items_per_suite: int) -> RunRecord:
    suites = [{"name": name, "items": items_per_suite, "license": "CC-BY-4.0", "path": f"/nonexistent/{name}.jsonl",
               "sha256": "0" * 64, "layout": "jsonl"} for name in ("synthetic-en", "synthetic-ko")]
    return RunRecord(run_id=RUN_ID, created_at="2026-11-29T00:00:00+00:00", status="finished",
                     models=model_records(models), suites=suites, finished_at="2026-11-29T01:00:00+00:00",
                     settings={"max_tokens": 64, "temperature": 0.0, "epochs": 1, "seed": 0,
                               "manifest": {"options": {"seed": 0, "epochs": 1}}})


def synthetic_samples(models: int, items_per_suite: int):
    rng = random.Random(0)
    for index in range(models):
        for suite, prompt in (("synthetic-en", PROMPT_EN), ("synthetic-ko", PROMPT_KO)):
            for n in range(items_per_suite):
                yield one_sample(rng, index, suite, n, prompt.format(n=n))


def one_sample(rng: random.Random, index: int, suite: str, n: int, prompt: str) -> SampleRecord:
    failed = rng.random() < 0.01
    right = rng.random() < MODEL_SKILL[index % len(MODEL_SKILL)]
    answer = None if failed else ("north" if right else "south, because the passage says so") * 3
    return SampleRecord(
        run_id=RUN_ID, model=f"model-{index}", suite=suite, item_id=f"{suite}-{n:06d}",
        category=CATEGORIES[n % len(CATEGORIES)], language="ko" if suite.endswith("ko") else "en",
        request={"messages": [{"role": "user", "content": prompt}], "max_tokens": 64},
        response_text=answer, finish_reason=None if failed else "stop", input_tokens=0 if failed else 60,
        output_tokens=0 if failed else 12, latency_s=None if failed else 0.1 + rng.random() * (index + 1) * 0.2,
        cost_usd=0.0 if failed else (60 * 0.2 + 12 * 0.8) * (index + 1) / 1e6,
        score=None if failed else float(right), scorer={"name": "includes"},
        reason="" if failed else ("contains 'north'" if right else "does not contain 'north'"),
        error="HTTP 500 from the endpoint" if failed else None)


def build_store(home: Path, samples: int, models: int) -> SQLiteStore:
    items_per_suite = samples // (models * 2)
    store = SQLiteStore(home / "gensandbox.db")
    store.create_run(run_record(models, items_per_suite))
    with store.transaction():
        for sample in synthetic_samples(models, items_per_suite):
            store.add_sample(sample)
    return store


def time_report(home: Path) -> tuple[float, Path, str]:
    output = home / "report.html"
    env = os.environ | {"GENSANDBOX_HOME": str(home)}
    started = time.perf_counter()
    done = subprocess.run([str(GENSANDBOX), "report", RUN_ID, "-o", str(output)], cwd=home, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"gensandbox report failed: {done.stderr.strip()}")
    return seconds, output, done.stdout


def time_bare_aggregate(store: SQLiteStore) -> float:
    started = time.perf_counter()
    aggregate(store.score_rows(RUN_ID), by_model, resamples=2000)
    return time.perf_counter() - started


def measure(samples: int, models: int, keep: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="report-scale-") as scratch:
        home = keep / str(samples) if keep else Path(scratch)
        home.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        store = build_store(home, samples, models)
        built = time.perf_counter() - started
        count = store.count_samples(RUN_ID)
        bare = time_bare_aggregate(store)
        seconds, output, _ = time_report(home)
        html = output.read_text(encoding="utf-8")
        embedded = re.search(r'data-embedded="(\d+)"', html)
        verdict = "ok" if seconds < TARGET_S else "TOO SLOW"
        print(f"{count:>7,} samples ({models} models × 2 suites), store written in {built:5.1f} s | "
              f"gensandbox report {seconds:5.2f} s ({verdict}, target < {TARGET_S:g} s) | file "
              f"{output.stat().st_size / 1e6:4.2f} MB, {embedded.group(1) if embedded else '?'} samples embedded | "
              f"bare aggregate() pass {bare:4.2f} s, report/bare {seconds / bare:4.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", default="10000,100000", help="comma-separated run sizes")
    parser.add_argument("--models", type=int, default=4)
    parser.add_argument("--keep", type=Path, help="keep each store and report under this folder")
    options = parser.parse_args()
    for size in (int(part) for part in options.samples.split(",")):
        measure(size, options.models, options.keep)


if __name__ == "__main__":
    main()
