"""BFCL (the Berkeley Function-Calling Leaderboard) rows → agent items: the row's functions become the item's
tools, its question the messages, and its possible answer the `tool-calls` scorer's expected calls (`no-tool`
for the irrelevance categories, which have no answer file). Single turn: no environment, so the episode ends at
the model's first answer, as BFCL's own AST categories are scored.

Files as BFCL publishes them: `BFCL_v<N>_<category>.json` (one JSON object a line: id, question, function), the
answers in `possible_answer/<the same file name>` beside it (id, ground_truth). See the package docstring for
where the layout was checked and how the conversion follows BFCL's AST checker.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

from gensandbox.errors import ConfigError, NotFoundError
from gensandbox.runner.benchmarks._rows import Row, records, rows_of

# Category (from the file's name) → how BFCL's AST checker scores it. The v4 files split "simple" by language;
# only Python's keeps BFCL's typed values (Java and JavaScript answers are source text the checker parses).
CATEGORIES = {
    "simple": "simple", "simple_python": "simple", "live_simple": "simple",
    "multiple": "multiple", "live_multiple": "multiple",
    "parallel": "parallel", "live_parallel": "parallel",
    "parallel_multiple": "parallel", "live_parallel_multiple": "parallel",
    "irrelevance": "irrelevance", "live_irrelevance": "irrelevance",
}
# BFCL's type names → JSON Schema (BFCL's GORILLA_TO_OPENAPI, Python's part). "any" means any JSON value, so it
# gets no type (BFCL itself sends "string" there).
TYPES = {
    "integer": "integer", "number": "number", "float": "number", "double": "number", "string": "string",
    "boolean": "boolean", "bool": "boolean", "array": "array", "list": "array", "tuple": "array",
    "dict": "object", "object": "object", "any": None,
}
FLOAT_NOTE = " This is a float type value."  # what BFCL adds to a float parameter's description for tool APIs
MAX_COMBINATIONS = 1_000  # accepted dicts one parameter may expand into (BFCL v4 needs 128 at most)
_FILE_NAME = re.compile(r"^BFCL_v\d+_(?P<category>[A-Za-z_]+)$")
_ROW_ID = re.compile(r"^(?P<category>[a-z_]+?)_\d[\d-]*$")  # "simple_python_12", "live_simple_3-2-0"
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_STRING_TYPES = ("string", "any", None)  # where BFCL's checker accepts "" as a literal string value


def load(path: Path) -> Iterator[dict]:
    """The items of one BFCL data file, or of every category file at the top of a folder."""
    if path.is_dir():
        yield from load_folder(path)
        return
    first = next(iter(records(path)), None)
    if first is not None and first.has("ground_truth") and not first.has("question"):
        raise _answer_file_error(path)
    category = category_of(path)
    answers = None if CATEGORIES[category] == "irrelevance" else read_answers(path)
    for row in rows_of(path):
        yield row_item(row, category, answers)


def load_folder(folder: Path) -> Iterator[dict]:
    """Every BFCL file at the top of `folder` (possible_answer/ and other sub-folders are not data files)."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".json", ".jsonl") and p.is_file())
    if not files:
        raise NotFoundError(f"no BFCL data files (BFCL_v<N>_<category>.json) in the folder {folder}")
    unsupported = [f"{file.name} ({category})" for file in files
                   if (category := _category_name(file)) not in CATEGORIES]
    if unsupported:
        raise ConfigError(f"{folder}: BFCL categories not supported: {', '.join(unsupported)}; supported: "
                          f"{', '.join(CATEGORIES)}; give a folder holding only those files, or one file")
    for file in files:
        yield from load(file)


def category_of(path: Path) -> str:
    """The file's BFCL category, from its name (BFCL_v3_simple.json) or else its first row's id; ConfigError
    naming the supported categories when it is one this layout cannot score."""
    category = _category_name(path)
    if category not in CATEGORIES:
        raise ConfigError(f"{path.name}: BFCL category `{category}` is not supported (multi-turn, Java, JavaScript, "
                          f"relevance and agentic categories need other scoring); supported: {', '.join(CATEGORIES)}")
    return category


def _category_name(path: Path) -> str:
    if match := _FILE_NAME.match(path.stem):
        return match["category"].lower()
    first = next(iter(records(path)), None)
    match = _ROW_ID.match(str(first.data.get("id", ""))) if first is not None else None
    if match is None:
        raise ConfigError(f"{path.name}: cannot tell the BFCL category from the file's name or its first row's id; "
                          "name it as BFCL does, BFCL_v<N>_<category>.json (e.g. BFCL_v3_simple.json)")
    return match["category"]


def read_answers(path: Path) -> dict[str, object]:
    """id → ground_truth, from possible_answer/<the data file's name> beside the data file."""
    answer_file = path.parent / "possible_answer" / path.name
    if not answer_file.is_file():
        raise NotFoundError(f"{path.name}: BFCL's answers are not at {answer_file}; put the matching file from "
                            "BFCL's possible_answer/ folder there (the irrelevance categories need none)")
    answers = {}
    for row in records(answer_file):
        answers[row.text("id")] = row.require("ground_truth")
    return answers


def _answer_file_error(path: Path) -> ConfigError:
    data_file = path.parent.parent / path.name if path.parent.name == "possible_answer" else "the data file"
    return ConfigError(f"{path.name} holds BFCL's answers (ground_truth), not questions; give {data_file}, with "
                       "this file in possible_answer/ beside it")


def row_item(row: Row, category: str, answers: dict[str, object] | None) -> dict:
    """One BFCL row as an agent item; ConfigError naming the row for anything it cannot express."""
    item_id = row.text("id")
    functions = _functions(row)
    names = _tool_names(row, functions)
    item = {"id": item_id, "language": "en", "category": category, "messages": _messages(row),
            "tools": [_tool(row, function, names) for function in functions]}
    if answers is None:
        return {**item, "scorer": {"name": "no-tool"}}
    if item_id not in answers:
        raise row.fail(f"no ground truth for `{item_id}` in possible_answer/{row.file_name}")
    calls = expected_calls(row, answers[item_id], functions, names)
    # "loose" strings: BFCL's checker ignores spaces and , . / - _ * ^ in strings, and so does the scorer then
    return {**item, "scorer": {"name": "tool-calls", "args": {"calls": calls, "strings": "loose"}}}


def _functions(row: Row) -> list[dict]:
    functions = row.require("function")
    if isinstance(functions, dict):  # BFCL's first files held one function as an object
        functions = [functions]
    if not isinstance(functions, list):
        raise row.fail("`function` must be a list of function documents")
    if not functions:  # live_irrelevance has a few such rows: with no tool offered there is nothing to score
        raise row.fail("offers no functions, so no call can be scored; remove the row to run the rest")
    for function in functions:
        if not (isinstance(function, dict) and isinstance(function.get("name"), str)):
            raise row.fail(f"each function needs a `name`: {str(function)[:80]}")
    return functions


def _tool_names(row: Row, functions: list[dict]) -> dict[str, str]:
    """BFCL name → tool name. Tool APIs refuse "." in a name, so it becomes "_", as BFCL does for them."""
    names: dict[str, str] = {}
    for function in functions:
        name = function["name"].replace(".", "_")
        if not _TOOL_NAME.match(name):
            raise row.fail(f"function name {function['name']!r} cannot be a tool's name (1-64 letters, digits, _, -)")
        if name in names.values():
            raise row.fail(f"functions {function['name']!r} and another both become the tool name {name!r}")
        names[function["name"]] = name
    return names


def _messages(row: Row) -> list[dict]:
    question = row.require("question")
    turns = question if question and all(isinstance(turn, list) for turn in question) else [question]
    if len(turns) != 1:
        raise row.fail(f"`question` has {len(turns)} turns; only single-turn categories are supported")
    messages = turns[0]
    if not isinstance(messages, list) or not messages:
        raise row.fail("`question` must hold a list of {role, content} messages")
    for message in messages:
        if not (isinstance(message, dict) and message.get("role") in ("system", "user", "assistant")
                and isinstance(message.get("content"), str)):
            raise row.fail(f"a message must be {{role: system|user|assistant, content: text}}: {str(message)[:80]}")
    return [{"role": message["role"], "content": message["content"]} for message in messages]


def _tool(row: Row, function: dict, names: dict[str, str]) -> dict:
    parameters = function.get("parameters") or {"type": "dict", "properties": {}}
    if not isinstance(parameters, dict):
        raise row.fail(f"function {function['name']}: `parameters` must be an object")
    return {"name": names[function["name"]], "description": str(function.get("description") or ""),
            "parameters": json_schema(row, parameters, function["name"])}


def json_schema(row: Row, node: dict, where: str) -> dict:
    """BFCL's parameter document as JSON Schema: its types renamed, every other keyword kept."""
    schema = dict(node)
    if "type" in schema:
        bfcl_type = schema.pop("type")
        if bfcl_type not in TYPES:
            raise row.fail(f"{where}: type {bfcl_type!r} is not one of BFCL's Python types ({', '.join(TYPES)})")
        if TYPES[bfcl_type]:
            schema["type"] = TYPES[bfcl_type]
        if bfcl_type == "float":
            schema["format"] = "float"
            if isinstance(schema.get("description"), str):
                schema["description"] += FLOAT_NOTE
    if isinstance(schema.get("properties"), dict):
        schema["properties"] = {name: json_schema(row, sub, f"{where}.{name}") if isinstance(sub, dict) else sub
                                for name, sub in schema["properties"].items()}
    if isinstance(schema.get("items"), dict):
        schema["items"] = json_schema(row, schema["items"], f"{where}[]")
    return schema


def expected_calls(row: Row, ground_truth, functions: list[dict], names: dict[str, str]) -> list[dict]:
    """BFCL's ground truth ([{function: {parameter: [accepted values]}}, …]) as the tool-calls scorer's calls."""
    if not isinstance(ground_truth, list) or not ground_truth:
        raise row.fail("the ground truth must be a non-empty list of {function: {parameter: [values]}}")
    documents = {function["name"]: function for function in functions}
    calls = []
    for call in ground_truth:
        if not (isinstance(call, dict) and len(call) == 1 and isinstance(next(iter(call.values())), dict)):
            raise row.fail(f"a ground-truth call must be {{function: {{parameter: [values]}}}}: {str(call)[:80]}")
        (name, parameters), = call.items()
        if name not in documents:
            raise row.fail(f"the ground truth calls {name!r}, which is not among the row's functions")
        document = documents[name].get("parameters") or {}
        required = set(document.get("required") or [])
        properties = document.get("properties") or {}
        arguments = {parameter: accepted(row, f"{name}.{parameter}", values, properties.get(parameter) or {},
                                         parameter in required)
                     for parameter, values in parameters.items()}
        calls.append({"name": names[name], "arguments": arguments})
    return calls


def accepted(row: Row, where: str, values, schema: dict, required: bool) -> dict:
    """One parameter's accepted values as {"one_of": [...]}, "optional" when "" is among them. BFCL checks
    required parameters before values, so a required one stays required even with "" listed."""
    if not isinstance(values, list):
        raise row.fail(f"{where}: the accepted values must be a list, got {str(values)[:60]}")
    options = []
    for value in values:
        if _is_blank(value):
            if schema.get("type") in _STRING_TYPES:  # "" is also a string BFCL's checker accepts as given
                options.append("")
            continue
        options.extend(_literals(row, where, value, schema))
    spec: dict = {"one_of": options}
    if any(_is_blank(value) for value in values) and not required:
        spec["optional"] = True
    return spec


def _literals(row: Row, where: str, value, schema: dict) -> list:
    """A dict parameter's answer lists accepted values per key, as does each dict in a list of dicts; those
    are expanded into every literal they accept. A value of another type (BFCL's "variable") stays as it is."""
    kind, items = schema.get("type"), schema.get("items") or {}
    if kind in ("dict", "object") and isinstance(value, dict):
        return _dicts(row, where, value)
    if kind in ("array", "list", "tuple") and items.get("type") in ("dict", "object") and isinstance(value, list) \
            and value and all(isinstance(element, dict) for element in value):
        expansions = [_dicts(row, f"{where}[{index}]", element) for index, element in enumerate(value)]
        return [list(combination) for combination in _product(row, where, expansions)]
    return [value]


def _dicts(row: Row, where: str, pattern: dict) -> list[dict]:
    """Every dict a {key: [accepted values]} pattern accepts; "" among a key's values: it may be left out.
    ("" is not also kept as a value here: with BFCL's many optional keys that would triple the combinations.)"""
    absent = object()
    choices = []
    for key, values in pattern.items():
        if not isinstance(values, list):
            raise row.fail(f"{where}.{key}: the accepted values must be a list, got {str(values)[:60]}")
        choices.append([(key, absent if _is_blank(value) else value) for value in values])
    return [{key: value for key, value in combination if value is not absent}
            for combination in _product(row, where, choices)]


def _is_blank(value) -> bool:
    """BFCL's mark of a parameter that may be left out."""
    return isinstance(value, str) and value == ""


def _product(row: Row, where: str, choices: list[list]) -> list[tuple]:
    size = 1
    for options in choices:
        size *= len(options)
    if size > MAX_COMBINATIONS:
        raise row.fail(f"{where}: its accepted values combine into {size} dicts, more than {MAX_COMBINATIONS}")
    return list(itertools.product(*choices))
