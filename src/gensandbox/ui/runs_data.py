"""What the run pages show, read from the store. Plain functions that return whole lists (never lazy
iterators), because the handlers run them in a worker thread that holds the store's lock."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from gensandbox.errors import NotFoundError
from gensandbox.store import RunRecord, SampleRecord, SQLStore
from gensandbox.ui.paging import Pager, make_pager
from gensandbox.ui.text import t

RUNS_PER_PAGE = 50
Key = tuple[str, str, int]  # (suite, item, epoch): what two models' answers are paired on


@dataclass(frozen=True)
class RunRow:
    run: RunRecord
    items: int
    samples: int
    errors: int
    cost_usd: float


@dataclass(frozen=True)
class Answer:
    text: str | None
    score: float | None
    error: str | None


@dataclass(frozen=True)
class PairRow:
    suite: str
    item_id: str
    epoch: int
    prompt: str
    first: Answer
    second: Answer

    @property
    def differs(self) -> bool:
        # Surrounding whitespace is how an endpoint ends a message, not part of the answer.
        return _stripped(self.first.text) != _stripped(self.second.text)


@dataclass(frozen=True)
class Comparison:
    first: str
    second: str
    rows: list[PairRow]  # every item both models answered, in (suite, item, epoch) order
    unpaired: int  # items only one of the two answered

    @property
    def differing(self) -> list[PairRow]:
        return [row for row in self.rows if row.differs]


def find_run(store: SQLStore, run_id: str, lang: str) -> RunRecord:
    try:
        return store.get_run(run_id)
    except NotFoundError:
        raise NotFoundError(t(lang, "error.no_run", run_id=run_id)) from None


def runs_page(store: SQLStore, requested_page: str | None,
              visible: Callable[[str], bool] = lambda run_id: True) -> tuple[list[RunRow], Pager]:
    """Totals only for the runs on this page: each costs a pass over that run's rows."""
    runs = [run for run in store.list_runs() if visible(run.run_id)]
    pager = make_pager(len(runs), RUNS_PER_PAGE, requested_page)
    return [_run_row(store, run) for run in runs[pager.start:pager.stop]], pager


def _run_row(store: SQLStore, run: RunRecord) -> RunRow:
    items: set[tuple[str, str]] = set()
    samples = errors = 0
    cost = 0.0
    for row in store.score_rows(run.run_id):
        items.add((row.suite, row.item_id))
        samples += 1
        errors += row.error is not None
        cost += row.cost_usd
    return RunRow(run, len(items), samples, errors, cost)


def without_paths(run: RunRecord) -> RunRecord:
    """The run as a page shows it: each suite's file by its name, not where the server keeps it."""
    return replace(run, suites=[{**suite, "path": Path(suite["path"]).name} if suite.get("path") else suite
                                for suite in run.suites])


def run_view(store: SQLStore, run: RunRecord, resamples: int, with_samples: bool = True):
    from gensandbox.reports import build_view  # lazily: the report package may change under us

    return build_view(without_paths(run), store, resamples=resamples, **({} if with_samples else {"sample_limit": 0}))


def report_html(store: SQLStore, run: RunRecord, resamples: int, lang: str, with_samples: bool = True) -> str:
    from gensandbox.reports import build_view, render_report

    view = build_view(without_paths(run), store, resamples=resamples,
                      **({} if with_samples else {"sample_limit": 0}))
    # Reports learn languages in a later change; until then an English report beats an error.
    if "lang" in inspect.signature(render_report).parameters:
        return render_report(view, lang=lang)
    return render_report(view)


def model_names(run: RunRecord) -> list[str]:
    return [model["name"] for model in run.models]


def compare_run(store: SQLStore, run: RunRecord, first: str, second: str, lang: str) -> Comparison:
    names = model_names(run)
    for model in (first, second):
        if model not in names:
            raise NotFoundError(t(lang, "compare.no_model", model=model, run_id=run.run_id))
    return compare_answers(store.samples(run.run_id), first, second)


def compare_answers(samples: Iterable[SampleRecord], first: str, second: str) -> Comparison:
    """Pairs the two models' answers on each (suite, item, epoch); only those two models' samples are kept."""
    answers: dict[str, dict[Key, SampleRecord]] = {first: {}, second: {}}
    for sample in samples:
        if sample.model in answers:
            answers[sample.model][(sample.suite, sample.item_id, sample.epoch)] = sample
    ours, theirs = answers[first], answers[second]
    shared = sorted(ours.keys() & theirs.keys())
    rows = [PairRow(*key, prompt=_prompt(ours[key].request), first=_answer(ours[key]), second=_answer(theirs[key]))
            for key in shared]
    return Comparison(first, second, rows, len(ours.keys() ^ theirs.keys()))


def _answer(sample: SampleRecord) -> Answer:
    return Answer(sample.response_text, sample.score, sample.error)


def _prompt(request: dict) -> str:
    """The last user message: what the item asked (earlier messages are few-shot or system context)."""
    users = [m.get("content") for m in request.get("messages", []) if m.get("role") == "user"]
    return str(users[-1]) if users else ""


def _stripped(text: str | None) -> str | None:
    return None if text is None else text.strip()
