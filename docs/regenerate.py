"""Rewrite the command outputs that README.md prints from real runs, so that they cannot drift from the product.

`make docs` runs this with the project's virtual environment. Each section runs the real commands on the
embedded models, in a temporary working folder and a temporary GENSANDBOX_HOME (sharing only the model cache,
so the weights are not assembled again), and replaces what README.md holds between its markers:

    <!-- generated:NAME --> ... <!-- /generated:NAME -->

A marker pair may wrap a whole code block or a few words inside a sentence. Figures that depend on the machine
(latency, seconds, and the local models' cost, which is measured seconds × an hourly rate) are stamped with
the machine they were measured on. Scores and token counts repeat exactly (temperature 0, fixed seeds).

    .venv/bin/python docs/regenerate.py                         # every section (about 10 minutes on 2 cores)
    .venv/bin/python docs/regenerate.py --only tour,reasoning   # some of them
    .venv/bin/python docs/regenerate.py --print                 # show the new text; README.md is left alone
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
QWEN, GEMMA = "local/qwen2.5-coder-0.5b-instruct", "local/gemma-3-270m"
COLUMNS = 240  # as a wide terminal shows the audits' tables, a row on one line
# Table borders and progress bars: the README keeps a table's header and rows, as a terminal shows them.
NOISE = re.compile(r"^(\s*$|[┏┡┗└├╭╰]|Run \S+$|.*━.*\d+/\d+)")


@dataclass
class Session:
    """Where the commands run: a fresh store, ledger and signing key; the user's model cache."""

    work: Path
    home: Path
    write_files: bool = True  # False with --print: nothing in the checkout changes
    load_at_start: float | None = None

    def gensandbox(self, *args: str, cwd: Path | None = None, expect: int = 0, with_stderr: bool = True) -> str:
        """The command's stdout and stderr together, as a terminal shows them (or stdout alone)."""
        command = [str(Path(sys.executable).with_name("gensandbox")), *args]
        done = subprocess.run(command, cwd=cwd or self.work, capture_output=True, text=True,
                              env={**os.environ, "GENSANDBOX_HOME": str(self.home), "COLUMNS": str(COLUMNS)})
        if done.returncode != expect:
            raise SystemExit(f"`gensandbox {' '.join(args)}` exited {done.returncode}:\n{done.stderr[-3000:]}")
        return done.stdout + (done.stderr if with_stderr else "")

    def json(self, *args: str, cwd: Path | None = None) -> dict:
        return json.loads(self.gensandbox(*args, cwd=cwd, with_stderr=False))

    def keep(self, source: Path, target: Path) -> None:
        if self.write_files:
            shutil.copyfile(source, target)

    def public(self, text: str) -> str:
        """Temporary paths as a reader's would be."""
        return text.replace(str(self.home), "~/.cache/gensandbox").replace(str(self.work), "/path/to")


def kept_lines(output: str) -> list[str]:
    return [line.rstrip() for line in output.splitlines() if not NOISE.match(line)]


def code_block(lines: list[str], stamp: str | None = None) -> str:
    body = "\n```\n" + "\n".join(lines) + "\n```\n"
    return body + (f"<sub>{stamp}</sub>\n" if stamp else "")


@functools.cache
def machine() -> str:
    """The machine, for figures that depend on it."""
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} cores, {cpu}, {datetime.now(UTC):%Y-%m-%d}"


def load_average() -> float | None:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def minutes(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60} s" if whole >= 60 else f"{whole} s"


def stamp(session: Session, seconds: float, what: str) -> str:
    # Other work on the machine slows the local models down: say how busy it was, before and after.
    start, end = session.load_at_start, load_average()
    load = f" (load average {start:.1f} before, {end:.1f} after)" if start is not None and end is not None else ""
    return (f"measured in {minutes(seconds)} on {machine()}{load}; {what} vary with the machine and its load, "
            "scores and token counts do not")


# ---- sections: each returns {marker name: new text} ----


def tour(session: Session) -> dict[str, str]:
    started = time.monotonic()
    output = session.gensandbox("run", "--report", "out/report.html")
    lines = kept_lines(session.public(output))
    seconds = time.monotonic() - started
    return {"tour": code_block(lines, stamp(session, seconds, "latency and the local models' cost"))}


def variant(session: Session) -> dict[str, str]:
    folder = session.work / "korean-variant"
    shutil.copytree(ROOT / "examples" / "korean-variant", folder)
    started = time.monotonic()
    output = session.gensandbox("variant", "compare", "hanbit", "-s", "hanbit.jsonl", "--run-id", "hanbit",
                                cwd=folder)
    seconds = time.monotonic() - started
    lines = ["$ cd examples/korean-variant && gensandbox variant compare hanbit -s hanbit.jsonl"]
    lines += [line for line in kept_lines(session.public(output)) if not line.startswith(("run id:", "report:"))]
    rows = {row["model"]: row for row in session.json("show", "hanbit", "--json", cwd=folder)["results"]}
    return {"variant": code_block(lines, stamp(session, seconds, "latency and cost")),
            "variant-ratios": variant_sentence(rows["variant:hanbit"], rows[QWEN])}


def variant_sentence(customised: dict, plain: dict) -> str:
    """Cost and latency against the plain model, and the two things that move them."""
    return (f"at {ratio(customised['measured_cost_usd'], plain['measured_cost_usd'])} the plain model's cost and "
            f"{ratio(customised['latency_p50_s'], plain['latency_p50_s'])} its p50 latency (the retrieved passage "
            f"makes its prompts {ratio(customised['input_tokens'], plain['input_tokens'])} as long, and its answers "
            f"are {ratio(customised['output_tokens'], plain['output_tokens'])} as long)")


def ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}×" if b else "–"


REASONING_HEADER = ("| setting | n | accuracy (95% CI) | reasoning tokens mean / p90 | answer tokens mean / p90 | "
                    "cost / item | cost / correct | p50 latency | accuracy / 1k reasoning tokens |\n"
                    "|---|---|---|---|---|---|---|---|---|\n")


def reasoning(session: Session) -> dict[str, str]:
    started = time.monotonic()
    session.gensandbox("run", "-m", QWEN, "-s", str(ROOT / "examples" / "reasoning" / "arithmetic-en.jsonl"),
                       "--sweep", "reasoning=direct,step,vote-3", "--run-id", "reasoning")
    seconds = time.monotonic() - started
    metrics = {m["setting"]: m for m in session.json("show", "reasoning", "--reasoning", "--json")["reasoning"]}
    intervals = {row["model"]: row for row in session.json("show", "reasoning", "--json")["results"]}
    rows = [reasoning_row(metrics[name], intervals[metrics[name]["model"]]) for name in ("direct", "step", "vote-3")]
    session.gensandbox("report", "reasoning", "-o", "reasoning.html", "--charts", "charts")
    session.keep(session.work / "charts" / "reasoning-cost.svg", ROOT / "docs" / "reasoning-cost.svg")
    table = "\n" + REASONING_HEADER + "\n".join(rows) + f"\n\n<sub>{stamp(session, seconds, 'cost and latency')}"
    table += "</sub>\n"
    return {"reasoning-time": minutes(seconds), "reasoning": table,
            "reasoning-ratios": reasoning_sentence(metrics["direct"], metrics["step"], metrics["vote-3"])}


def reasoning_row(m: dict, interval: dict) -> str:
    low, high = (round(100 * interval[k]) for k in ("ci_low", "ci_high"))
    per_1k = m["accuracy_per_1k_reasoning_tokens"]
    cells = [m["setting"], str(m["n"]), f"{100 * m['accuracy']:.1f}% ({low}–{high}%)",
             f"{m['reasoning_tokens_mean']:.1f} / {m['reasoning_tokens_p90']:.0f}",
             f"{m['answer_tokens_mean']:.1f} / {m['answer_tokens_p90']:.0f}", usd(m["cost_per_item_usd"]),
             usd(m["cost_per_correct_usd"]),
             f"{m['latency_p50_s']:.2f} s", "–" if per_1k is None else f"{per_1k:.1f}"]
    return "| " + " | ".join(cells) + " |"


def reasoning_sentence(direct: dict, step: dict, vote: dict) -> str:
    """What thinking bought, said from the numbers of this run (they change with the model, not the machine)."""
    def bought(better: dict, base: dict) -> str:
        more = round((better["accuracy"] - base["accuracy"]) * better["n"])
        if more == 0:
            return "bought nothing more"
        return (f"{'bought' if more > 0 else 'lost'} {abs(more)} {'more ' if more > 0 else ''}right "
                f"answer{'s' if abs(more) > 1 else ''} in {better['n']}")

    per_correct = ratio(step["cost_per_correct_usd"] or 0, direct["cost_per_correct_usd"] or 0)
    return (f"Thinking step by step {bought(step, direct)} at {per_correct} the cost per correct answer and "
            f"{ratio(step['latency_p50_s'], direct['latency_p50_s'])} the latency; voting over three samples "
            f"{bought(vote, step)} for {ratio(vote['cost_per_item_usd'], step['cost_per_item_usd'])} the cost "
            "per item again.")


def usd(value: float | None) -> str:
    """Two significant digits, in plain notation ($0.0000099, not $9.9e-06)."""
    if not value:
        return "–"
    return f"${value:.{max(2, 1 - math.floor(math.log10(value)))}f}"


def write_mini_suite(session: Session) -> Path:
    """Six questions, three Korean and three English: the built-in suites' first knowledge items."""
    from importlib import resources

    items = []
    for language in ("ko", "en"):
        rows = resources.files("gensandbox").joinpath(f"data/suites/basics-{language}.jsonl").read_text("utf-8")
        knowledge = [item for item in map(json.loads, rows.splitlines()) if item["category"] == "knowledge"][:3]
        items += [{**item, "id": f"{language}{n}"} for n, item in enumerate(knowledge, start=1)]
    path = session.work / "mini.jsonl"
    path.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items), encoding="utf-8")
    return path


def switching(session: Session) -> dict[str, str]:
    write_mini_suite(session)
    args = ["audit", "switching", "--from", QWEN, "--to", GEMMA, "--suite", "mini.jsonl"]
    started = time.monotonic()
    output = session.gensandbox(*args)
    # The audit's own table and verdict; the evaluation table before it and the method paragraph after it are
    # shown by the other sections and the prose.
    table = kept_lines(session.public(output))
    table = table[next(i for i, line in enumerate(table) if line.startswith("Switching from")) + 1:]
    lines = [f"$ gensandbox {' '.join(args)}", *[line for line in table if not line.startswith("method:")]]
    seconds = time.monotonic() - started
    # The same audit again, for its numbers: every answer now comes from the response cache.
    prompt_ratio = session.json(*args, "--json")["alternatives"][0]["prompt_token_ratio"]
    change = f"{abs(prompt_ratio - 1):.0%} {'more' if prompt_ratio >= 1 else 'fewer'} prompt tokens"
    return {"switching": code_block(lines, stamp(session, seconds, "latency and cost")),
            "switching-prompt-tokens": change}


def holdout(session: Session) -> dict[str, str]:
    write_mini_suite(session)
    commands = [["holdout", "commit", "mini.jsonl"],
                ["holdout", "run", "--opening", "mini.opening.json", "-m", QWEN, "--run-id", "exam-qwen"],
                ["holdout", "reveal", "--opening", "mini.opening.json", "-o", "mini.revealed.json"],
                ["holdout", "verify", "--commitment", "mini.commitment.json", "--revealed", "mini.revealed.json",
                 "--run", "exam-qwen"]]
    lines = []
    for args in commands:
        output = session.gensandbox(*args)
        shown = [line for line in kept_lines(session.public(output)) if args[1] != "run" or "custody run" in line]
        lines += [f"$ gensandbox {' '.join(args)}", *([] if args[1] == "reveal" else shown)]
    forged = json.loads((session.work / "mini.revealed.json").read_text())
    forged["items"][2]["item"]["target"] = ["an easier answer"]
    (session.work / "forged.json").write_text(json.dumps(forged, ensure_ascii=False))
    args = ["holdout", "verify", "--commitment", "mini.commitment.json", "--revealed", "forged.json", "--run",
            "exam-qwen"]
    lines += [f"$ gensandbox {' '.join(args)}", *kept_lines(session.gensandbox(*args, expect=1))]
    return {"holdout": code_block(lines)}


def self_preference(session: Session) -> dict[str, str]:
    args = ["audit", "self-preference", "--only", "judge,recommendation"]
    started = time.monotonic()
    output = session.gensandbox(*args)
    lines = [f"$ gensandbox {' '.join(args)}", *kept_lines(session.public(output))]
    return {"self-preference": code_block(lines, stamp(session, time.monotonic() - started, "the time and cost"))}


SECTIONS: dict[str, Callable[[Session], dict[str, str]]] = {
    "tour": tour, "variant": variant, "reasoning": reasoning, "switching": switching, "holdout": holdout,
    "self-preference": self_preference,
}
# The markers each section fills.
MARKERS = {"tour": ["tour"], "variant": ["variant", "variant-ratios"],
           "reasoning": ["reasoning-time", "reasoning", "reasoning-ratios"],
           "switching": ["switching", "switching-prompt-tokens"], "holdout": ["holdout"],
           "self-preference": ["self-preference"]}


# ---- README.md ----


def missing_markers(text: str, sections: list[str]) -> list[str]:
    return [name for section in sections for name in MARKERS[section]
            if text.count(f"<!-- generated:{name} -->") != 1 or text.count(f"<!-- /generated:{name} -->") != 1]


def replace_marked(text: str, name: str, content: str) -> str:
    start, end = f"<!-- generated:{name} -->", f"<!-- /generated:{name} -->"
    begin, finish = text.find(start), text.find(end)
    if begin < 0 or finish < begin:
        raise KeyError(name)
    return text[:begin + len(start)] + content + text[finish:]


def write_readme(blocks: dict[str, str]) -> list[str]:
    """Read README.md only now (others may have edited it meanwhile), replace the blocks, write it whole.
    Returns the names whose markers are missing."""
    text, missing = README.read_text(encoding="utf-8"), []
    for name, content in blocks.items():
        try:
            text = replace_marked(text, name, content)
        except KeyError:
            missing.append(name)
    partial = README.with_name(".README.md.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(README)
    return missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma-separated sections: {', '.join(SECTIONS)}")
    parser.add_argument("--print", action="store_true", help="print the new text instead of writing README.md")
    options = parser.parse_args()
    chosen = options.only.split(",") if options.only else list(SECTIONS)
    if unknown := [name for name in chosen if name not in SECTIONS]:
        parser.error(f"unknown section {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    if not options.print and (missing := missing_markers(README.read_text(encoding="utf-8"), chosen)):
        parser.error(f"README.md has no markers for {', '.join(missing)}: nothing was run")  # before minutes of work
    blocks: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="gensandbox-docs-") as folder:
        for name in chosen:
            session = new_session(Path(folder) / name, write_files=not options.print)
            print(f"{name}: running…", file=sys.stderr, flush=True)
            blocks |= SECTIONS[name](session)
    if options.print:
        for name, content in blocks.items():
            print(f"<!-- generated:{name} -->{content}<!-- /generated:{name} -->\n")
        return 0
    missing = write_readme(blocks)
    print(f"README.md: rewrote {len(blocks) - len(missing)} blocks", file=sys.stderr)
    if missing:
        print(f"no markers in README.md for: {', '.join(missing)}", file=sys.stderr)
    return 1 if missing else 0


def new_session(folder: Path, write_files: bool) -> Session:
    """Each section in its own store, so one's runs never show up in another's output."""
    session = Session(folder / "work", folder / "home", write_files, load_average())
    session.work.mkdir(parents=True)
    session.home.mkdir()
    shared = Path(os.environ.get("GENSANDBOX_HOME") or Path.home() / ".cache" / "gensandbox") / "models"
    shared.mkdir(parents=True, exist_ok=True)
    (session.home / "models").symlink_to(shared, target_is_directory=True)
    return session


if __name__ == "__main__":
    sys.exit(main())
