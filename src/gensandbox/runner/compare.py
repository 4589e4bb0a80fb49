"""Is the difference between two models real? A paired comparison on the items both answered."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gensandbox.errors import UserError
from gensandbox.runner.stats import SIGNIFICANCE, paired_difference
from gensandbox.store import ScoreRow


@dataclass(frozen=True)
class PairedComparison:
    first: str
    second: str
    n: int
    first_score: float
    second_score: float
    difference: float
    ci_low: float
    ci_high: float
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < SIGNIFICANCE

    def sentence(self) -> str:
        verdict = ("the difference is significant at the 5% level" if self.significant
                   else "the difference is not significant at the 5% level")
        return (f"{self.first} − {self.second} = {self.difference * 100:+.1f} points "
                f"(95% CI {self.ci_low * 100:+.1f} to {self.ci_high * 100:+.1f}), p = {self.p_value:.4f} "
                f"over {self.n} paired items: {verdict}.")


def compare_models(rows: Iterable[ScoreRow], first: str, second: str, suite: str | None = None) -> PairedComparison:
    per_item: dict[str, dict[tuple[str, str], list[float]]] = {first: {}, second: {}}
    for row in rows:
        if row.model in per_item and row.score is not None and (suite is None or row.suite == suite):
            per_item[row.model].setdefault((row.suite, row.item_id), []).append(row.score)
    shared = sorted(set(per_item[first]) & set(per_item[second]))
    if not shared:
        raise UserError(f"`{first}` and `{second}` have no scored items in common in this run"
                        + (f" on suite `{suite}`" if suite else ""))
    a = [_mean(per_item[first][key]) for key in shared]
    b = [_mean(per_item[second][key]) for key in shared]
    difference, low, high, p_value = paired_difference(a, b)
    return PairedComparison(first, second, len(shared), _mean(a), _mean(b), difference, low, high, p_value)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)
