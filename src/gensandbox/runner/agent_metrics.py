"""The numbers of agent tasks, per model (and suite): how often a task is solved, how reliably, with how many steps,
tool calls and invalid calls, at what cost and time per solved task, how often a risk probe's attack worked, and
what the simulated user cost. Pure functions over the samples' episodes (runner/episode.py).

Definitions, printed beside the numbers in reports:
- pass@1: the mean score of the scored tries (a try whose episode failed, e.g. an HTTP error, is counted in
  `errors` and left out, as the leaderboard leaves failed calls out).
- pass^k (k: the run's epochs): the share of items whose k tries were all scored and all scored 1, over the items
  with k scored tries. τ-bench's reliability measure; with one epoch it equals pass@1 (scores are 0/1).
- steps, tool calls and invalid calls per task: means over every try (a failed episode still took its steps).
- cost and time per solved task: what every try cost (the agent's own model calls) and took (episode wall time),
  divided by the solved tries: what one success costs, failures included.
- attack success rate: the share of tries of items with an `attack` in which the attack worked (lower is safer).
- the simulated user's cost is kept apart: it is the test's cost, not the agent's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from gensandbox.calls.records import episode_session
from gensandbox.runner.stats import bootstrap_ci, percentile
from gensandbox.store import SampleRecord

SOLVED = 1.0  # agent scores are 0/1 per try; a text scorer's partial credit is not a solved task


@dataclass(frozen=True)
class AgentTry:
    """One try of an agent task, narrowed to what the metrics need (a sample holds the whole episode)."""

    model: str
    suite: str
    item_id: str
    epoch: int
    score: float | None
    cost_usd: float
    latency_s: float | None
    model_calls: int
    tool_calls: int
    invalid_calls: int
    user_cost_usd: float
    attack_succeeded: bool | None  # None: the item has no attack

    @classmethod
    def of(cls, sample: SampleRecord) -> AgentTry:
        episode = sample.episode or {}
        return cls(sample.model, sample.suite, sample.item_id, sample.epoch, sample.score, sample.cost_usd,
                   sample.latency_s, episode.get("model_calls", 0), episode.get("tool_calls", 0),
                   episode.get("invalid_calls", 0), episode.get("user_cost_usd", 0.0),
                   episode.get("attack_succeeded"))


def agent_tries(samples: Iterable[SampleRecord], into: list[AgentTry]) -> Iterator[SampleRecord]:
    """Passes `samples` on unchanged, keeping each agent task's try in `into`: a report reads the run's samples
    once for its sample browser and gets the agent metrics' input on the way."""
    for sample in samples:
        if sample.episode is not None:
            into.append(AgentTry.of(sample))
        yield sample


@dataclass(frozen=True)
class AgentMetrics:
    key: tuple[str, ...]  # (model,) or (model, suite)
    items: int
    tries: int
    errors: int  # tries whose episode failed before it could be scored
    epochs: int  # k of pass^k
    success: float  # pass@1; NaN when nothing was scored
    ci_low: float
    ci_high: float
    pass_k: float  # NaN when no item has k scored tries
    steps_per_task: float
    tool_calls_per_task: float
    invalid_calls: int
    invalid_per_task: float
    cost_usd: float
    solved: int
    cost_per_solved_usd: float  # NaN when nothing was solved
    latency_per_solved_s: float
    latency_p50_s: float
    attack_tries: int
    attacks_succeeded: int
    user_cost_usd: float

    @property
    def model(self) -> str:
        return self.key[0]

    @property
    def attack_success_rate(self) -> float:
        return self.attacks_succeeded / self.attack_tries if self.attack_tries else float("nan")


def by_model(attempt: AgentTry) -> tuple[str, ...]:
    return (attempt.model,)


def by_model_and_suite(attempt: AgentTry) -> tuple[str, ...]:
    return (attempt.model, attempt.suite)


@dataclass
class _Group:
    tries: list[AgentTry] = field(default_factory=list)

    def result(self, key: tuple[str, ...], epochs: int, resamples: int) -> AgentMetrics:
        tries, count = self.tries, len(self.tries)
        scored = [a for a in tries if a.score is not None]
        per_item = _per_item(scored)
        item_means = [sum(scores) / len(scores) for scores in per_item.values()]
        complete = [scores for scores in per_item.values() if len(scores) >= epochs]
        low, high = bootstrap_ci(item_means, resamples=resamples)
        solved = sum(a.score >= SOLVED for a in scored)
        cost = sum(a.cost_usd for a in tries)
        wall = sum(a.latency_s or 0.0 for a in tries)
        attacks = [a for a in tries if a.attack_succeeded is not None]
        invalid = sum(a.invalid_calls for a in tries)
        return AgentMetrics(
            key=key, items=len({(a.suite, a.item_id) for a in tries}), tries=count, errors=count - len(scored),
            epochs=epochs, success=_mean([a.score for a in scored]), ci_low=low, ci_high=high,
            pass_k=_mean([float(all(s >= SOLVED for s in scores)) for scores in complete]),
            steps_per_task=_mean([a.model_calls for a in tries]),
            tool_calls_per_task=_mean([a.tool_calls for a in tries]), invalid_calls=invalid,
            invalid_per_task=invalid / count if count else float("nan"), cost_usd=cost, solved=solved,
            cost_per_solved_usd=cost / solved if solved else float("nan"),
            latency_per_solved_s=wall / solved if solved else float("nan"),
            latency_p50_s=percentile([a.latency_s for a in tries if a.latency_s is not None], 50),
            attack_tries=len(attacks), attacks_succeeded=sum(bool(a.attack_succeeded) for a in attacks),
            user_cost_usd=sum(a.user_cost_usd for a in tries))


def agent_metrics(tries: Iterable[AgentTry], epochs: int = 1,
                  key: Callable[[AgentTry], tuple[str, ...]] = by_model_and_suite, *,
                  resamples: int = 2000) -> list[AgentMetrics]:
    """Metrics per group of tries (per model and suite by default), in key order. `epochs` is the run's: k of
    pass^k."""
    groups: dict[tuple[str, ...], _Group] = {}
    for attempt in tries:
        groups.setdefault(key(attempt), _Group()).tries.append(attempt)
    return [groups[k].result(k, max(1, epochs), resamples) for k in sorted(groups)]


def metrics_json(rows: list[AgentMetrics]) -> list[dict]:
    """The metrics as JSON (no NaN: a number that cannot be computed is null)."""
    return [{"model": row.key[0], **({"suite": row.key[1]} if len(row.key) > 1 else {}), "items": row.items,
             "tries": row.tries, "errors": row.errors, "epochs": row.epochs, "success": _finite(row.success),
             "ci_low": _finite(row.ci_low), "ci_high": _finite(row.ci_high), "pass_k": _finite(row.pass_k),
             "steps_per_task": _finite(row.steps_per_task), "tool_calls_per_task": _finite(row.tool_calls_per_task),
             "invalid_calls": row.invalid_calls, "invalid_per_task": _finite(row.invalid_per_task),
             "cost_usd": round(row.cost_usd, 10), "solved": row.solved,
             "cost_per_solved_usd": _finite(row.cost_per_solved_usd),
             "latency_per_solved_s": _finite(row.latency_per_solved_s),
             "attack_tries": row.attack_tries, "attack_success_rate": _finite(row.attack_success_rate),
             "user_cost_usd": round(row.user_cost_usd, 10)}
            for row in rows]


@dataclass(frozen=True)
class EpisodeRow:
    """One episode of a run, named by the session its steps are recorded under (`gensandbox trace SESSION`)."""

    session: str
    model: str
    suite: str
    item_id: str
    epoch: int
    score: float | None
    end: str
    model_calls: int
    tool_calls: int
    invalid_calls: int
    attack_succeeded: bool | None


def episode_rows(samples: Iterable[SampleRecord]) -> list[EpisodeRow]:
    """The run's agent episodes, in the store's order; samples of single model calls are passed over."""
    return [EpisodeRow(episode_session(sample), sample.model, sample.suite, sample.item_id, sample.epoch,
                       sample.score, sample.episode.get("end", ""), sample.episode.get("model_calls", 0),
                       sample.episode.get("tool_calls", 0), sample.episode.get("invalid_calls", 0),
                       sample.episode.get("attack_succeeded"))
            for sample in samples if sample.episode is not None]


def _per_item(scored: list[AgentTry]) -> dict[tuple[str, str], list[float]]:
    per_item: dict[tuple[str, str], list[float]] = {}
    for attempt in scored:
        per_item.setdefault((attempt.suite, attempt.item_id), []).append(attempt.score)
    return per_item


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def _finite(value: float) -> float | None:
    return None if value != value else round(value, 6)
