"""Loaders for the file layouts of well-known public benchmarks, which users download themselves.

Each loader turns rows of one layout into plain item dicts in the suite schema (see runner/suite.py):

    {"id": str, "language": "ko" | "en", "category": str,
     "messages": [{"role": "user", "content": prompt}], "target": ..., "scorer": "choice" | "includes"}

BFCL's rows become agent items instead (tools, and the tool-calls or no-tool scorer; see below).
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
    tasks/kobest/utils.py and kobest_*.yaml). One file per task, in either published form; the task is told
    from the fields (kobest.task_of). The JSONL of the Hugging Face copy:
      boolq     paragraph, question, label (0 = False/아니오, 1 = True/예)
      copa      premise, question ("원인" cause | "결과" effect), alternative_1, alternative_2, label 0/1
      hellaswag context, ending_1..ending_4, label 0-3
      sentineg  sentence, label (0 = negative/부정, 1 = positive/긍정)
      wic       word, context_1, context_2, label (0 = different sense/아니오, 1 = same sense/예)
    The original TSVs of github.com/SKT-LSL/KoBEST_datarepo (v1.0/<Task>/{train,dev,test}.tsv), which
    kobest_v1.py downloads and renames into the fields above; headers read from the repository (commit
    2956e24, 2022) and the renaming from kobest_v1.py:
      BoolQ     ID, Text, Question, Answer — Answer TRUE/FALSE (any case); the 2021 NIKL copy heads it
                "Answer(FALSE = 0, TRUE = 1)" with 0/1
      COPA      ID, sentence, question, 1, 2, Answer — question 원인/결과 (sometimes with a trailing space),
                Answer 1 or 2: the number of the right alternative (kobest_v1.py subtracts 1)
      HellaSwag context, choice1..choice4, label — label 0-3; no ID column
      SentiNeg  ID, Text, Label (train; dev orders them ID, Label, Text) — Label 0/1; test.tsv adds
                Label_origin, Text_origin (the sentence before negation, Hugging Face's "test_originated"
                split) and Category_neg: each row gives one item from Text/Label, as the "test" split does
      WiC       ID, Target, SENTENCE1, Dictionary 1, Link 1, SENTENCE2, Dictionary 2, Link2, ANSWER —
                ANSWER True/False (any case); Target is the word
    COPA is told from SentiNeg by its alternatives and `question` (both have a `sentence`); BoolQ from
    SentiNeg by `Question` (both have a `Text`). Licence cc-by-sa-4.0 on the card. Category ← the task name;
    id ← `ID` where the file has one.
haerae — HAERAE-HUB/HAE_RAE_BENCH_1.1 (HAE_RAE_BENCH.py features: query, options, answer, category;
    licence cc-by-nc-nd-4.0 on the card) and HAE_RAE_BENCH_1.0 (data/HAERAE-Bench-v1-{HI,KGK,LW,RC,RW,SN}.csv;
    its card names no licence). Two row forms:
    the query form (1.1): `query` holds the whole prompt, options included, in the form
    "...### 질문: ...### 선택지: (A) …(B) …### 정답:" (lm-evaluation-harness tasks/haerae scores the
    choices "(A)".."(E)" against `answer` "(A)"). Known variants accepted: `options` as a list, as a
    Python/JSON list in a string ("['…', '…']"), as "a|b|c", or absent (then parsed from the query);
    `answer` as "(A)", "A", a 1-based number, or the option's text; earlier 1.0 CSVs in this form too.
    The column form: the 1.0 CSVs as published now, header `question,a,b,c,d,e,answer,split`, `answer` a
    lower-case letter ("b"), an empty `e` meaning four options (the header as users report it and as
    third-party evaluation code reads the Hugging Face copy: x["question"], x["a"]..x["e"],
    x["answer"].upper(); the CSVs themselves were not available to check); and third-party copies with
    question, A..E, answer, categories. A one-letter answer is a column's letter there. Category ←
    `category` (or `categories`), else the 1.0 file's task code (…-v1-HI.csv → history, KGK →
    general_knowledge, LW → loan_words, RC → reading_comprehension, RW → rare_words, SN →
    standard_nomenclature), else "haerae".
click — EunsuKim/CLIcK (the card; GitHub rladmstn1714/CLIcK Dataset/**/*.json, e.g. Economy_KIIP.json:
    a JSON array of {id, paragraph, question, choices, answer}; lm-evaluation-harness tasks/click
    takes the target as choices.index(answer)). `paragraph` may be empty; `answer` is the text of the
    correct choice (a letter A-E is accepted too). Some CSAT items (Textual_CSAT.json, Functional_CSAT.json)
    publish choices and answer as "[A] : …"; those letters are dropped when every choice carries its own,
    in order (see _choice), while "[A]에서 …"-style references to passage sections, which the same files
    use inside choices, are kept (checked against the GitHub repository, commit 38373ac). Neither the card
    nor the GitHub README states a licence. Category ← a `category` field, else the id without its
    trailing numbers ("KIIP_economy_12" → "KIIP_economy", "CSAT_korean_22_3" → "CSAT_korean").
bfcl — the Berkeley Function-Calling Leaderboard (github.com/ShishirPatil/gorilla, folder
    berkeley-function-call-leaderboard/bfcl_eval/data, commit 6ea5797, 2026; the same files on
    huggingface.co/datasets/gorilla-llm/Berkeley-Function-Calling-Leaderboard; licence Apache-2.0 on the card).
    Files BFCL_v3_<category>.json (v4: BFCL_v4_…, "simple" split into simple_python/_java/_javascript), one
    object a line: id, question (a list of turns, each a list of {role, content}), function (a list of
    {name, description, parameters} in BFCL's types: dict, float, tuple, any, …); the answers in
    possible_answer/<the same name>, one {id, ground_truth} a line, ground_truth [{function: {parameter:
    [accepted values]}}, …]. Categories: simple (simple_python), multiple, parallel, parallel_multiple,
    irrelevance, and their live_ forms (same checker); the category comes from the file's name, else from its
    first row's id. PATH is a data file or a folder of them (sub-folders such as possible_answer/ are not read).
    How it follows BFCL's AST checker (bfcl_eval/eval_checker/ast_eval/ast_checker.py): the types become JSON
    Schema as BFCL's GORILLA_TO_OPENAPI does (dict→object, float→number with format "float" and BFCL's "This
    is a float type value." note, tuple→array; any→no type, where BFCL sends "string"); "." in a function's
    name becomes "_", as BFCL does for tool APIs; each accepted-value list becomes {"one_of": [...]}, with
    "optional": true when "" is listed and the parameter is not required (BFCL checks required ones first),
    "" itself kept as a value for string parameters; a dict parameter's {key: [values]} answer (and each dict
    of a list of dicts) is expanded into the literal dicts it accepts ("" there: the key may be left out).
    Parallel calls match in any order; strings are compared "loose", as BFCL does (without spaces and
    ",./-_*^", case-folded). irrelevance rows (no answer file) are scored no-tool. Differences that remain:
    BFCL takes 3.0 for an integer parameter as a type error, the scorer as 3; BFCL compares strings nested
    deeper than a list or dict exactly, the scorer loosely at any depth.
qa-jsonl — plain {"question", "answer"} (or "q"/"a") rows, optional id, category, language; the
    answer may be a string or a list of accepted strings; scored with "includes".

Modules: _rows (containers, row numbering, errors), _choice (multiple-choice prompts, options, answers),
and one per layout family: kmmlu, kobest, haerae, click, bfcl, qa.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gensandbox.errors import ConfigError, NotFoundError
from gensandbox.runner.benchmarks import bfcl, click, haerae, kmmlu, kobest, qa
from gensandbox.runner.benchmarks._choice import INSTRUCTIONS
from gensandbox.runner.benchmarks._rows import records

__all__ = ["FILE_SUFFIXES", "INSTRUCTIONS", "LAYOUTS", "BenchmarkLayout", "benchmark_files", "detect_layout",
           "load_benchmark"]


@dataclass(frozen=True)
class BenchmarkLayout:
    name: str
    license: str
    license_note: str  # restrictions in plain words; empty if none
    source: str  # where the benchmark is published
    title: str = ""  # the benchmark's own spelling, for messages ("KMMLU", "KoBEST", …)


LAYOUTS: dict[str, BenchmarkLayout] = {
    "kmmlu": BenchmarkLayout(
        name="kmmlu",
        title="KMMLU",
        license="CC-BY-ND-4.0",
        license_note=(
            "no derivatives: do not publish modified or converted copies; keep converted items for your own "
            "evaluation and credit the KMMLU authors"
        ),
        source="https://huggingface.co/datasets/HAERAE-HUB/KMMLU",
    ),
    "kobest": BenchmarkLayout(
        name="kobest",
        title="KoBEST",
        license="CC-BY-SA-4.0",
        license_note="share-alike: anything you publish from it must carry the same licence and credit SK Telecom",
        source="https://huggingface.co/datasets/skt/kobest_v1",
    ),
    "haerae": BenchmarkLayout(
        name="haerae",
        title="HAE-RAE",
        license="CC-BY-NC-ND-4.0",
        license_note=(
            "non-commercial use only; no derivatives: do not publish modified or converted copies "
            "(the 1.1 card; the 1.0 card names no licence, so treat it the same way)"
        ),
        source="https://huggingface.co/datasets/HAERAE-HUB/HAE_RAE_BENCH_1.1 (and HAE_RAE_BENCH_1.0)",
    ),
    "click": BenchmarkLayout(
        name="click",
        title="CLIcK",
        license="none stated (no licence on the dataset card or the GitHub repository)",
        license_note=(
            "no licence granted: the authors keep all rights, so evaluate privately and do not redistribute; "
            "questions come from Korean exams (CSAT, TOPIK, KHB, PSAT, …) whose own terms may apply"
        ),
        source="https://huggingface.co/datasets/EunsuKim/CLIcK (code: https://github.com/rladmstn1714/CLIcK)",
    ),
    "qa-jsonl": BenchmarkLayout(
        name="qa-jsonl",
        title="a question/answer file",
        license="the file's own terms",
        license_note="",
        source="your own file: one {\"question\": …, \"answer\": …} object a line",
    ),
    "bfcl": BenchmarkLayout(
        name="bfcl",
        title="BFCL (Berkeley Function-Calling Leaderboard)",
        license="Apache-2.0",
        license_note="",
        source=("https://github.com/ShishirPatil/gorilla/tree/main/berkeley-function-call-leaderboard "
                "(data: https://huggingface.co/datasets/gorilla-llm/Berkeley-Function-Calling-Leaderboard)"),
    ),
}

_LOADERS: dict[str, Callable[[Path], Iterator[dict]]] = {
    "kmmlu": kmmlu.load,
    "kobest": kobest.load,
    "haerae": haerae.load,
    "click": click.load,
    "qa-jsonl": qa.load,
    "bfcl": bfcl.load,
}

# Layouts whose loader reads a folder itself: BFCL's answers sit in a sub-folder and are not items.
_READS_FOLDERS = ("bfcl",)


def load_benchmark(layout: str, path: Path) -> Iterator[dict]:
    """Items from a benchmark file in `layout`, yielded one by one as rows are read.

    Raises ValueError for an unknown layout and NotFoundError for a missing file at once; ConfigError
    ("<file> row N: <what is wrong>") when a bad row is reached.
    """
    name = _layout_name(layout)
    path = Path(path).expanduser()
    if path.is_dir() and name not in _READS_FOLDERS:
        return _folder_items(name, path)
    if path.is_dir():
        return _LOADERS[name](path)
    return _LOADERS[name](_existing_file(path))


FILE_SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv", ".tsv")


def benchmark_files(folder: Path) -> list[Path]:
    """A downloaded benchmark's folder (CLIcK's Dataset/, KoBEST's v1.0/): its data files, in a stable order."""
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in FILE_SUFFIXES and p.is_file())
    if not files:
        raise NotFoundError(f"no benchmark files ({', '.join(FILE_SUFFIXES)}) in the folder {folder}")
    return files


def _folder_items(name: str, folder: Path) -> Iterator[dict]:
    """Every file of the folder as one suite. Ids are prefixed with the file's path in the folder, so rows of
    different files (KoBEST's per-task "1", "2", …) never collide, and each item says where it came from."""
    for file in benchmark_files(folder):
        prefix = file.relative_to(folder).with_suffix("").as_posix()
        for item in _LOADERS[name](file):
            yield {**item, "id": f"{prefix}/{item['id']}"}


def detect_layout(path: Path) -> str | None:
    """Best-effort guess of the layout from the header (CSV) or the first record (JSON/JSONL); None if unsure."""
    path = _existing_file(path)  # a missing file is an error, not an unknown layout
    try:
        first = next(iter(records(path)), None)
    except (ConfigError, OSError):
        return None
    if first is None:
        return None
    return _layout_of({key for key, value in first.data.items() if value is not None})


def _existing_file(path: Path) -> Path:
    path = Path(path).expanduser()
    if not path.is_file():
        raise NotFoundError(f"benchmark file {path} not found")
    return path


def _layout_name(layout: str) -> str:
    name = str(layout).strip().lower().replace("_", "-")
    if name not in LAYOUTS:
        raise ValueError(f"unknown benchmark layout `{layout}`; known layouts: {', '.join(LAYOUTS)}")
    return name


def _layout_of(keys: set[str]) -> str | None:
    if {"question", "function"} <= keys or keys == {"id", "ground_truth"}:
        return "bfcl"  # a data file, or its possible_answer/ file (the loader then names the data file)
    if {"question", "A", "B", "C", "D", "answer"} <= keys:
        return "haerae" if "E" in keys else "kmmlu"  # the five-option CSV form of HAE-RAE; KMMLU has four
    if {"question", "a", "b", "c", "d", "answer"} <= keys:
        return "haerae"  # HAE-RAE 1.0 as published: lower-case option columns
    if kobest.recognised(keys):
        return "kobest"
    if {"query", "answer"} <= keys:
        return "haerae"
    if {"question", "choices", "answer"} <= keys:
        return "click"
    if ({"question", "q"} & keys) and ({"answer", "a"} & keys):
        return "qa-jsonl"
    return None
