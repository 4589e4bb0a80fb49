"""Scorers for agent episodes: the calls made (`tool-calls`), the environment's final state (`final-state`), and
calls that should not have been made (`no-tool`). Pure functions over an episode's plain record.

Calls are compared the way function-calling leaderboards compare them: the function's name, then each argument as
typed JSON (a string after Unicode NFKC, case-folding and whitespace collapsing; 3 equals 3.0, "3" does not; lists
element by element; objects key by key). An expected value {"one_of": [...]} accepts any listed value, and with
"optional": true it may be left out. Parallel calls match in any order unless the scorer says `ordered`. With
"strings": "loose" strings are also compared without spaces and the marks , . / - _ * ^, and ' counts as " (as the
Berkeley Function-Calling Leaderboard compares them, so "April 1, 2024" is "April 1 2024" and 2024-04-01 is 2024/04/01).
"""

from __future__ import annotations

import json
import re
import unicodedata
from itertools import permutations

from gensandbox.runner.scorers import Score

AGENT_SCORERS = ("tool-calls", "final-state", "no-tool")
_MAX_PERMUTED = 7  # beyond this many calls a greedy match is used: 7! = 5,040 orders is still instant
_LOOSE_MARKS = re.compile(r"[\s,./\-_*^]")  # what "strings": "loose" leaves out


def check_agent_scorer(name: str, args: dict) -> None:
    """Fail early (ValueError saying what is allowed) on an agent scorer that could not be built."""
    if name == "tool-calls":
        if not isinstance(args.get("calls"), list):
            raise ValueError("the tool-calls scorer needs args.calls: a list of {name, arguments} ([] for none)")
        for calls in [args["calls"], *args.get("alternatives", [])]:
            for call in calls:
                if not isinstance(call, dict) or not isinstance(call.get("name"), str) \
                        or not isinstance(call.get("arguments", {}), dict):
                    raise ValueError(f"tool-calls: each expected call is {{name, arguments}}, not {call!r}")
        if args.get("strings", "loose") != "loose":
            raise ValueError('tool-calls: strings may only be "loose" (ignore spaces and , . / - _ * ^), or left out')
        unknown = set(args) - {"calls", "alternatives", "ordered", "strings"}
    elif name == "final-state":
        if not isinstance(args.get("state"), dict):
            raise ValueError("the final-state scorer needs args.state: the expected values of the state's keys")
        unknown = set(args) - {"state"}
    else:
        unknown = set(args) - {"tools"}
    if unknown:
        raise ValueError(f"the {name} scorer takes no args {', '.join(sorted(unknown))}")


def score_episode(name: str, args: dict, episode: dict) -> Score:
    if name == "tool-calls":
        return tool_calls(episode_calls(episode), args["calls"], args.get("alternatives", []),
                          args.get("ordered", False), loose=args.get("strings") == "loose")
    if name == "final-state":
        return final_state(episode.get("state"), args["state"])
    return no_tool(episode_calls(episode), args.get("tools"))


def episode_calls(episode: dict) -> list[dict]:
    """Every call the model made, in order: {name, arguments (the JSON text as written)}."""
    return [call for step in episode["steps"] if step["kind"] == "model" for call in step.get("tool_calls", [])]


def tool_calls(made: list[dict], expected: list[dict], alternatives: list[list[dict]] = (),
               ordered: bool = False, loose: bool = False) -> Score:
    problems = []
    for option in [expected, *alternatives]:
        problem = _calls_mismatch(made, option, ordered, loose)
        if problem is None:
            return Score(1.0, f"{len(made)} call(s) as expected" if made else "no call, as expected")
        problems.append(problem)
    return Score(0.0, problems[0] + (f" (and {len(alternatives)} alternative(s) differ)" if alternatives else ""))


def final_state(state: dict | None, expected: dict) -> Score:
    if state is None:
        return Score(0.0, "the episode has no environment state to compare")
    for key, wanted in expected.items():
        if key not in state:
            return Score(0.0, f"state has no {key!r}")
        if not values_equal(state[key], wanted):
            return Score(0.0, f"state {key!r} is {_short(state[key])}, expected {_short(wanted)}")
    return Score(1.0, f"state matches on {', '.join(expected)}")


def no_tool(made: list[dict], tools: list[str] | None = None) -> Score:
    called = [call["name"] for call in made if not tools or call["name"] in tools]
    if called:
        return Score(0.0, f"called {', '.join(called)}")
    return Score(1.0, "no tool called" if not tools else f"did not call {', '.join(tools)}")


def _calls_mismatch(made: list[dict], expected: list[dict], ordered: bool, loose: bool) -> str | None:
    """None when `made` matches `expected`; else what differs, in a person's words."""
    if len(made) != len(expected):
        names = ", ".join(call["name"] for call in made) or "none"
        return f"made {len(made)} call(s) ({names}), expected {len(expected)}"
    parsed = []
    for call in made:
        try:
            arguments = json.loads(call["arguments"] or "{}")
        except ValueError:
            return f"{call['name']}: arguments are not JSON: {call['arguments'][:80]!r}"
        parsed.append((call["name"], arguments))
    if ordered or len(made) > _MAX_PERMUTED:
        return _first_problem(parsed, expected, loose) if ordered else _greedy(parsed, expected, loose)
    first = _first_problem(parsed, expected, loose)
    if first is None or any(_first_problem(list(order), expected, loose) is None for order in permutations(parsed)):
        return None
    return first


def _greedy(parsed: list[tuple[str, object]], expected: list[dict], loose: bool) -> str | None:
    left = list(expected)
    for name, arguments in parsed:
        match = next((wanted for wanted in left if call_problem(name, arguments, wanted, loose) is None), None)
        if match is None:
            return f"{name}({_short(arguments)}) matches no expected call"
        left.remove(match)
    return None


def _first_problem(parsed: list[tuple[str, object]], expected: list[dict], loose: bool) -> str | None:
    for (name, arguments), wanted in zip(parsed, expected, strict=True):
        if (problem := call_problem(name, arguments, wanted, loose)) is not None:
            return problem
    return None


def call_problem(name: str, arguments, wanted: dict, loose: bool = False) -> str | None:
    """What is wrong with one call against one expected call; None if nothing."""
    if name != wanted["name"]:
        return f"called {name}, expected {wanted['name']}"
    if not isinstance(arguments, dict):
        return f"{name}: arguments are {type(arguments).__name__}, not an object"
    expected_args = wanted.get("arguments", {})
    for key, value in arguments.items():
        if key not in expected_args:
            return f"{name}: unexpected argument {key!r}"
        if not argument_matches(value, expected_args[key], loose):
            return f"{name}: {key}={_short(value)}, expected {_describe(expected_args[key])}"
    for key, spec in expected_args.items():
        if key not in arguments and not (_is_choice(spec) and spec.get("optional")):
            return f"{name}: argument {key!r} missing"
    return None


def argument_matches(value, spec, loose: bool = False) -> bool:
    """A value against an expected literal, or against {"one_of": [...]} (any listed value)."""
    if _is_choice(spec):
        return any(values_equal(value, option, loose) for option in spec["one_of"])
    return values_equal(value, spec, loose)


def values_equal(got, wanted, loose: bool = False) -> bool:
    """Typed JSON equality with strings normalised and numbers compared by value (bools stay bools)."""
    if isinstance(wanted, bool) or isinstance(got, bool):
        return type(got) is type(wanted) and got == wanted
    if isinstance(wanted, int | float) and isinstance(got, int | float):
        return float(got) == float(wanted)
    if isinstance(wanted, str) and isinstance(got, str):
        return _normal(got, loose) == _normal(wanted, loose)
    if isinstance(wanted, list) and isinstance(got, list):
        return len(got) == len(wanted) and all(values_equal(g, w, loose) for g, w in zip(got, wanted, strict=True))
    if isinstance(wanted, dict) and isinstance(got, dict):
        return got.keys() == wanted.keys() and all(values_equal(got[key], wanted[key], loose) for key in wanted)
    return got is None and wanted is None


def _is_choice(spec) -> bool:
    return isinstance(spec, dict) and isinstance(spec.get("one_of"), list) and set(spec) <= {"one_of", "optional"}


def _normal(text: str, loose: bool = False) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return _LOOSE_MARKS.sub("", text).replace("'", '"') if loose else " ".join(text.split())


def _describe(spec) -> str:
    if _is_choice(spec):
        return "one of " + " / ".join(_short(option) for option in spec["one_of"])
    return _short(spec)


def _short(value, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"
