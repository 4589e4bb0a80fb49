"""Which items of each suite a run takes: all of them, the first N (`--limit`), or a seeded random sample of N
(`--sample N --seed S`), for a quick look before a full run.

The choice is applied while a suite streams: `--limit` stops reading after the N-th item, and `--sample` knows
its item positions in advance (drawn from the suite's item count, which the checking pass has counted), so it
stops reading after the last of them. Neither holds more than N positions in memory. The run's manifest records
the selection, so `--resume` and `rerun` take exactly the same items.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Selection:
    limit: int | None = None  # the first N items of each suite
    sample: int | None = None  # N items of each suite, drawn at random with `seed`
    seed: int = 0

    def __post_init__(self) -> None:
        if (self.limit is None) == (self.sample is None):
            raise ValueError("a selection is either a limit or a sample")
        if (self.limit or self.sample) < 1:
            raise ValueError("a selection takes at least one item")

    def count(self, total: int) -> int:
        """How many of a suite's `total` items are taken."""
        return min(self.limit or self.sample, total)

    def positions(self, total: int) -> frozenset[int]:
        """The 0-based positions a sample takes among `total` items: the same for the same seed and total."""
        return frozenset(random.Random(self.seed).sample(range(total), self.count(total)))

    def apply(self, items: Iterable[T], total: int) -> Iterator[T]:
        """The selected items, in file order, read lazily; reading stops after the last one taken."""
        if self.limit is not None:
            return islice(items, self.limit)
        taken = self.positions(total)
        last = max(taken, default=-1)
        return (item for position, item in enumerate(islice(items, last + 1)) if position in taken)

    def describe(self) -> str:
        """One line for the terminal."""
        if self.limit is not None:
            first = "the first item" if self.limit == 1 else f"the first {self.limit:,} items"
            return f"limited to {first} of each suite (--limit {self.limit}): not a full evaluation"
        items = "item" if self.sample == 1 else "items"
        return (f"a seeded sample of {self.sample:,} {items} (seed {self.seed}) of each suite "
                f"(--sample {self.sample} --seed {self.seed}): not a full evaluation")

    def record(self) -> dict:
        return {"limit": self.limit} if self.limit is not None else {"sample": self.sample, "seed": self.seed}

    @classmethod
    def from_record(cls, record: dict | None) -> Selection | None:
        if not record:
            return None
        if "limit" in record:
            return cls(limit=int(record["limit"]))
        return cls(sample=int(record["sample"]), seed=int(record["seed"]))
