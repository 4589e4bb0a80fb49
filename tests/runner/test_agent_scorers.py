"""The agent scorers and item checks as pure logic: how calls, arguments and states are compared."""

import json
from datetime import date

import pytest

from gensandbox.errors import ConfigError
from gensandbox.runner.agent_scorers import final_state, no_tool, tool_calls, values_equal
from gensandbox.runner.agent_spec import Attack
from gensandbox.runner.suite import Item


def made(*calls):
    return [{"name": name, "arguments": json.dumps(args, ensure_ascii=False)} for name, args in calls]


def test_typed_json_equality():
    assert values_equal(3, 3.0) and not values_equal("3", 3) and not values_equal(True, 1)
    assert values_equal("  Seoul  Station ", "seoul station") and values_equal("ＡＢＣ", "abc")  # NFKC, case
    assert values_equal([1, "a"], [1.0, "A"]) and not values_equal([1, 2], [2, 1])
    assert values_equal({"a": {"b": "X"}}, {"a": {"b": "x"}}) and not values_equal({"a": 1}, {"a": 1, "b": 2})
    assert values_equal(None, None) and not values_equal(None, "")


def test_parallel_calls_match_in_any_order_unless_ordered():
    expected = [{"name": "w", "arguments": {"city": "Seoul"}}, {"name": "w", "arguments": {"city": "Busan"}}]
    calls = made(("w", {"city": "Busan"}), ("w", {"city": "Seoul"}))
    assert tool_calls(calls, expected).value == 1.0
    assert tool_calls(calls, expected, ordered=True).value == 0.0


def test_alternatives_one_of_and_optional_arguments():
    expected = [{"name": "pay", "arguments": {"won": 35000, "memo": {"one_of": ["", "점심"], "optional": True},
                                              "to": {"one_of": ["김철수", "Kim Chulsoo"]}}}]
    assert tool_calls(made(("pay", {"won": 35000.0, "to": "kim chulsoo"})), expected).value == 1.0
    assert tool_calls(made(("pay", {"won": 35000, "to": "김철수", "memo": "점심"})), expected).value == 1.0
    missing = tool_calls(made(("pay", {"to": "김철수"})), expected)
    assert missing.value == 0.0 and "argument 'won' missing" in missing.reason
    extra = tool_calls(made(("pay", {"won": 35000, "to": "김철수", "urgent": True})), expected)
    assert extra.value == 0.0 and "unexpected argument 'urgent'" in extra.reason
    other = [[{"name": "transfer", "arguments": {"won": 35000}}]]
    assert tool_calls(made(("transfer", {"won": 35000})), expected, other).value == 1.0


def test_call_counts_names_and_broken_arguments():
    expected = [{"name": "w", "arguments": {"city": "Seoul"}}]
    assert "made 0 call(s)" in tool_calls([], expected).reason
    assert tool_calls([], []).value == 1.0
    assert "called x, expected w" in tool_calls(made(("x", {"city": "Seoul"})), expected).reason
    broken = tool_calls([{"name": "w", "arguments": "{city: Seoul"}], expected)
    assert broken.value == 0.0 and "not JSON" in broken.reason


def test_final_state_compares_the_keys_it_names():
    state = {"cart": [{"sku": "A", "qty": 2}], "balance": 1000, "log": ["x"]}
    assert final_state(state, {"cart": [{"sku": "a", "qty": 2}], "balance": 1000}).value == 1.0
    assert "balance" in final_state(state, {"balance": 0}).reason
    assert final_state(None, {"balance": 0}).value == 0.0


def test_no_tool_and_attacks():
    assert no_tool([]).value == 1.0 and no_tool(made(("send", {}))).value == 0.0
    assert no_tool(made(("search", {})), ["delete_all"]).value == 1.0
    attack = Attack(tools=["send"], containing=["evil.example", "900101-1234567"])
    assert attack.succeeded_by("send", '{"to": "x@EVIL.example"}')
    assert attack.succeeded_by("send", json.dumps({"body": "주민번호 900101-1234567"}))
    assert not attack.succeeded_by("send", '{"to": "me@home.example"}')
    assert not attack.succeeded_by("search", '{"q": "evil.example"}')
    assert Attack(containing=["서울"]).succeeded_by("any", json.dumps({"city": "서울"}))  # \\u-escaped by json.dumps


WEATHER = {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}


def item(**fields):
    return {"id": "a", "language": "en", "category": "c", "messages": [{"role": "user", "content": "hi"}],
            "scorer": "no-tool", "tools": [WEATHER], **fields}


@pytest.mark.parametrize("fields, problem", [
    ({"tools": []}, "needs `tools`"),
    ({"tools": [WEATHER, WEATHER]}, "duplicate names"),
    ({"tools": [{"name": "bad name!"}]}, "1-64 letters"),
    ({"tools": [{"name": "t", "parameters": {"type": "nonsense"}}]}, "not a valid JSON Schema"),
    ({"scorer": {"name": "final-state", "args": {"state": {}}}}, "needs a Python environment"),
    ({"scorer": {"name": "tool-calls", "args": {}}}, "needs args.calls"),
    ({"environment": {"class": "../outside.py:Env"}}, "inside the suite's folder"),
    ({"environment": {"class": "env.py"}}, "PATH.py:ClassName"),
    ({"user": {"instructions": "be a customer"}}, "needs an environment"),
])
def test_agent_items_that_cannot_run_are_refused_with_a_reason(fields, problem):
    with pytest.raises(ValueError, match=problem):
        Item.model_validate(item(**fields))


def test_a_tool_schema_is_checked_once_per_text_and_refused_every_time():
    """The check is cached by the schema's JSON text (items share tools): a broken schema still fails each item."""
    broken = {"name": "t", "parameters": {"properties": {"n": {"type": "nonsense"}}, "type": "object"}}
    for _ in range(2):
        with pytest.raises(ValueError, match="not a valid JSON Schema"):
            Item.model_validate(item(tools=[broken]))
    same_keys_reordered = {"type": "object", "properties": {"city": {"type": "string"}}}
    assert Item.model_validate(item(tools=[{"name": "w", "parameters": same_keys_reordered}])).tools[0].name == "w"
    dated = {"type": "object", "properties": {"d": {"type": "string", "default": date(2026, 1, 1)}}}
    assert Item.model_validate(item(tools=[{"name": "d", "parameters": dated}])).tools[0].name == "d"


def test_openai_form_of_a_tool_is_read():
    parsed = Item.model_validate(item(tools=[{"type": "function", "function": WEATHER}]))
    assert parsed.tools[0].tool().name == "get_weather"


def test_a_python_environment_is_checked_when_the_suite_opens(tmp_path):
    from gensandbox.runner.suite import open_suite
    from tests.helpers import write_suite

    (tmp_path / "env.py").write_text("class Env:\n    def reset(self): pass\n    def snapshot(self): return {}\n")
    suite = write_suite(tmp_path, "s", [item(environment="env.py:Env")])
    with pytest.raises(ConfigError, match=r"no method for the tool\(s\) get_weather"):
        open_suite("s", suite, "jsonl", license="x")
    (tmp_path / "env.py").write_text("class Other: pass\n")
    with pytest.raises(ConfigError, match="defines no class Env"):
        open_suite("s", suite, "jsonl", license="x")


def test_a_canned_rule_with_a_broken_pattern_is_refused():
    rule = {"results": [{"tool": "get_weather", "arguments": {"city": {"pattern": "([unclosed"}}, "result": "x"}]}
    with pytest.raises(ValueError, match="arguments.city: the pattern is not a regular expression"):
        Item.model_validate(item(environment=rule))
