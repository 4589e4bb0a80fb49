"""Tool calling for local chat models, in Qwen's (Hermes') format: the tools go into the GGUF's own chat template,
and the model answers a call as

    <tool_call>
    {"name": "get_weather", "arguments": {"city": "Paris"}}
    </tool_call>

possibly several times (small models also write the bare JSON object: see ToolCallSplitter). Pure functions (the
grammar text is built with llama-cpp-python's JSON-schema converter, imported only when a grammar is needed);
local.py does the I/O."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable

from gensandbox.types import ChatRequest, Message, Tool, ToolCall, ToolCallDelta

OPEN, CLOSE = "<tool_call>", "</tool_call>"


def template_takes_tools(template: str | None) -> bool:
    """Whether a chat template renders `tools` and prompts for calls in the one format we parse. A template that
    does only one of the two would either never show the model its tools or answer in a form we would miss."""
    return bool(template) and "tools" in template and OPEN in template


def new_call_id(index: int) -> str:
    return f"call_{index}_{secrets.token_hex(4)}"


# ---- what goes into llama.cpp ----


def openai_messages(messages: tuple[Message, ...]) -> list[dict]:
    """Messages in OpenAI's form, which is what chat templates are written against."""
    return [_openai_message(message) for message in messages]


def _openai_message(message: Message) -> dict:
    record: dict = {"role": message.role, "content": message.content}
    if message.tool_calls:
        record["tool_calls"] = [{"id": call.id, "type": "function",
                                 "function": {"name": call.name, "arguments": _template_arguments(call.arguments)}}
                                for call in message.tool_calls]
    if message.tool_call_id is not None:
        record["tool_call_id"] = message.tool_call_id
    if message.name is not None:
        record["name"] = message.name
    return record


def _template_arguments(arguments: str):
    """Templates write arguments with `tojson` (Hugging Face's convention: a mapping), so JSON text is parsed back;
    text that is not JSON stays text, written as the model wrote it."""
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


def openai_tools(tools: tuple[Tool, ...]) -> list[dict]:
    return [{"type": "function", "function": _function(tool)} for tool in tools]


def _function(tool: Tool) -> dict:
    function: dict = {"name": tool.name}
    if tool.description is not None:
        function["description"] = tool.description
    function["parameters"] = tool.parameters if tool.parameters is not None else {"type": "object", "properties": {}}
    return function


def forced_tools(request: ChatRequest) -> tuple[Tool, ...]:
    """The tools the answer must call one of (tool_choice required: any; a named function: that one), or ()."""
    choice = request.tool_choice
    if choice is None or choice.mode not in ("required", "function"):
        return ()
    if choice.mode == "required":
        return request.tools
    named = tuple(tool for tool in request.tools if tool.name == choice.name)
    if not named:
        raise ValueError(f"tool_choice names `{choice.name}`, which is not among the request's tools")
    return named


def grammar_text(calls_from: tuple[Tool, ...], answer_schema: dict | None, several: bool) -> str:
    """GBNF for an answer that is tool calls (one of `calls_from`, several blocks if `several`) or, when
    `answer_schema` is given, JSON valid against it; either part may be absent, not both."""
    from llama_cpp.llama_grammar import SchemaConverter

    converter = SchemaConverter(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)
    choices = []
    if calls_from:
        # name first, as the template's example shows it, so the model writes what it was told to.
        _visit(converter, {"anyOf": [_call_schema(tool) for tool in calls_from]}, "tool-call-json", "tools")
        block = r'"<tool_call>\n" tool-call-json "\n</tool_call>"'
        choices.append(f'{block} ("\\n" {block})*' if several else block)
    if answer_schema is not None:
        _visit(converter, answer_schema, "answer-json", "response_format")
        choices.append("answer-json")
    return converter.format_grammar() + "\nroot ::= " + " | ".join(f"({choice})" for choice in choices) + "\n"


def _visit(converter, schema: dict, rule: str, parameter: str) -> None:
    """Adds the rules for `schema`. The converter asserts on what it cannot express (a pattern without ^...$, a
    remote $ref): said as a ValueError naming the parameter, rather than answered by an unconstrained model."""
    try:
        converter.visit(converter.resolve_refs(schema, parameter), rule)
    except (AssertionError, KeyError, ValueError) as error:
        raise ValueError(f"llama.cpp cannot hold the answer to the JSON Schema in `{parameter}`: {error}") from None


def _call_schema(tool: Tool) -> dict:
    return {"type": "object", "properties": {"name": {"const": tool.name},
                                             "arguments": tool.parameters or {"type": "object"}},
            "required": ["name", "arguments"], "additionalProperties": False}


# ---- what comes out of it ----


class ToolCallSplitter:
    """Separates tool calls from the text around them, as text arrives. Text that may be the start of a tag is held
    back until it is known not to be; a block becomes a ToolCall once it is closed (or, at the end, when it was
    left open by the `</tool_call>` stop sequence that keeps a call single). A block that is not a valid call stays
    text, so nothing the model wrote is lost.

    Small models also call without the tags: the embedded Qwen 0.5B answers "What is the weather in Paris?" with
    the bare `{"name": "get_weather", "arguments": {"city": "Paris"}}` (its output tokens hold no <tool_call>). An
    answer that starts like JSON is therefore held to its end, and is calls if it is nothing but call objects
    naming offered tools (`names`); with `single`, only the first of them (the answer ends at its first call)."""

    def __init__(self, names: frozenset[str] = frozenset(), single: bool = False,
                 new_id: Callable[[int], str] = new_call_id):
        self.names, self.single, self.new_id = names, single, new_id
        self.calls: list[ToolCall] = []
        self._buffer = ""
        self._in_block = False
        self._after_block = False
        self._maybe_bare = True  # nothing seen yet rules out an answer of bare call objects

    def feed(self, text: str) -> tuple[str, list[ToolCall]]:
        """The text now safe to show, and the calls completed by this piece."""
        self._buffer += text
        if self._maybe_bare:
            if _looks_like_json(self._buffer):
                return "", []
            self._maybe_bare = False
        return self._drain(final=False)

    def finish(self) -> tuple[str, list[ToolCall]]:
        """Whatever was held back, at the end of the answer."""
        if self._maybe_bare:
            self._maybe_bare = False
            found = bare_calls(self._buffer, self.names)
            if found:
                self._buffer = ""
                return "", [self._register(*call) for call in found[:1 if self.single else None]]
        return self._drain(final=True)

    def _drain(self, final: bool) -> tuple[str, list[ToolCall]]:
        shown, found = [], []
        while True:
            if self._in_block:
                end = self._buffer.find(CLOSE)
                if end < 0 and not final:
                    break
                body = self._buffer if end < 0 else self._buffer[:end]
                self._buffer = "" if end < 0 else self._buffer[end + len(CLOSE):]
                self._in_block = False
                parsed = parse_call(body)
                if parsed is None:
                    shown.append(OPEN + body + ("" if end < 0 else CLOSE))
                else:
                    found.append(self._register(*parsed))
                    self._after_block = True
                continue
            start = self._buffer.find(OPEN)
            if start >= 0:
                shown.append(self._outside(self._buffer[:start]).rstrip())
                self._buffer, self._in_block = self._buffer[start + len(OPEN):], True
                continue
            keep = 0 if final else _held_back(self._buffer)
            shown.append(self._outside(self._buffer[:len(self._buffer) - keep]))
            self._buffer = self._buffer[len(self._buffer) - keep:]
            break
        return "".join(shown), found

    def _outside(self, text: str) -> str:
        """Text outside blocks; the line breaks that separate a block from what follows are not content."""
        if self._after_block:
            text = text.lstrip()
            self._after_block = not text
        return text

    def _register(self, name: str, arguments: str) -> ToolCall:
        call = ToolCall(self.new_id(len(self.calls)), name, arguments)
        self.calls.append(call)
        return call


_FENCE = "```json"


def _looks_like_json(text: str) -> bool:
    """Whether an answer beginning so may still turn out to be bare call objects (perhaps in a json code fence)."""
    head = text.lstrip()
    return head.startswith("{") or head.startswith(_FENCE) or _FENCE.startswith(head)


def _held_back(text: str) -> int:
    """How many characters at the end of `text` must wait: any beginning of the opening tag, and the whitespace
    before it or at the very end (it may precede a block, where it is no content)."""
    stripped = text.rstrip()
    tag = next((size for size in range(min(len(OPEN) - 1, len(stripped)), 0, -1)
                if OPEN.startswith(stripped[-size:])), 0)
    return len(text) - len(stripped[:len(stripped) - tag].rstrip())


def parse_call(body: str) -> tuple[str, str] | None:
    """(name, arguments as JSON text) from a block's JSON, or None if it is not a call."""
    try:
        return _as_call(json.loads(body))
    except ValueError:
        return None


def _as_call(call) -> tuple[str, str] | None:
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        return None
    arguments = call.get("arguments", {})
    if isinstance(arguments, str):  # some models write the arguments as JSON text already
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return None
    if not isinstance(arguments, dict):
        return None
    return call["name"], json.dumps(arguments, ensure_ascii=False)


def bare_calls(text: str, names: frozenset[str]) -> list[tuple[str, str]]:
    """The calls a whole answer is, when it is nothing but JSON call objects naming offered tools (in a json code
    fence or not); else []. Anything more (prose, other JSON) makes it an ordinary answer."""
    text = text.strip()
    if text.startswith(_FENCE) and text.endswith("```"):
        text = text[len(_FENCE):-3].strip()
    decoder, found, position = json.JSONDecoder(), [], 0
    while position < len(text):
        try:
            value, position = decoder.raw_decode(text, position)
        except ValueError:
            return []
        call = _as_call(value)
        if call is None or call[0] not in names:
            return []
        found.append(call)
        while position < len(text) and text[position].isspace():
            position += 1
    return found


def split_tool_calls(text: str, names: frozenset[str], single: bool = False,
                     new_id: Callable[[int], str] = new_call_id) -> tuple[str, tuple[ToolCall, ...]]:
    """A whole answer's text outside the calls, and its calls."""
    splitter = ToolCallSplitter(names, single, new_id)
    shown, _ = splitter.feed(text)
    rest, _ = splitter.finish()
    return (shown + rest).strip(), tuple(splitter.calls)


def call_deltas(call: ToolCall, index: int) -> tuple[ToolCallDelta, ToolCallDelta]:
    """A streamed call as OpenAI streams one: its id and name first, then its arguments."""
    return ToolCallDelta(index, call.id, call.name, ""), ToolCallDelta(index, arguments=call.arguments)
