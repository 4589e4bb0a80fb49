"""Benchmark files as their authors publish them: HAE-RAE 1.0's CSVs, CLIcK's CSAT items, KoBEST's original TSVs.

The fixtures carry the real headers and value conventions (see benchmarks/__init__.py for where each was
checked) with rows written for these tests; no published item is copied.
"""

import json
from pathlib import Path

import pytest

from gensandbox.config import load_config
from gensandbox.errors import ConfigError, NotFoundError
from gensandbox.runner import resolve_suite
from gensandbox.runner.benchmarks import detect_layout, load_benchmark
from tests.runner.test_benchmarks import FIXTURES, assert_schema, load, options, prompt


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


# --- HAE-RAE 1.0 --------------------------------------------------------------------------------------------


def test_haerae_1_0_published_csv_with_lower_case_columns():
    five, four, five_again, three = load("haerae", "HAERAE-Bench-v1-HI.csv")
    assert [i["target"] for i in (five, four, five_again, three)] == ["C", "A", "B", "C"]  # "c", "a", "b", "c"
    assert options(five) == ["태조", "세종", "순종", "영조", "정조"]
    assert options(four) == ["세종", "세조", "태종", "성종"]  # an empty `e`: four options
    assert options(three) == ["견훤", "궁예", "왕건"]
    assert prompt(four).startswith("훈민정음을 반포한 왕은?\n\nA. 세종\n")
    assert {i["category"] for i in (five, four, five_again, three)} == {"history"}  # from …-v1-HI.csv
    assert [i["id"] for i in (five, four)] == ["haerae-1", "haerae-2"]
    for item in (five, four, five_again, three):
        assert_schema(item)
    assert detect_layout(FIXTURES / "HAERAE-Bench-v1-HI.csv") == "haerae"


def test_haerae_1_0_one_letter_answer_is_the_column_not_an_option_text(tmp_path):
    path = write(tmp_path, "letters.csv",
                 "question,a,b,c,d,e,answer,split\n알파벳 순서로 둘째 글자는?,b,a,c,d,,a,test\n")
    (item,) = load_benchmark("haerae", path)
    assert item["target"] == "A" and options(item) == ["b", "a", "c", "d"]
    assert item["category"] == "haerae"  # no category column, and not a …-v1-XX.csv file


def test_haerae_1_0_gap_in_the_options_is_refused(tmp_path):
    path = write(tmp_path, "gap.csv", "question,a,b,c,d,e,answer,split\n물음?,가,나,,라,,b,test\n")
    with pytest.raises(ConfigError, match=r"^gap\.csv row 1: option `c` is empty but a later option is not"):
        list(load_benchmark("haerae", path))


# --- CLIcK CSAT ---------------------------------------------------------------------------------------------


def test_click_csat_letter_prefixes_are_dropped_and_section_references_kept():
    port, sections, spelling, unordered, parenthesised = load("click", "click_csat.json")
    assert [i["target"] for i in (port, sections, spelling, unordered, parenthesised)] == ["B", "B", "C", "D", "A"]
    assert options(port) == ["서울", "부산", "대구", "광주", "대전"]  # "[A] : 서울" …, answer "[B] : 부산"
    assert options(spelling) == ["됬다", "몇일", "돼지", "웬지"]  # "[A] :됬다": no space after the colon
    # "[A]에서 …" points at passage section [A]: the letters are part of the text and stay.
    assert options(sections)[:2] == ["[A]에서는 여름을 다룬다.", "[B]에서는 가을을 다룬다."]
    # Letters out of order are references too ("[A] : …" twice): kept, and the answer matched as published.
    assert options(unordered) == ["[A] : 날씨가 맑다", "[A] : 비가 온다", "[B] : 비가 온다", "[B] : 해가 뜬다"]
    assert options(parenthesised) == ["가시다", "갔다", "가겠다"]  # answer "가시다" matches once "(A) " is dropped
    assert {i["category"] for i in (port, sections, spelling)} == {"CSAT_korean"}
    for item in (port, sections, spelling, unordered, parenthesised):
        assert_schema(item)


def test_click_prefixed_answer_with_plain_choices_and_a_disagreeing_letter(tmp_path):
    rows = [{"id": "CSAT_korean_1", "question": "수도는?", "choices": ["부산", "서울"], "answer": "[B] : 서울"}]
    (item,) = load_benchmark("click", write(tmp_path, "plain.json", json.dumps(rows, ensure_ascii=False)))
    assert item["target"] == "B" and options(item) == ["부산", "서울"]
    rows[0]["answer"] = "[A] : 서울"
    with pytest.raises(ConfigError, match=r"^bad\.json row 1: `answer` '\[A\] : 서울' is marked A but its text is "
                                          r"option B; fix the letter or the text$"):
        list(load_benchmark("click", write(tmp_path, "bad.json", json.dumps(rows, ensure_ascii=False))))


# --- KoBEST's original TSVs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("task, ids, targets, first_options, in_prompt", [
    ("boolq", ["1", "2", "3", "4"], ["B", "A", "B", "A"], ["아니오", "예"],
     ["독도는 경상북도 울릉군에 속한 섬이다.", "질문: 독도는 울릉군에 속하는가?"]),
    ("copa", ["1", "2", "3"], ["A", "A", "B"], ["방 안이 시원해졌다.", "방 안이 더워졌다."],
     ["창문을 열어 두었다.", "결과로 가장 알맞은 것은?"]),
    ("hellaswag", ["kobest-1", "kobest-2", "kobest-3"], ["C", "C", "A"],
     ["영희는 우산을 먹었다.", "영희는 우산으로 밥을 지었다.", "영희는 우산을 쓰고 빗속을 걸었다.",
      "영희는 우산을 냉동실에 넣었다."],
     ["영희는 우산을 챙겨 집을 나섰다."]),
    ("sentineg", ["1001", "1002", "1003"], ["A", "B", "A"], ["부정", "긍정"], ["문장: 이 영화는 재미있지 않았다."]),
    ("wic", ["1", "2", "3"], ["A", "B", "A"], ["아니오", "예"],
     ["'밤'", "문장 1: 가을에 밤을 주워 삶아 먹었다.", "문장 2: 밤이 깊어 모두 잠들었다."]),
])
def test_kobest_datarepo_tsvs(task, ids, targets, first_options, in_prompt):
    items = load("kobest", f"kobest_{task}.tsv")
    assert [i["id"] for i in items] == ids  # the TSV's own ID; HellaSwag's has none
    assert [i["target"] for i in items] == targets
    assert {i["category"] for i in items} == {task}  # COPA, which also has a `sentence`, is not SentiNeg
    assert options(items[0]) == first_options
    for text in in_prompt:
        assert text in prompt(items[0])
    for item in items:
        assert_schema(item)
    assert detect_layout(FIXTURES / f"kobest_{task}.tsv") == "kobest"


def test_kobest_copa_tsv_question_with_a_trailing_space_asks_for_the_cause():
    _, cause, _ = load("kobest", "kobest_copa.tsv")  # question "원인 "
    assert "위 문장의 원인으로 가장 알맞은 것은?" in prompt(cause)


def test_kobest_sentineg_train_and_dev_column_orders_and_nikl_boolq_header(tmp_path):
    train = write(tmp_path, "train.tsv", "ID\tText\tLabel\r\n1\t맛이 좋다.\t1\r\n")
    dev = write(tmp_path, "dev.tsv", "ID\tLabel\tText\r\n7\t0\t맛이 없다.\r\n")
    nikl = write(tmp_path, "SKT_BoolQ_Dev.tsv",
                 "ID\tText\tQuestion\tAnswer(FALSE = 0, TRUE = 1)\n"
                 "3\t물은 100도에서 끓는다.\t물은 100도에서 끓는가?\t1\n")
    assert [(i["category"], i["target"]) for i in load_benchmark("kobest", train)] == [("sentineg", "B")]
    assert [(i["id"], i["target"]) for i in load_benchmark("kobest", dev)] == [("7", "A")]
    assert [(i["category"], i["target"]) for i in load_benchmark("kobest", nikl)] == [("boolq", "B")]
    assert {detect_layout(p) for p in (train, dev, nikl)} == {"kobest"}


@pytest.mark.parametrize("name, text, message", [
    ("copa.tsv", "ID\tsentence\tquestion\t1\t2\tAnswer\n1\t비가 왔다.\t결과\t젖었다.\t말랐다.\t3\n",
     r"^copa\.tsv row 1: `Answer` must be 1-2, got 3$"),
    ("copa.tsv", "ID\tsentence\tquestion\t1\t2\tAnswer\n1\t비가 왔다.\t결과\t젖었다.\t말랐다.\tTRUE\n",
     r"^copa\.tsv row 1: `Answer` must be 1-2, got 'TRUE'$"),
    ("copa.tsv", "ID\tsentence\tquestion\t1\tAnswer\n1\t비가 왔다.\t결과\t젖었다.\t1\n",
     r"^copa\.tsv row 1: missing column `2`$"),
    ("wic.tsv", "ID\tTarget\tSENTENCE1\tSENTENCE2\tANSWER\n1\t배\t배가 고프다.\t배를 탔다.\t아마도\n",
     r"^wic\.tsv row 1: `ANSWER` must be 0-1 or true/false, got '아마도'$"),
    ("boolq.tsv", "ID\tText\tQuestion\tAnswer\n1\t본문\t\tTRUE\n", r"^boolq\.tsv row 1: `Question` is empty$"),
])
def test_kobest_tsv_bad_rows_name_the_published_column(tmp_path, name, text, message):
    with pytest.raises(ConfigError, match=message):
        list(load_benchmark("kobest", write(tmp_path, name, text)))


# --- a plain path that is a public benchmark ----------------------------------------------------------------


@pytest.mark.parametrize("name, layout, title", [
    ("kmmlu.csv", "kmmlu", "KMMLU"),
    ("HAERAE-Bench-v1-HI.csv", "haerae", "HAE-RAE"),
    ("click_csat.json", "click", "CLIcK"),
    ("kobest_copa.tsv", "kobest", "KoBEST"),
    ("kobest_wic.jsonl", "kobest", "KoBEST"),
])
def test_plain_path_that_looks_like_a_benchmark_says_how_to_run_it(home, name, layout, title):
    path = str(FIXTURES / name)
    with pytest.raises(ConfigError) as caught:
        resolve_suite(path, load_config())
    message = str(caught.value)
    assert message.endswith(f"; this looks like {title}; run with `--suites {layout}:{path}`")
    assert "\n" not in message
    assert resolve_suite(f"{layout}:{path}", load_config()).layout == layout  # and the advice works


def test_plain_path_that_is_no_benchmark_keeps_its_own_error(home, tmp_path):
    broken = write(tmp_path, "mine.jsonl", '{"id": "x", "messages": []}\n')
    with pytest.raises(ConfigError) as caught:
        resolve_suite(str(broken), load_config())
    assert "looks like" not in str(caught.value)
    with pytest.raises(NotFoundError, match="unknown suite"):
        resolve_suite(str(write(tmp_path, "notes.json", '{"title": "not a benchmark"}')), load_config())
