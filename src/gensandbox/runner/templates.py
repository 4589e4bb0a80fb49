"""From a raw row to an item's messages: system prompt, few-shot examples, a Jinja2 prompt template
and multiple-choice options. Rows that already carry `messages` are used as they are.

Template variables are the row's own fields (`input`, `choices`, anything else it has) plus
`letters` (A, B, C… for the choices) and `options` (the choices rendered as "A. …" lines).
"""

from __future__ import annotations

import string
from functools import cache

from pydantic import BaseModel, ConfigDict

from gensandbox.config import FewShot

LETTERS = string.ascii_uppercase
ITEM_FIELDS = {"id", "language", "category", "target", "scorer", "max_tokens"}
ANSWER_WITH_LETTER = {"ko": "정답의 알파벳만 답하세요.", "en": "Answer with the letter only."}
DEFAULT_TEMPLATE = "{{ input }}{% if options %}\n\n{{ options }}\n\n{{ answer_with_letter }}{% endif %}"


class SuiteOptions(BaseModel):
    """How a suite's raw rows become prompts. Set in a YAML suite's header or a [[suites]] entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    system: str | None = None
    template: str | None = None
    few_shot: list[FewShot] = []
    defaults: dict = {}


def build_raw_item(raw: dict, options: SuiteOptions) -> dict:
    """Apply defaults, then turn `input`/`choices` into messages. Raises ValueError (shown with the row)."""
    row = {**options.defaults, **raw}
    if "messages" in row:
        messages = list(row["messages"])
    else:
        if "input" not in row and not options.template:
            raise ValueError("a row needs `messages`, or `input` to fill the prompt template")
        messages = [{"role": "user", "content": render_prompt(row, options.template)}]
        # The template consumed the row's own fields; keep only what an item is made of.
        row = {k: v for k, v in _choice_target(row).items() if k in ITEM_FIELDS}
    shots = [turn for example in options.few_shot for turn in (
        {"role": "user", "content": render_prompt({**row, "input": example.input, "choices": []}, options.template)},
        {"role": "assistant", "content": example.output})]
    system = [{"role": "system", "content": options.system}] if options.system and not _has_system(messages) else []
    row["messages"] = system + shots + messages
    for key in ("input", "choices"):
        row.pop(key, None)
    return row


def render_prompt(row: dict, template: str | None) -> str:
    choices = [str(c) for c in row.get("choices") or []]
    variables = {
        **row,
        "choices": choices,
        "letters": list(LETTERS[: len(choices)]),
        "options": "\n".join(f"{LETTERS[i]}. {choice}" for i, choice in enumerate(choices)),
        "answer_with_letter": ANSWER_WITH_LETTER.get(str(row.get("language", "en")), ANSWER_WITH_LETTER["en"]),
    }
    from jinja2 import TemplateError

    try:
        return _compiled(template or DEFAULT_TEMPLATE).render(variables).strip()
    except TemplateError as error:
        raise ValueError(f"prompt template: {error}") from None


@cache
def _compiled(template: str):
    """Templates are compiled once; the sandbox keeps a suite's template from reaching Python internals."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(undefined=StrictUndefined).from_string(template)


def _choice_target(row: dict) -> dict:
    """Multiple choice: score by option letter; a target given as the option's text becomes its letter."""
    choices = [str(c) for c in row.get("choices") or []]
    if not choices:
        return row
    row = {**row}
    row.setdefault("scorer", "choice")
    target = row.get("target")
    if isinstance(target, str) and target not in LETTERS[: len(choices)] and target in choices:
        row["target"] = LETTERS[choices.index(target)]
    return row


def _has_system(messages: list) -> bool:
    return any(isinstance(m, dict) and m.get("role") == "system" for m in messages)
