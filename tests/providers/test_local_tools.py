"""Tool calls in Qwen's (Hermes') format, and what the local provider sends to a chat template: pure functions."""

import json
import struct

import pytest

from gensandbox.providers.gguf import chat_template
from gensandbox.providers.local_tools import (
    ToolCallSplitter,
    bare_calls,
    forced_tools,
    grammar_text,
    openai_messages,
    openai_tools,
    split_tool_calls,
    template_takes_tools,
)
from gensandbox.types import ChatRequest, Message, Tool, ToolCall, ToolChoice

WEATHER = Tool("get_weather", "The weather in a city",
               {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
TIME = Tool("get_time", None, None)
NAMES = frozenset({"get_weather", "get_time"})


def numbered(index: int) -> str:
    return f"call_{index}"


def test_one_call_in_tags_becomes_a_tool_call_with_the_text_around_it():
    text = 'Let me look.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    content, calls = split_tool_calls(text, NAMES, new_id=numbered)
    assert content == "Let me look."
    assert calls == (ToolCall("call_0", "get_weather", '{"city": "Paris"}'),)


def test_several_calls_in_order():
    text = ('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n'
            '<tool_call>\n{"name": "get_time", "arguments": {"zone": "서울"}}\n</tool_call>')
    content, calls = split_tool_calls(text, NAMES, new_id=numbered)
    assert content == ""
    assert [(c.id, c.name, json.loads(c.arguments)) for c in calls] == [
        ("call_0", "get_weather", {"city": "Paris"}), ("call_1", "get_time", {"zone": "서울"})]


def test_generated_ids_are_distinct_and_numbered():
    text = '<tool_call>{"name": "get_time", "arguments": {}}</tool_call><tool_call>{"name": "get_time"}</tool_call>'
    _, calls = split_tool_calls(text, NAMES)
    assert calls[0].id.startswith("call_0_") and calls[1].id.startswith("call_1_")
    assert calls[1].arguments == "{}"  # no arguments: an empty object, as OpenAI sends them


def test_arguments_written_as_json_text_are_accepted():
    _, calls = split_tool_calls('<tool_call>{"name": "get_weather", "arguments": "{\\"city\\": \\"Rome\\"}"}'
                                "</tool_call>", NAMES, new_id=numbered)
    assert calls[0].arguments == '{"city": "Rome"}'


def test_a_block_that_is_not_a_call_stays_text():
    text = "<tool_call>\nnot json\n</tool_call> done"
    content, calls = split_tool_calls(text, NAMES)
    assert calls == ()
    assert content == text


def test_a_block_left_open_by_the_stop_sequence_is_a_call():
    """parallel_tool_calls false stops generation at the first `</tool_call>`, which llama.cpp leaves out."""
    content, calls = split_tool_calls('<tool_call>\n{"name": "get_time", "arguments": {}}\n', NAMES, single=True,
                                      new_id=numbered)
    assert (content, calls) == ("", (ToolCall("call_0", "get_time", "{}"),))


def test_bare_call_objects_are_calls_only_when_they_are_the_whole_answer():
    assert bare_calls('{"name": "get_weather", "arguments": {"city": "Paris"}}', NAMES) == [
        ("get_weather", '{"city": "Paris"}')]
    assert len(bare_calls('```json\n{"name": "get_time", "arguments": {}}\n{"name": "get_time", "arguments": {}}\n```',
                          NAMES)) == 2
    assert bare_calls('{"name": "get_weather", "arguments": {}} and more', NAMES) == []
    assert bare_calls('{"name": "send_email", "arguments": {}}', NAMES) == []  # not an offered tool
    assert bare_calls('{"city": "Paris"}', NAMES) == []


def test_bare_calls_honour_single():
    text = '{"name": "get_time", "arguments": {}}\n{"name": "get_weather", "arguments": {"city": "Oslo"}}'
    assert [c.name for c in split_tool_calls(text, NAMES)[1]] == ["get_time", "get_weather"]
    assert [c.name for c in split_tool_calls(text, NAMES, single=True)[1]] == ["get_time"]


def test_a_json_answer_that_is_no_call_is_kept_whole():
    assert split_tool_calls('{"answer": 4}', NAMES) == ('{"answer": 4}', ())


def stream(pieces: list[str], single: bool = False) -> tuple[list[str], list[ToolCall]]:
    splitter = ToolCallSplitter(NAMES, single, numbered)
    shown, calls = [], []
    for piece in [*pieces, None]:
        text, found = splitter.feed(piece) if piece is not None else splitter.finish()
        shown.append(text)
        calls.extend(found)
    return shown, calls


def test_streamed_text_is_shown_as_it_comes_until_a_tag_may_begin():
    shown, calls = stream(["Hello", " there", " <tool", "_call>\n{\"name\": \"get_time\", ", '"arguments": {}}',
                           "\n</tool_call>", "\nBye"])
    assert shown[:2] == ["Hello", " there"]
    assert shown[2] == ""  # "<tool" may be the start of a tag: held back
    assert "".join(shown) == "Hello thereBye"
    assert calls == [ToolCall("call_0", "get_time", "{}")]


def test_streamed_text_that_only_looked_like_a_tag_is_shown():
    shown, calls = stream(["a <to", "y> b"])
    assert "".join(shown) == "a <toy> b" and calls == []


def test_a_streamed_answer_starting_like_json_is_held_to_its_end():
    shown, calls = stream(['{"name": "get_weather", ', '"arguments": {"city": "Paris"}}'])
    assert shown == ["", "", ""]
    assert calls == [ToolCall("call_0", "get_weather", '{"city": "Paris"}')]
    shown, calls = stream(['{"answer"', ": 4}"])
    assert "".join(shown) == '{"answer": 4}' and calls == []


def test_messages_in_openai_form_with_calls_and_results():
    messages = (Message("user", "Weather?"),
                Message("assistant", "", tool_calls=(ToolCall("call_0", "get_weather", '{"city": "Paris"}'),)),
                Message("tool", '{"sky": "clear"}', tool_call_id="call_0"))
    assert openai_messages(messages) == [
        {"role": "user", "content": "Weather?"},
        # arguments as a mapping: templates write them with tojson (Hugging Face's convention)
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "content": '{"sky": "clear"}', "tool_call_id": "call_0"}]


def test_tools_in_openai_form():
    assert openai_tools((WEATHER, TIME)) == [
        {"type": "function", "function": {"name": "get_weather", "description": "The weather in a city",
                                          "parameters": WEATHER.parameters}},
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}]


def request(choice: ToolChoice | None) -> ChatRequest:
    return ChatRequest(model="m", messages=(Message("user", "hi"),), tools=(WEATHER, TIME), tool_choice=choice)


def test_forced_tools_by_tool_choice():
    assert forced_tools(request(None)) == ()
    assert forced_tools(request(ToolChoice("auto"))) == ()
    assert forced_tools(request(ToolChoice("required"))) == (WEATHER, TIME)
    assert forced_tools(request(ToolChoice("function", "get_time"))) == (TIME,)
    with pytest.raises(ValueError, match="send_email"):
        forced_tools(request(ToolChoice("function", "send_email")))


def test_grammar_forces_call_blocks_and_llama_cpp_accepts_it():
    from llama_cpp import LlamaGrammar

    single = grammar_text((WEATHER,), None, several=False)
    assert 'root ::= ("<tool_call>\\n" tool-call-json "\\n</tool_call>")' in single
    assert '"\\"get_weather\\""' in single  # the name is fixed
    several = grammar_text((WEATHER, TIME), {"type": "object"}, several=True)
    assert "| (answer-json)" in several and ")*" in several
    for text in (single, several, grammar_text((), {"type": "object"}, several=False)):
        LlamaGrammar.from_string(text, verbose=False)


def test_template_must_render_tools_and_ask_for_tagged_calls():
    assert template_takes_tools("{% if tools %}...<tool_call>...{% endif %}")
    assert not template_takes_tools("{% for m in messages %}{{ m.content }}{% endfor %}")
    assert not template_takes_tools("{% if tools %}{{ tools | tojson }}{% endif %}")  # another call format
    assert not template_takes_tools(None)


def gguf(path, entries: list[tuple[str, int, bytes]]):
    """A minimal GGUF header: (key, value type, encoded value) entries, no tensors."""
    def text(value: str) -> bytes:
        return struct.pack("<Q", len(value.encode())) + value.encode()

    body = b"".join(text(key) + struct.pack("<I", kind) + value for key, kind, value in entries)
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, len(entries)) + body)
    return path


def test_chat_template_read_from_the_header_past_arrays(tmp_path):
    def text(value: str) -> bytes:
        return struct.pack("<Q", len(value)) + value.encode()

    tokens = struct.pack("<IQ", 8, 3) + text("a") + text("bb") + text("ccc")  # an array of strings
    scores = struct.pack("<IQ", 6, 2) + struct.pack("<ff", 0.5, 1.5)  # an array of floats
    path = gguf(tmp_path / "m.gguf", [("general.alignment", 4, struct.pack("<I", 32)),
                                      ("tokenizer.ggml.tokens", 9, tokens), ("tokenizer.ggml.scores", 9, scores),
                                      ("tokenizer.chat_template", 8, text("{{ messages }}"))])
    assert chat_template(path) == "{{ messages }}"
    assert chat_template(gguf(tmp_path / "base.gguf", [("general.name", 8, text("base"))])) is None
    (tmp_path / "other.bin").write_bytes(b"not a gguf file")
    assert chat_template(tmp_path / "other.bin") is None


def test_a_schema_llama_cpp_cannot_express_is_said_by_parameter():
    with pytest.raises(ValueError, match="response_format"):
        grammar_text((), {"type": "string", "pattern": "[a-z]+"}, several=False)  # no ^...$ anchors
