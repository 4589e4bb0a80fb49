"""What switching from one model to another would cost, measured: quality kept, cost and latency change,
tokenizer inflation for Korean and English, and API features the workload used that the alternative lacks.

Pure functions over measured numbers; the command that runs the models is in cli/switching.py.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from gensandbox.config import data_path
from gensandbox.errors import UserError

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")


def calibration_texts() -> dict[str, str]:
    """A Korean and an English passage (written for GenSandbox) on which each tokenizer is measured."""
    return {lang: data_path(f"audits/calibration-{lang}.txt").read_text(encoding="utf-8") for lang in ("ko", "en")}


def korean_characters(text: str) -> int:
    return len("".join(text.split()))


def english_words(text: str) -> int:
    return len(text.split())


def language_of(text: str) -> str:
    return "ko" if _HANGUL.search(text) else "en"


@dataclass(frozen=True)
class Tokenizer:
    """Tokens a model's tokenizer needs per 1,000 Korean characters and per 1,000 English words."""

    per_1000_korean_chars: float | None
    per_1000_english_words: float | None
    how: str  # "own tokenizer (llama.cpp)" or "reported by the endpoint"


def tokenizer_rates(tokens: dict[str, int | None], texts: dict[str, str]) -> Tokenizer:
    """`tokens`: the prompt tokens of each calibration text with the fixed overhead of a message removed."""
    ko, en = tokens.get("ko"), tokens.get("en")
    return Tokenizer(None if ko is None else 1000 * ko / korean_characters(texts["ko"]),
                     None if en is None else 1000 * en / english_words(texts["en"]), tokens.get("how", ""))


@dataclass(frozen=True)
class Measured:
    """One model on the workload, from the audit's evaluation run."""

    model: str
    items: int
    score: float  # NaN when nothing could be scored
    cost_usd: float
    latency_p50_s: float
    input_tokens: int
    errors: int


@dataclass(frozen=True)
class Alternative:
    model: str
    quality_kept: float | None  # the alternative's score as a share of the current model's
    cost_ratio: float | None
    latency_ratio: float | None
    prompt_token_ratio: float | None  # on this workload's own prompts: the tokenizer difference, measured
    missing_features: list[str]
    unknown_features: list[str]
    context_too_small: bool
    tokenizer: Tokenizer
    errors: int

    def summary(self, current: str) -> str:
        quality = "an unmeasured share" if self.quality_kept is None else f"{self.quality_kept:.0%}"
        cost = "an unmeasured share" if self.cost_ratio is None else f"{self.cost_ratio:.0%}"
        return f"switching from {current} to {self.model} keeps {quality} of quality at {cost} of the cost"


@dataclass(frozen=True)
class SwitchingReport:
    current: str
    workload: str
    run_id: str
    items: int
    features_used: list[str]
    max_prompt_tokens: int
    current_tokenizer: Tokenizer
    alternatives: list[Alternative]
    method: str
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_dict(self) -> dict:
        return asdict(self)


METHOD = (
    "Every model (the current one included) answered the same workload in one evaluation run. Quality: the "
    "workload's own scorers where items have targets; for recorded traffic, a judge model grades each answer "
    "against the current model's recorded answer. Quality kept = the alternative's score / the current "
    "model's score. Cost and latency: measured total cost and p50 latency on the same items, as ratios. "
    "Tokenizer inflation: prompt tokens each model needs for a fixed Korean passage (per 1,000 non-space "
    "characters) and English passage (per 1,000 words), with a message's fixed overhead removed; the "
    "workload's own prompt-token ratio is shown beside it. Features: what the recorded requests used "
    "(streaming, tools, JSON mode, seeds, prompt length) against what each model declares."
)


def _ratio(new: float, old: float) -> float | None:
    if old != old or new != new or old == 0:
        return None
    return new / old


def compare(current: Measured, other: Measured, tokenizer: Tokenizer, features_used: set[str],
            offered: set[str] | None, context: int | None, max_prompt_tokens: int) -> Alternative:
    missing = sorted(features_used - offered) if offered is not None else []
    unknown = sorted(features_used) if offered is None else []
    return Alternative(
        model=other.model,
        quality_kept=_ratio(other.score, current.score),
        cost_ratio=_ratio(other.cost_usd, current.cost_usd),
        latency_ratio=_ratio(other.latency_p50_s, current.latency_p50_s),
        prompt_token_ratio=_ratio(other.input_tokens, current.input_tokens) if current.input_tokens else None,
        missing_features=missing,
        unknown_features=unknown,
        context_too_small=context is not None and max_prompt_tokens > context,
        tokenizer=tokenizer,
        errors=other.errors,
    )


# ---- The workload, from recorded traffic ----------------------------------------------------------------------

JUDGE_RUBRIC = ("The answer is at least as good as the reference answer for this question: as correct, as "
                "complete and in the same language. A different wording is fine.")


def parse_date_range(text: str) -> tuple[str, str] | None:
    """'2026-11-01..2026-11-29' (dates inclusive, or ISO times) → ISO bounds comparable with event times."""
    if ".." not in text:
        return None
    start, _, end = text.partition("..")
    try:
        low = datetime.fromisoformat(start.strip()) if start.strip() else datetime.min
        high = datetime.fromisoformat(end.strip()) if end.strip() else datetime.max
    except ValueError:
        raise UserError(f"cannot read the date range {text!r}; write it as 2026-11-01..2026-11-29") from None
    if len(end.strip()) == 10:  # a bare date includes its whole day
        high = high.replace(hour=23, minute=59, second=59, microsecond=999999)
    return low.isoformat(), high.isoformat()


def workload_items(events: list[dict], judge: str) -> tuple[list[dict], set[str], int]:
    """Suite items (JSONL rows) from recorded calls, each graded by `judge` against the recorded answer; the
    features those calls used; and the longest prompt in tokens."""
    items, features, longest = [], set(), 0
    for event in events:
        messages, answers = event.get("gen_ai.input.messages"), event.get("gen_ai.output.messages")
        if not messages:
            raise UserError("the recorded calls keep only hashes of their prompts ([ledger] privacy = \"hashes\"); "
                            "record replayable traffic with privacy = \"full\", or audit a suite with --suite")
        if event.get("gensandbox.status") != "ok" or not answers:
            continue
        text = "\n".join(m.get("content") or "" for m in messages)
        items.append({"id": f"call-{event['seq']}", "language": language_of(text), "category": "recorded",
                      "messages": messages, "target": answers[0].get("content") or "",
                      "scorer": {"name": "judge", "args": {"judge": judge, "rubric": JUDGE_RUBRIC}}})
        features.update(event.get("gensandbox.features") or [])
        longest = max(longest, int(event.get("gen_ai.usage.input_tokens") or 0))
    if not items:
        raise UserError("no successful recorded calls in that workload; check the session name or date range "
                        "(`gensandbox traffic` shows what went through the gateway)")
    return items, features, longest
