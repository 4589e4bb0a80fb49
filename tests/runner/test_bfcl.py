"""BFCL files as users download them (fixtures written for these tests, in BFCL's layout) → agent items whose
tool-calls and no-tool scorers give BFCL's verdicts: right call 1, wrong argument 0, parallel calls in any order 1."""

import json
import shutil
from pathlib import Path

import pytest

import gensandbox
from gensandbox.config import load_config
from gensandbox.errors import ConfigError, NotFoundError
from gensandbox.runner import resolve_suite
from gensandbox.runner.agent_scorers import check_agent_scorer, score_episode, tool_calls
from gensandbox.runner.benchmarks import LAYOUTS, detect_layout, load_benchmark
from gensandbox.runner.benchmarks.bfcl import FLOAT_NOTE
from gensandbox.runner.suite import Item
from gensandbox.store.opening import open_store
from tests.helpers import write_config
from tests.upstream_agent import AgentUpstream

FIXTURES = Path(__file__).parent / "fixtures" / "bfcl"


def items_of(name: str) -> dict[str, dict]:
    return {item["id"]: item for item in load_benchmark("bfcl", FIXTURES / name)}


def score(item: dict, *calls: tuple[str, dict]) -> float:
    """The item's scorer on an episode in which the model made `calls` in one answer."""
    episode = {"steps": [{"kind": "model", "tool_calls": [{"name": name, "arguments": json.dumps(arguments)}
                                                          for name, arguments in calls]}]}
    scorer = item["scorer"]
    return score_episode(scorer["name"], scorer.get("args", {}), episode).value


def write(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def one_row(tmp_path: Path, row: dict, ground_truth, name: str = "BFCL_v3_simple.json") -> Path:
    write(tmp_path / "possible_answer" / name, [{"id": row["id"], "ground_truth": ground_truth}])
    return write(tmp_path / name, [row])


WEATHER = {"name": "forecast", "description": "Forecast.", "parameters": {"type": "dict", "properties": {
    "city": {"type": "string", "description": "City."}, "days": {"type": "integer", "description": "Days."}},
    "required": ["city", "days"]}}
ASK = [[{"role": "user", "content": "Weather in Ulsan for 2 days?"}]]


def test_layout_is_registered_with_its_licence():
    layout = LAYOUTS["bfcl"]
    assert layout.license == "Apache-2.0" and layout.license_note == ""
    assert "ShishirPatil/gorilla" in layout.source and "berkeley-function-call-leaderboard" in layout.source


def test_simple_rows_become_agent_items_with_json_schema_tools():
    items = items_of("BFCL_v3_simple.json")
    assert list(items) == ["simple_0", "simple_1", "simple_2"]
    tide, fare, booking = items.values()
    for item in items.values():
        assert item["language"] == "en" and item["category"] == "simple" and "environment" not in item
        Item.model_validate(item)  # a valid agent item as the suite reads it
    assert tide["messages"] == [{"role": "user", "content": "How high will the tide be at Busan harbour in 6 hours?"}]
    assert [m["role"] for m in booking["messages"]] == ["system", "user"]
    (tool,) = tide["tools"]
    assert tool["name"] == "ocean_tide_height"  # "." is not allowed in a tool's name: BFCL writes "_" too
    assert tool["parameters"]["type"] == "object" and tool["parameters"]["required"] == ["harbour", "hours_ahead"]
    assert tool["parameters"]["properties"]["datum"] == {"type": "string", "description": "Reference level.",
                                                         "enum": ["MLLW", "MSL"], "default": "MLLW"}
    fare_props = fare["tools"][0]["parameters"]["properties"]
    assert fare_props["distance_km"] == {"type": "number", "format": "float",
                                         "description": "Trip length in kilometres." + FLOAT_NOTE}
    assert fare_props["stops"]["type"] == "array" and fare_props["stops"]["items"] == {"type": "number",
                                                                                     "format": "float"}
    assert fare_props["extras"] == {"description": "Anything else the driver should know."}  # any: no type
    party = booking["tools"][0]["parameters"]["properties"]["party"]
    assert party["type"] == "object" and party["properties"]["adults"]["type"] == "integer"


def test_accepted_values_become_one_of_and_blank_means_optional():
    tide, fare, booking = items_of("BFCL_v3_simple.json").values()
    (call,) = tide["scorer"]["args"]["calls"]
    assert tide["scorer"]["name"] == "tool-calls" and call["name"] == "ocean_tide_height"
    assert tide["scorer"]["args"]["strings"] == "loose" and "ordered" not in tide["scorer"]["args"]
    assert call["arguments"] == {"harbour": {"one_of": ["Busan", "Busan harbour"]}, "hours_ahead": {"one_of": [6]},
                                 "datum": {"one_of": ["", "MLLW"], "optional": True}}  # "" stays a string value
    stops = fare["scorer"]["args"]["calls"][0]["arguments"]["stops"]
    assert stops == {"one_of": [[]], "optional": True}  # not a string parameter: "" only marks it optional
    arguments = booking["scorer"]["args"]["calls"][0]["arguments"]
    assert arguments["party"] == {"one_of": [{"adults": 2, "children": 1}, {"adults": 2}]}
    assert arguments["courses"] == {"one_of": [[{"dish": "jajangmyeon", "portions": 2}]], "optional": True}


def test_a_required_parameter_stays_required_though_blank_is_listed(tmp_path):
    row = {"id": "simple_9", "question": ASK, "function": [WEATHER]}
    path = one_row(tmp_path, row, [{"forecast": {"city": ["Ulsan"], "days": ["", 2]}}])
    (item,) = load_benchmark("bfcl", path)
    assert item["scorer"]["args"]["calls"][0]["arguments"]["days"] == {"one_of": [2]}
    assert score(item, ("forecast", {"city": "Ulsan"})) == 0.0  # BFCL: "missing required parameter"


def test_scores_follow_bfcl_on_simple_rows():
    tide, fare, booking = items_of("BFCL_v3_simple.json").values()
    assert score(tide, ("ocean_tide_height", {"harbour": "busan", "hours_ahead": 6})) == 1.0
    assert score(tide, ("ocean_tide_height", {"harbour": "Busan-Harbour.", "hours_ahead": 6})) == 1.0  # BFCL: loose
    assert score(tide, ("ocean_tide_height", {"harbour": "Busan port", "hours_ahead": 6})) == 0.0
    assert score(tide, ("ocean_tide_height", {"harbour": "Busan Harbour", "hours_ahead": 6, "datum": "MLLW"})) == 1.0
    assert score(tide, ("ocean_tide_height", {"harbour": "Busan", "hours_ahead": 7})) == 0.0  # wrong argument
    assert score(tide, ("ocean_tide_height", {"harbour": "Busan", "hours_ahead": "6"})) == 0.0  # wrong type
    assert score(tide, ("ocean_tide_height", {"harbour": "Busan"})) == 0.0
    assert score(tide, ("ocean_tide_height", {"harbour": "Busan", "hours_ahead": 6, "datum": "MSL"})) == 0.0
    assert score(tide, ("ocean_tide_height", {"harbour": "Busan", "hours_ahead": 6, "tz": "KST"})) == 0.0
    assert score(tide) == 0.0
    assert score(fare, ("fare_estimate", {"distance_km": 12, "night": True})) == 1.0  # an int for a float
    assert score(fare, ("fare_estimate", {"distance_km": 12, "night": "true"})) == 0.0
    assert score(booking, ("book_table", {"restaurant": "Mokran", "party": {"adults": 2}})) == 1.0
    assert score(booking, ("book_table", {"restaurant": "Mokran", "party": {"adults": 2, "children": 1},
                                          "courses": [{"dish": "Jajangmyeon", "portions": 2}]})) == 1.0
    assert score(booking, ("book_table", {"restaurant": "Mokran", "party": {"adults": 2, "pets": 1}})) == 0.0
    assert score(booking, ("book_table", {"restaurant": "Mokran", "party": {"adults": 3}})) == 0.0


def test_multiple_parallel_and_irrelevance_rows():
    (multiple,) = items_of("BFCL_v3_multiple.json").values()
    assert [tool["name"] for tool in multiple["tools"]] == ["weather_forecast", "air_quality"]
    assert score(multiple, ("air_quality", {"city": "Daegu"})) == 1.0
    assert score(multiple, ("weather_forecast", {"city": "Daegu"})) == 0.0  # the other function
    assert score(multiple, ("air_quality", {"city": "Daegu"}), ("air_quality", {"city": "Daegu"})) == 0.0

    (parallel,) = items_of("BFCL_v3_parallel.json").values()
    assert parallel["category"] == "parallel" and len(parallel["scorer"]["args"]["calls"]) == 2
    seoul, jeju = ("weather_forecast", {"city": "Seoul", "days": 3}), ("weather_forecast", {"city": "Jeju", "days": 2})
    assert score(parallel, seoul, jeju) == 1.0 and score(parallel, jeju, seoul) == 1.0  # any order
    assert score(parallel, seoul) == 0.0
    assert score(parallel, seoul, ("weather_forecast", {"city": "Jeju", "days": 3})) == 0.0

    (both,) = items_of("BFCL_v3_parallel_multiple.json").values()
    assert score(both, ("air_quality", {"city": "Gwangju"}), ("weather_forecast", {"city": "Gwangju"})) == 1.0

    (irrelevant,) = items_of("BFCL_v3_irrelevance.json").values()  # no possible_answer file needed
    assert irrelevant["scorer"] == {"name": "no-tool"} and irrelevant["tools"][0]["name"] == "weather_forecast"
    assert score(irrelevant) == 1.0 and score(irrelevant, ("weather_forecast", {"city": "Seoul"})) == 0.0


def test_the_suite_loads_through_resolve_suite_from_a_file_or_a_folder():
    suite = resolve_suite(f"bfcl:{FIXTURES / 'BFCL_v3_parallel.json'}", load_config())
    assert suite.layout == "bfcl" and suite.license == "Apache-2.0" and suite.agent_items == 1
    folder = resolve_suite(f"bfcl:{FIXTURES}", load_config())  # possible_answer/ is read, not taken as items
    assert folder.count == 7 and folder.agent_items == 7 and folder.scorers == ("no-tool", "tool-calls")
    assert folder.categories == ("irrelevance", "multiple", "parallel", "parallel_multiple", "simple")
    items = {item.id: item for item in folder.iter_items()}
    assert items["parallel_0"].tools[0].name == "weather_forecast" and items["simple_0"].environment is None


def test_a_missing_answer_file_is_a_clear_error(tmp_path):
    shutil.copy(FIXTURES / "BFCL_v3_simple.json", tmp_path)
    with pytest.raises(NotFoundError, match=r"BFCL_v3_simple.json: BFCL's answers are not at .*possible_answer"):
        list(load_benchmark("bfcl", tmp_path / "BFCL_v3_simple.json"))
    row = {"id": "simple_5", "question": ASK, "function": [WEATHER]}
    path = one_row(tmp_path / "other", row, [{"forecast": {"city": ["Ulsan"], "days": [2]}}])
    write(path, [row, {**row, "id": "simple_6"}])
    with pytest.raises(ConfigError, match=r"row 2: no ground truth for `simple_6` in possible_answer/"):
        list(load_benchmark("bfcl", path))


def test_unsupported_categories_name_the_supported_ones(tmp_path):
    write(tmp_path / "BFCL_v3_multi_turn_base.json", [{"id": "multi_turn_base_0", "question": ASK * 2}])
    with pytest.raises(ConfigError, match=r"category `multi_turn_base` is not supported.*supported: simple, "):
        list(load_benchmark("bfcl", tmp_path / "BFCL_v3_multi_turn_base.json"))
    shutil.copy(FIXTURES / "BFCL_v3_irrelevance.json", tmp_path)
    with pytest.raises(ConfigError, match=r"not supported: BFCL_v3_multi_turn_base.json \(multi_turn_base\)"):
        list(load_benchmark("bfcl", tmp_path))


def test_a_renamed_file_takes_its_category_from_the_ids(tmp_path):
    row = {"id": "live_simple_3-1-0", "question": ASK, "function": [WEATHER]}
    path = one_row(tmp_path, row, [{"forecast": {"city": ["Ulsan"], "days": [2]}}], name="mine.json")
    (item,) = load_benchmark("bfcl", path)
    assert item["category"] == "live_simple" and score(item, ("forecast", {"city": "Ulsan", "days": 2})) == 1.0


@pytest.mark.parametrize(("row", "ground_truth", "problem"), [
    ({"question": [[{"role": "user", "content": "Hi"}], [{"role": "user", "content": "Again"}]]}, None,
     "`question` has 2 turns; only single-turn categories are supported"),
    ({"question": [[{"role": "tool", "content": "x"}]]}, None, "a message must be {role: system|user|assistant"),
    ({"function": []}, None, "offers no functions"),
    ({"function": [{**WEATHER, "name": "forecast now"}]}, None, "cannot be a tool's name"),
    ({"function": [WEATHER, {**WEATHER, "name": "forecast"}]}, None, "both become the tool name 'forecast'"),
    ({"function": [{**WEATHER, "parameters": {"type": "dict", "properties": {"when": {"type": "datetime"}}}}]},
     None, "forecast.when: type 'datetime' is not one of BFCL's Python types"),
    ({}, [{"rain": {"city": ["Ulsan"]}}], "the ground truth calls 'rain', which is not among the row's functions"),
    ({}, [{"forecast": {"city": "Ulsan"}}], "forecast.city: the accepted values must be a list"),
    ({}, [], "the ground truth must be a non-empty list"),
])
def test_rows_that_cannot_be_expressed_are_errors_naming_the_row(tmp_path, row, ground_truth, problem):
    full = {"id": "simple_0", "question": ASK, "function": [WEATHER], **row}
    path = one_row(tmp_path, full, ground_truth if ground_truth is not None else [{"forecast": {"city": ["x"]}}])
    with pytest.raises(ConfigError) as raised:
        list(load_benchmark("bfcl", path))
    assert str(raised.value).startswith("BFCL_v3_simple.json row 1: ") and problem in str(raised.value)


def test_detection_recognises_data_and_answer_files(tmp_path):
    assert detect_layout(FIXTURES / "BFCL_v3_simple.json") == "bfcl"
    assert detect_layout(FIXTURES / "BFCL_v3_irrelevance.json") == "bfcl"
    answers = FIXTURES / "possible_answer" / "BFCL_v3_simple.json"
    assert detect_layout(answers) == "bfcl"
    with pytest.raises(ConfigError, match=r"holds BFCL's answers \(ground_truth\), not questions; give .*bfcl/BFCL_v3"):
        list(load_benchmark("bfcl", answers))
    with pytest.raises(ConfigError, match=r"this looks like BFCL.*run with `--suites bfcl:"):
        resolve_suite(str(FIXTURES / "BFCL_v3_simple.json"), load_config())


def test_a_bfcl_folder_runs_end_to_end_against_a_scripted_upstream(home, tmp_path):
    """BFCL's live rows may open with a system message: here it is the scripted upstream's plan for its answer."""
    plan = 'TURN 1: forecast {"city": "Seoul", "days": 3} | forecast {"city": "Jeju", "days": 2}'
    question = [[{"role": "system", "content": plan}, {"role": "user", "content": "Seoul 3 days, Jeju 2 days?"}]]
    write(tmp_path / "bfcl" / "BFCL_v3_live_parallel.json", [{"id": "live_parallel_0-0-0", "question": question,
                                                              "function": [WEATHER]}])
    write(tmp_path / "bfcl" / "possible_answer" / "BFCL_v3_live_parallel.json", [{
        "id": "live_parallel_0-0-0", "ground_truth": [{"forecast": {"city": ["Seoul"], "days": [3]}},
                                                      {"forecast": {"city": ["Jeju"], "days": [2]}}]}])
    write(tmp_path / "bfcl" / "BFCL_v3_live_irrelevance.json", [{"id": "live_irrelevance_0-0-0", "question": [
        [{"role": "system", "content": 'TURN 1: forecast {"city": "Seoul", "days": 1}'},
         {"role": "user", "content": "Tell me a joke."}]], "function": [WEATHER]}])
    expected = {"agent-right": (1, 0), "agent-reversed": (1, 0), "agent-wrong": (0, 0), "agent-never": (0, 1)}
    server = AgentUpstream().start()
    try:
        config = write_config(tmp_path, server.url, {name: name for name in expected})
        result = gensandbox.evaluate(list(expected), [f"bfcl:{tmp_path / 'bfcl'}"], config=config, run_id="bfcl")
    finally:
        server.stop()
    assert result.status == "finished"
    store = open_store(load_config(config))
    try:
        samples = {(sample.model, sample.item_id): sample for sample in store.samples("bfcl")}
    finally:
        store.close()
    for model, (parallel, irrelevance) in expected.items():
        got = (samples[model, "live_parallel_0-0-0"].score, samples[model, "live_irrelevance_0-0-0"].score)
        assert got == (parallel, irrelevance), model


def test_loose_strings_compare_as_bfcl_does():
    expected = [{"name": "event", "arguments": {"date": "2024-04-01", "place": "New York, NY", "note": "it's"}}]
    made = [{"name": "event", "arguments": json.dumps({"date": "2024/04/01", "place": "new york,ny", "note": 'it"s'})}]
    assert tool_calls(made, expected, loose=True).value == 1.0
    assert tool_calls(made, expected).value == 0.0  # by default only case and runs of whitespace are forgiven
    with pytest.raises(ValueError, match='strings may only be "loose"'):
        check_agent_scorer("tool-calls", {"calls": [], "strings": "exact"})
