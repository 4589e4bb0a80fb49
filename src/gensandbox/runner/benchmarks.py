"""Loaders for the file layouts of well-known public benchmarks, which users download themselves.

Each loader turns rows of one layout into plain item dicts in the suite schema (see runner/suite.py):

    {"id": str, "language": "ko" | "en", "category": str,
     "messages": [{"role": "user", "content": prompt}], "target": ..., "scorer": "choice" | "includes"}

Multiple-choice prompts list the options as lines "A. …", "B. …" and end with an instruction in the
item's language to answer with the letter only; the target is the correct letter, scored by "choice".
GenSandbox ships none of these data sets: the user downloads them and accepts their licences (LAYOUTS).

Rows are read lazily from CSV/TSV (header row), JSONL (one object a line) or a JSON array of objects
(read whole), chosen by the file's suffix, so any layout may come in any of those containers. "row N" in
errors and ids means: the Nth data row after the header (CSV), the line number (JSONL), or the 1-based
position in the array (JSON).

Layouts, and where each was checked (public copies, 2023-2025):

kmmlu — HAERAE-HUB/KMMLU (huggingface.co/datasets/HAERAE-HUB/KMMLU: data/*-{train,dev,test}.csv, whose
    header is `question,answer,A,B,C,D,Category,Human Accuracy`; licence cc-by-nd-4.0 on the card).
    `answer` is 1-4 (lm-evaluation-harness tasks/kmmlu uses `answer - 1` as the index of A-D); also
    accepted: "1.0"-style floats (pandas exports) and a letter A-D or "(A)". Category ← `Category`.
kobest — skt/kobest_v1 (dataset card, dataset_infos.json and kobest_v1.py; lm-evaluation-harness
    tasks/kobest/utils.py and kobest_*.yaml). JSONL per task; the task is told from the fields:
      boolq     paragraph, question, label (0 = False/아니오, 1 = True/예)
      copa      premise, question ("원인" cause | "결과" effect), alternative_1, alternative_2, label 0/1
      hellaswag context, ending_1..ending_4, label 0-3
      sentineg  sentence, label (0 = negative/부정, 1 = positive/긍정)
      wic       word, context_1, context_2, label (0 = different sense/아니오, 1 = same sense/예)
    Licence cc-by-sa-4.0 on the card. Category ← the task name.
haerae — HAERAE-HUB/HAE_RAE_BENCH_1.1 (HAE_RAE_BENCH.py features: query, options, answer, category;
    licence cc-by-nc-nd-4.0 on the card) and HAE_RAE_BENCH_1.0 (data/HAERAE-Bench-v1-*.csv; its card
    names no licence). `query` holds the whole prompt, options included, in the form
    "...### 질문: ...### 선택지: (A) …(B) …### 정답:" (lm-evaluation-harness tasks/haerae scores the
    choices "(A)".."(E)" against `answer` "(A)"). Known variants accepted: `options` as a list, as a
    Python/JSON list in a string ("['…', '…']"), as "a|b|c", or absent (then parsed from the query);
    `answer` as "(A)", "A", a 1-based number, or the option's text; a third-party CSV form with
    question, A..E, answer, categories. Category ← `category` (or `categories`).
click — EunsuKim/CLIcK (the card; GitHub rladmstn1714/CLIcK Dataset/**/*.json, e.g. Economy_KIIP.json:
    a JSON array of {id, paragraph, question, choices, answer}; lm-evaluation-harness tasks/click
    takes the target as choices.index(answer)). `paragraph` may be empty; `answer` is the text of the
    correct choice (a letter A-E is accepted too). Neither the card nor the GitHub README states a
    licence. Category ← a `category` field, else the id without its trailing numbers
    ("KIIP_economy_12" → "KIIP_economy", "CSAT_korean_22_3" → "CSAT_korean").
qa-jsonl — plain {"question", "answer"} (or "q"/"a") rows, optional id, category, language; the
    answer may be a string or a list of accepted strings; scored with "includes".
"""

from __future__ import annotations

import ast
import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gensandbox.errors import ConfigError, NotFoundError


@dataclass(frozen=True)
class BenchmarkLayout:
    name: str
    license: str
    license_note: str  # restrictions in plain words; empty if none
    source: str  # where the benchmark is published


LAYOUTS: dict[str, BenchmarkLayout] = {
    "kmmlu": BenchmarkLayout(
        name="kmmlu",
        license="CC-BY-ND-4.0",
        license_note=(
            "no derivatives: do not publish modified or converted copies; keep converted items for your own "
            "evaluation and credit the KMMLU authors"
        ),
        source="https://huggingface.co/datasets/HAERAE-HUB/KMMLU",
    ),
    "kobest": BenchmarkLayout(
        name="kobest",
        license="CC-BY-SA-4.0",
        license_note="share-alike: anything you publish from it must carry the same licence and credit SK Telecom",
        source="https://huggingface.co/datasets/skt/kobest_v1",
    ),
    "haerae": BenchmarkLayout(
        name="haerae",
        license="CC-BY-NC-ND-4.0",
        license_note=(
            "non-commercial use only; no derivatives: do not publish modified or converted copies "
            "(the 1.1 card; the 1.0 card names no licence, so treat it the same way)"
        ),
        source="https://huggingface.co/datasets/HAERAE-HUB/HAE_RAE_BENCH_1.1 (and HAE_RAE_BENCH_1.0)",
    ),
    "click": BenchmarkLayout(
        name="click",
        license="none stated (no licence on the dataset card or the GitHub repository)",
        license_note=(
            "no licence granted: the authors keep all rights, so evaluate privately and do not redistribute; "
            "questions come from Korean exams (CSAT, TOPIK, KHB, PSAT, …) whose own terms may apply"
        ),
        source="https://huggingface.co/datasets/EunsuKim/CLIcK (code: https://github.com/rladmstn1714/CLIcK)",
    ),
    "qa-jsonl": BenchmarkLayout(
        name="qa-jsonl",
        license="the file's own terms",
        license_note="",
        source="your own file: one {\"question\": …, \"answer\": …} object a line",
    ),
}

INSTRUCTIONS = {"ko": "정답의 알파벳만 답하세요.", "en": "Answer with the letter only."}

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_HANGUL = re.compile("[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_OPTION_MARK = re.compile(r"\(([A-Z])\)")
_OPTIONS_HEADER = re.compile(r"(?im)^[ \t]*(?:#+[ \t]*)?(?:선택지|options?|choices?)[ \t]*[:：]?")
_ANSWER_CUE = re.compile(r"\s*(?:#+[ \t]*)?(?:정답|answer)[ \t]*[:：][ \t]*$", re.IGNORECASE)
_LETTER_ANSWER = re.compile(r"[(\[]?([A-Za-z])[)\]]?\.?")
_NUMBER_ANSWER = re.compile(r"(\d+)(?:\.0+)?")
_TRAILING_NUMBERS = re.compile(r"(?:_\d+)+$")


# --- public API -------------------------------------------------------------------------------------------


def load_benchmark(layout: str, path: Path) -> Iterator[dict]:
    """Items from a benchmark file in `layout`, yielded one by one as rows are read.

    Raises ValueError for an unknown layout and NotFoundError for a missing file at once; ConfigError
    ("<file> row N: <what is wrong>") when a bad row is reached.
    """
    name = _layout_name(layout)
    path = Path(path).expanduser()
    if not path.is_file():
        raise NotFoundError(f"benchmark file {path} not found")
    return _LOADERS[name](path)


def detect_layout(path: Path) -> str | None:
    """Best-effort guess of the layout from the header (CSV) or the first record (JSON/JSONL); None if unsure."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise NotFoundError(f"benchmark file {path} not found")
    try:
        first = next(iter(_records(path)), None)
    except (ConfigError, OSError):
        return None
    if first is None:
        return None
    return _layout_of({key for key, value in first.data.items() if value is not None})


# --- reading rows -----------------------------------------------------------------------------------------


class _Row:
    """One record plus where it came from, for error messages."""

    def __init__(self, data: dict, file_name: str, number: int, kind: str):
        self.data = data
        self.file_name = file_name
        self.number = number
        self.kind = kind  # "column" (CSV) or "field" (JSON)

    def fail(self, what: str) -> ConfigError:
        return ConfigError(f"{self.file_name} row {self.number}: {what}")

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def get(self, *keys: str) -> Any:
        for key in keys:
            if self.data.get(key) is not None:
                return self.data[key]
        return None

    def require(self, *keys: str) -> Any:
        """The value of the first of `keys` present; the first key names what is missing."""
        for key in keys:
            if self.data.get(key) is not None:
                return self.data[key]
        if any(key in self.data for key in keys):
            raise self.fail(f"missing value for `{keys[0]}`")
        raise self.fail(f"missing {self.kind} `{keys[0]}`")

    def text(self, *keys: str, allow_empty: bool = False) -> str:
        value = self.require(*keys)
        if isinstance(value, (dict, list)):
            raise self.fail(f"`{keys[0]}` must be text, got {type(value).__name__}")
        text = str(value).strip()
        if not text and not allow_empty:
            raise self.fail(f"`{keys[0]}` is empty")
        return text


def _records(path: Path) -> Iterator[_Row]:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return _csv_records(path, "\t" if suffix == ".tsv" else ",")
    if suffix in (".json", ".jsonl", ".ndjson"):
        return _json_records(path)
    return _json_records(path) if _first_char(path) in ("[", "{") else _csv_records(path, ",")


def _first_char(path: Path) -> str:
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        while True:
            char = handle.read(1)
            if not char or not char.isspace():
                return char


def _not_utf8(path: Path, error: UnicodeDecodeError) -> ConfigError:
    return ConfigError(f"{path.name}: not UTF-8 text ({error.reason} at byte {error.start}); save it as UTF-8")


def _csv_records(path: Path, delimiter: str) -> Iterator[_Row]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                return
            header = [name.strip() for name in header]
            for number, values in enumerate(reader, start=1):
                if not any(value.strip() for value in values):
                    continue
                data: dict[str, Any] = {name: None for name in header if name}
                data.update({name: value for name, value in zip(header, values, strict=False) if name})
                yield _Row(data, path.name, number, "column")
    except UnicodeDecodeError as error:
        raise _not_utf8(path, error) from None
    except csv.Error as error:
        raise ConfigError(f"{path.name}: not readable as CSV ({error})") from None


def _json_records(path: Path) -> Iterator[_Row]:
    try:
        if _first_char(path) == "[":
            yield from _json_array(path)
            return
        with path.open(encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    hint = "; expected one JSON object a line or a JSON array of objects" if number == 1 else ""
                    raise ConfigError(
                        f"{path.name} row {number}: not valid JSON ({error.msg} at column {error.colno}){hint}"
                    ) from None
                yield _object_row(record, path.name, number)
    except UnicodeDecodeError as error:
        raise _not_utf8(path, error) from None


def _json_array(path: Path) -> Iterator[_Row]:
    with path.open(encoding="utf-8-sig") as handle:
        try:
            records = json.load(handle)
        except json.JSONDecodeError as error:
            raise ConfigError(
                f"{path.name}: not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
            ) from None
    for number, record in enumerate(records, start=1):
        yield _object_row(record, path.name, number)


def _object_row(record: Any, file_name: str, number: int) -> _Row:
    if not isinstance(record, dict):
        raise ConfigError(f"{file_name} row {number}: expected an object with fields, got {type(record).__name__}")
    return _Row(record, file_name, number, "field")


def _rows_of(path: Path) -> Iterator[_Row]:
    """Every row, then ConfigError if there were none."""
    count = 0
    for row in _records(path):
        count += 1
        yield row
    if not count:
        raise ConfigError(f"{path.name}: no rows")


# --- building items ---------------------------------------------------------------------------------------


def _choice_item(item_id: str, category: str, stem: str, options: list[str], answer: int, language: str = "ko") -> dict:
    lines = [stem.strip(), ""]
    lines += [f"{_LETTERS[i]}. {' '.join(option.splitlines()).strip()}" for i, option in enumerate(options)]
    lines += ["", INSTRUCTIONS[language]]
    return {
        "id": item_id,
        "language": language,
        "category": category,
        "messages": [{"role": "user", "content": "\n".join(lines)}],
        "target": _LETTERS[answer],
        "scorer": "choice",
    }


def _item_id(row: _Row, layout: str) -> str:
    own = row.get("id")
    if own is not None and str(own).strip():
        return str(own).strip()
    return f"{layout}-{row.number}"


def _check_options(row: _Row, options: list[str]) -> list[str]:
    if len(options) < 2:
        raise row.fail(f"needs at least 2 options, found {len(options)}")
    if len(options) > len(_LETTERS):
        raise row.fail(f"has {len(options)} options; at most {len(_LETTERS)} can be lettered")
    return options


def _answer_index(row: _Row, value: Any, options: list[str], *, numbers: bool, texts: bool) -> int:
    """Index of the correct option from a letter ("B", "(B)"), a 1-based number, or the option's text."""
    n = len(options)
    shown = str(value).strip()
    if isinstance(value, float) and value.is_integer():
        shown = str(int(value))
    if texts and shown in [option.strip() for option in options]:
        return [option.strip() for option in options].index(shown)
    if texts:
        folded = [" ".join(option.split()).casefold() for option in options]
        if " ".join(shown.split()).casefold() in folded:
            return folded.index(" ".join(shown.split()).casefold())
    letter = _LETTER_ANSWER.fullmatch(shown)
    if letter and not isinstance(value, (int, float)):
        index = _LETTERS.index(letter.group(1).upper())
        if index < n:
            return index
    number = _NUMBER_ANSWER.fullmatch(shown)
    if numbers and number and not isinstance(value, bool):
        index = int(number.group(1)) - 1
        if 0 <= index < n:
            return index
    allowed = [f"A-{_LETTERS[n - 1]}"]
    if numbers:
        allowed.insert(0, f"1-{n}")
    if texts:
        allowed.append("the text of one of the options")
    raise row.fail(f"`answer` must be {' or '.join(allowed)}, got {shown!r}")


def _label(row: _Row, n: int) -> int:
    value = row.require("label")
    if isinstance(value, bool):
        index = int(value)
    elif isinstance(value, int):
        index = value
    elif isinstance(value, float) and value.is_integer():
        index = int(value)
    elif isinstance(value, str) and _NUMBER_ANSWER.fullmatch(value.strip()):
        index = int(float(value.strip()))
    elif isinstance(value, str) and value.strip().lower() in ("false", "true"):
        index = int(value.strip().lower() == "true")
    else:
        raise row.fail(f"`label` must be a number 0-{n - 1}, got {value!r}")
    if not 0 <= index < n:
        raise row.fail(f"`label` must be 0-{n - 1}, got {index}")
    return index


def _parse_options(row: _Row, value: Any) -> list[str] | None:
    """A list of options from a list, a Python/JSON list in a string, "a|b|c", or "(A) … (B) …"; None if empty."""
    if value is None:
        return None
    if isinstance(value, list):
        options = [str(option).strip() for option in value]
    elif isinstance(value, str):
        text = value.strip()
        if not text or text.lower() in ("nan", "none", "null", "[]"):
            return None
        if text.startswith("["):
            try:
                parsed = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                try:
                    parsed = json.loads(text)
                except json.JSONDecodeError:
                    raise row.fail("`options` looks like a list but cannot be read") from None
            if not isinstance(parsed, (list, tuple)):
                raise row.fail("`options` looks like a list but is not one")
            options = [str(option).strip() for option in parsed]
        elif _OPTION_MARK.search(text):
            split = _split_inline_options(text)
            if split is None:
                raise row.fail("cannot read the lettered options in `options`")
            options = split[1]
        elif "|" in text:
            options = [part.strip() for part in text.split("|")]
        elif "\n" in text:
            options = [line.strip() for line in text.splitlines() if line.strip()]
        else:
            raise row.fail(f"cannot read `options` {text[:40]!r}; expected a list")
    else:
        raise row.fail(f"`options` must be a list, got {type(value).__name__}")
    return _strip_letter_prefixes(options) or None


def _strip_letter_prefixes(options: list[str]) -> list[str]:
    """["(A) x", "(B) y"] → ["x", "y"], only when every option carries its own letter in order."""
    prefix = re.compile(r"^\s*[(\[]?([A-Z])[)\].]\s*")
    matches = [prefix.match(option) for option in options]
    if options and all(m and m.group(1) == _LETTERS[i] for i, m in enumerate(matches)):
        return [option[m.end():].strip() for option, m in zip(options, matches, strict=True)]
    return options


def _split_inline_options(text: str) -> tuple[str, list[str]] | None:
    """Split "stem ### 선택지: (A) x (B) y" (or a bare run of "(A) … (B) …") into the stem and the options."""
    cuts = [(header.start(), header.end()) for header in reversed(list(_OPTIONS_HEADER.finditer(text)))]
    start = text.rfind("(A)")
    if start >= 0:
        cuts.append((start, start))
    for stem_end, block_start in cuts:
        parts = _OPTION_MARK.split(text[block_start:])
        letters, bodies = parts[1::2], parts[2::2]
        if parts[0].strip() or len(letters) < 2 or "".join(letters) != _LETTERS[: len(letters)]:
            continue
        return text[:stem_end].rstrip(), [body.strip() for body in bodies]
    return None


# --- the layouts ------------------------------------------------------------------------------------------


def _load_kmmlu(path: Path) -> Iterator[dict]:
    for row in _rows_of(path):
        question = row.text("question")
        options = [row.text(letter, allow_empty=True) for letter in "ABCD"]
        answer = _answer_index(row, row.require("answer"), options, numbers=True, texts=False)
        category = str(row.get("Category", "category") or "").strip() or "kmmlu"
        yield _choice_item(_item_id(row, "kmmlu"), category, question, options, answer)


def _kobest_task(row: _Row) -> str:
    if row.has("alternative_1") or row.has("premise"):
        return "copa"
    if row.has("ending_1") or (row.has("context") and not row.has("context_1")):
        return "hellaswag"
    if row.has("word") or row.has("context_1"):
        return "wic"
    if row.has("paragraph"):
        return "boolq"
    if row.has("sentence"):
        return "sentineg"
    raise row.fail(
        "cannot tell the KoBEST task from the fields "
        f"({', '.join(sorted(row.data)) or 'none'}); expected boolq (paragraph, question, label), "
        "copa (premise, question, alternative_1, alternative_2, label), hellaswag (context, ending_1..ending_4, "
        "label), sentineg (sentence, label) or wic (word, context_1, context_2, label)"
    )


_COPA_ASKS = {"원인": "원인으로", "cause": "원인으로", "결과": "결과로", "effect": "결과로"}


def _kobest_item(row: _Row) -> dict:
    task = _kobest_task(row)
    item_id = _item_id(row, "kobest")
    if task == "boolq":
        stem = f"{row.text('paragraph')}\n\n질문: {row.text('question')}"
        return _choice_item(item_id, task, stem, ["아니오", "예"], _label(row, 2))
    if task == "copa":
        premise, asked = row.text("premise"), row.text("question")
        if asked.lower() not in _COPA_ASKS:
            raise row.fail(f"`question` must be 원인 or 결과, got {asked!r}")
        stem = f"{premise}\n\n위 문장의 {_COPA_ASKS[asked.lower()]} 가장 알맞은 것은?"
        options = [row.text("alternative_1"), row.text("alternative_2")]
        return _choice_item(item_id, task, stem, options, _label(row, 2))
    if task == "hellaswag":
        stem = f"다음 내용에 이어질 문장으로 가장 알맞은 것은?\n\n{row.text('context')}"
        options = [row.text(f"ending_{n}") for n in range(1, 5)]
        return _choice_item(item_id, task, stem, options, _label(row, 4))
    if task == "sentineg":
        stem = f"다음 문장은 긍정인가요, 부정인가요?\n\n문장: {row.text('sentence')}"
        return _choice_item(item_id, task, stem, ["부정", "긍정"], _label(row, 2))
    word = row.text("word")
    stem = (
        f"다음 두 문장에서 '{word}'이(가) 같은 뜻으로 쓰였나요?\n\n"
        f"문장 1: {row.text('context_1')}\n문장 2: {row.text('context_2')}"
    )
    return _choice_item(item_id, task, stem, ["아니오", "예"], _label(row, 2))


def _load_kobest(path: Path) -> Iterator[dict]:
    for row in _rows_of(path):
        yield _kobest_item(row)


def _load_haerae(path: Path) -> Iterator[dict]:
    for row in _rows_of(path):
        if not row.has("query") and row.has("question") and row.has("A"):
            query = row.text("question")  # third-party CSV form: question, A..E, answer, categories
            raw: Any = [row.get(letter) for letter in "ABCDE" if str(row.get(letter) or "").strip()]
        else:
            query = row.text("query")
            raw = row.get("options")
        query = _ANSWER_CUE.sub("", query).rstrip()
        options = _parse_options(row, raw)
        split = _split_inline_options(query)
        if options is None:
            if split is None:
                raise row.fail("no `options`, and none found in `query` as (A) … (B) …")
            stem, options = split
        else:
            stem = split[0] if split is not None else query
        options = _check_options(row, options)
        answer = _answer_index(row, row.require("answer"), options, numbers=True, texts=True)
        category = str(row.get("category", "categories") or "").strip() or "haerae"
        yield _choice_item(_item_id(row, "haerae"), category, stem, options, answer)


def _load_click(path: Path) -> Iterator[dict]:
    for row in _rows_of(path):
        question = row.text("question")
        paragraph = str(row.get("paragraph") or "").strip()
        options = _check_options(row, _parse_options(row, row.require("choices")) or [])
        answer = _answer_index(row, row.require("answer"), options, numbers=False, texts=True)
        item_id = _item_id(row, "click")
        category = str(row.get("category") or "").strip()
        if not category and row.has("id"):
            category = _TRAILING_NUMBERS.sub("", str(row.get("id")).strip())
        stem = f"{paragraph}\n\n{question}" if paragraph else question
        yield _choice_item(item_id, category or "click", stem, options, answer)


def _qa_target(row: _Row) -> str | list[str]:
    value = row.require("answer", "a")
    if isinstance(value, list):
        answers = [str(answer).strip() for answer in value if str(answer).strip()]
        if not answers:
            raise row.fail("`answer` is an empty list")
        return answers if len(answers) > 1 else answers[0]
    if isinstance(value, dict):
        raise row.fail("`answer` must be text or a list of texts, got an object")
    answer = str(value).strip()
    if not answer:
        raise row.fail("`answer` is empty")
    return answer


def _load_qa(path: Path) -> Iterator[dict]:
    for row in _rows_of(path):
        question = row.text("question", "q")
        target = _qa_target(row)
        language = str(row.get("language") or "").strip().lower()
        if not language:
            language = "ko" if _HANGUL.search(question) else "en"
        elif len(language) < 2:
            raise row.fail(f"`language` must be a language code such as ko or en, got {language!r}")
        yield {
            "id": _item_id(row, "qa-jsonl"),
            "language": language,
            "category": str(row.get("category") or "").strip() or "qa-jsonl",
            "messages": [{"role": "user", "content": question}],
            "target": target,
            "scorer": "includes",
        }


_LOADERS = {
    "kmmlu": _load_kmmlu,
    "kobest": _load_kobest,
    "haerae": _load_haerae,
    "click": _load_click,
    "qa-jsonl": _load_qa,
}


def _layout_name(layout: str) -> str:
    name = str(layout).strip().lower().replace("_", "-")
    if name not in LAYOUTS:
        raise ValueError(f"unknown benchmark layout `{layout}`; known layouts: {', '.join(LAYOUTS)}")
    return name


def _layout_of(keys: set[str]) -> str | None:
    if {"question", "A", "B", "C", "D", "answer"} <= keys:
        return "haerae" if "E" in keys else "kmmlu"  # the five-option CSV form of HAE-RAE; KMMLU has four
    kobest = (
        {"premise", "alternative_1", "alternative_2", "label"},
        {"context", "ending_1", "label"},
        {"word", "context_1", "context_2", "label"},
        {"paragraph", "question", "label"},
        {"sentence", "label"},
    )
    if any(signature <= keys for signature in kobest):
        return "kobest"
    if {"query", "answer"} <= keys:
        return "haerae"
    if {"question", "choices", "answer"} <= keys:
        return "click"
    if ({"question", "q"} & keys) and ({"answer", "a"} & keys):
        return "qa-jsonl"
    return None
