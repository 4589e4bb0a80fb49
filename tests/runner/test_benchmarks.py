"""Public-benchmark loaders: each layout's fixture (tiny, written for these tests) turns into suite items."""

import json
from pathlib import Path

import pytest

from gensandbox.errors import ConfigError, NotFoundError
from gensandbox.runner.benchmarks import LAYOUTS, BenchmarkLayout, detect_layout, load_benchmark

FIXTURES = Path(__file__).parent / "fixtures" / "benchmarks"
KO_INSTRUCTION = "정답의 알파벳만 답하세요."


def load(layout: str, name: str) -> list[dict]:
    return list(load_benchmark(layout, FIXTURES / name))


def prompt(item: dict) -> str:
    return item["messages"][0]["content"]


def options(item: dict) -> list[str]:
    """The "A. …" lines of a multiple-choice prompt, letters checked to run A, B, C, …"""
    lines = [line for line in prompt(item).splitlines() if len(line) > 2 and line[1:3] == ". " and line[0].isupper()]
    assert [line[0] for line in lines] == [chr(ord("A") + i) for i in range(len(lines))]
    return [line[3:] for line in lines]


def assert_schema(item: dict) -> None:
    assert set(item) == {"id", "language", "category", "messages", "target", "scorer"}
    assert isinstance(item["id"], str) and item["id"]
    assert item["language"] in ("ko", "en")
    assert isinstance(item["category"], str) and item["category"]
    assert item["messages"] == [{"role": "user", "content": prompt(item)}] and prompt(item).strip()
    assert item["scorer"] in ("choice", "includes")
    if item["scorer"] == "choice":
        assert item["language"] == "ko" and prompt(item).endswith("\n\n" + KO_INSTRUCTION)
        assert isinstance(item["target"], str) and len(item["target"]) == 1
        assert ord(item["target"]) - ord("A") < len(options(item))
    json.dumps(item)  # plain data, ready for a JSONL suite


# --- licences ---------------------------------------------------------------------------------------------


def test_every_layout_names_its_license_and_source():
    assert set(LAYOUTS) == {"kmmlu", "kobest", "haerae", "click", "bfcl", "qa-jsonl"}
    for name, layout in LAYOUTS.items():
        assert isinstance(layout, BenchmarkLayout) and layout.name == name
        assert layout.license and layout.source
    assert LAYOUTS["kmmlu"].license == "CC-BY-ND-4.0"
    assert LAYOUTS["kobest"].license == "CC-BY-SA-4.0"
    assert LAYOUTS["haerae"].license == "CC-BY-NC-ND-4.0"
    assert "huggingface.co/datasets/HAERAE-HUB/KMMLU" in LAYOUTS["kmmlu"].source
    assert "skt/kobest_v1" in LAYOUTS["kobest"].source
    assert "EunsuKim/CLIcK" in LAYOUTS["click"].source
    assert LAYOUTS["qa-jsonl"].license == "the file's own terms" and LAYOUTS["qa-jsonl"].license_note == ""


def test_restrictive_licenses_carry_a_plain_note():
    for name, layout in LAYOUTS.items():
        if "NC" in layout.license:
            assert "non-commercial" in layout.license_note, name
        if "ND" in layout.license:
            assert "no derivatives" in layout.license_note, name
        if "SA" in layout.license:
            assert "share-alike" in layout.license_note, name
    assert "do not redistribute" in LAYOUTS["click"].license_note  # no licence stated: nothing is granted


# --- KMMLU ------------------------------------------------------------------------------------------------


def test_kmmlu_rows_become_lettered_questions():
    items = load("kmmlu", "kmmlu.csv")
    assert [i["id"] for i in items] == ["kmmlu-1", "kmmlu-2", "kmmlu-3"]
    assert [i["target"] for i in items] == ["A", "C", "D"]  # answer 1-4 → A-D
    assert [i["category"] for i in items] == ["Korean-History", "Math", "Computer-Science"]
    for item in items:
        assert_schema(item)
    assert prompt(items[0]) == "조선을 세운 왕은 누구인가?\n\nA. 태조\nB. 세종\nC. 정조\nD. 고종\n\n" + KO_INSTRUCTION
    assert prompt(items[2]).startswith("다음 파이썬 코드의 출력은?\nprint(2 * 3)\n\nA. 5\n")  # quoted newline kept
    assert options(items[2]) == ["5", "23", "32", "6"]


def test_kmmlu_answer_variants_and_missing_category(tmp_path):
    path = tmp_path / "variants.csv"
    path.write_text("question,A,B,C,D,answer\nQ1,a,b,c,d,2.0\nQ2,a,b,c,d,C\nQ3,a,b,c,d,(D)\nQ4,a,b,c,d, 1 \n",
                    encoding="utf-8")
    items = list(load_benchmark("kmmlu", path))
    assert [i["target"] for i in items] == ["B", "C", "D", "A"]
    assert {i["category"] for i in items} == {"kmmlu"}


def test_kmmlu_also_reads_jsonl(tmp_path):
    path = tmp_path / "kmmlu.jsonl"
    row = {"question": "1+1은?", "A": "1", "B": "2", "C": "3", "D": "4", "answer": 2, "Category": "Math"}
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    (item,) = load_benchmark("kmmlu", path)
    assert (item["target"], item["category"]) == ("B", "Math")


# --- KoBEST -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("task, targets, first_options, in_prompt", [
    ("boolq", ["B", "A", "B"], ["아니오", "예"], ["한라산은 제주도 한가운데", "질문: 한라산은 제주도에 있는가?"]),
    ("copa", ["A", "A", "B"], ["부모가 아이를 병원에 데려갔다.", "아이가 소풍을 떠났다."],
     ["아이가 밤새 열이 났다.", "결과로 가장 알맞은 것은?"]),
    ("hellaswag", ["C", "A", "D"], ["민수는 냄비를 냉장고에 넣었다.", "민수는 물 대신 우유를 마셨다.",
                                    "민수는 가스레인지에 불을 켰다.", "민수는 라면 봉지를 버리고 잠들었다."],
     ["민수는 라면을 끓이려고 냄비에 물을 부었다."]),
    ("sentineg", ["B", "A", "B"], ["부정", "긍정"], ["문장: 이 식당 음식은 정말 맛있었다."]),
    ("wic", ["A", "B", "A"], ["아니오", "예"], ["'배'", "문장 1: [배]가 고파서 밥을 먹었다.",
                                             "문장 2: 항구에 커다란 [배]가 들어왔다."]),
])
def test_kobest_task_is_told_from_the_fields(task, targets, first_options, in_prompt):
    items = load("kobest", f"kobest_{task}.jsonl")
    assert [i["target"] for i in items] == targets
    assert {i["category"] for i in items} == {task}
    assert [i["id"] for i in items] == ["kobest-1", "kobest-2", "kobest-3"]
    assert options(items[0]) == first_options
    for text in in_prompt:
        assert text in prompt(items[0])
    for item in items:
        assert_schema(item)


def test_kobest_copa_asks_for_cause_or_effect():
    effect, cause, _ = load("kobest", "kobest_copa.jsonl")
    assert "원인으로 가장 알맞은 것은?" in prompt(cause) and "원인" not in prompt(effect)


# --- HAE-RAE ----------------------------------------------------------------------------------------------


def test_haerae_1_1_options_as_list_string_or_only_in_the_query():
    listed, stringed, inline = load("haerae", "haerae_v11.jsonl")
    assert [listed["target"], stringed["target"], inline["target"]] == ["A", "C", "B"]
    assert [listed["category"], stringed["category"], inline["category"]] == ["loan_words", "history", "haerae"]
    assert options(listed) == ["자가 촬영", "단체 사진", "풍경 사진", "증명사진", "연속 촬영"]
    assert options(stringed) == ["1392년", "1443년", "1592년", "1910년", "1945년"]
    assert options(inline) == ["놀잇감", "먹을 것", "입을 것", "탈것", "읽을거리"]
    for item in (listed, stringed, inline):
        assert_schema(item)
        text = prompt(item)
        assert "### 선택지" not in text and "### 정답" not in text and "(A)" not in text  # options shown once
        assert text.startswith("다음 질문을 읽고 정답으로 가장 알맞은 것을 고르시요.\n\n### 질문:")
    assert "'셀카'의 순화어로 알맞은 것은?\n\nA. 자가 촬영\n" in prompt(listed)


def test_haerae_1_0_csv_with_options_on_one_line():
    multiline, one_line = load("haerae", "haerae_v10.csv")
    assert (multiline["target"], multiline["id"]) == ("D", "haerae-1")
    assert options(multiline) == ["설날", "단오", "한식", "추석", "동지"]
    assert (one_line["target"], one_line["id"]) == ("B", "haerae-2")
    assert options(one_line) == ["강원도", "충청북도", "전라남도", "경상북도", "경기도"]
    assert prompt(one_line).startswith("다음 중 바다와 닿아 있지 않은 도는?\n\nA. 강원도\n")


def test_haerae_answer_as_number_or_text_and_pipe_options(tmp_path):
    path = tmp_path / "hrb.jsonl"
    rows = [{"query": "가장 큰 수는?", "options": "1|5|3", "answer": "2"},
            {"query": "가장 작은 수는?", "options": ["(A) 4", "(B) 2", "(C) 9"], "answer": "9"},
            {"query": "고르시오 (A) 하나 (B) 둘", "answer": "(b)", "category": "x"}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    items = list(load_benchmark("haerae", path))
    assert [i["target"] for i in items] == ["B", "C", "B"]  # 1-based number; the option's text; a letter
    assert options(items[1]) == ["4", "2", "9"]  # "(A) " prefixes dropped
    assert options(items[2]) == ["하나", "둘"]


# --- CLIcK ------------------------------------------------------------------------------------------------


def test_click_answer_text_becomes_the_letter():
    tradition, reading, topik = load("click", "click.json")
    assert [i["id"] for i in (tradition, reading, topik)] == ["KIIP_tradition_1", "CSAT_korean_22_5", "TK_12"]
    assert [i["target"] for i in (tradition, reading, topik)] == ["B", "A", "E"]
    assert [i["category"] for i in (tradition, reading, topik)] == ["KIIP_tradition", "CSAT_korean", "TK"]
    assert options(topik) == ["봅니다", "볼 겁니다", "보세요", "보자", "봤어요"]
    assert prompt(tradition).startswith("다음은 한국의 전통에 대한 문제이다.\n"
                                        "설날에 먹는 대표적인 음식은 무엇인가?\n\nA. 송편")
    assert prompt(reading).startswith("봄이 오면 마을 뒷산에 진달래가 가득 피고")  # the paragraph leads
    assert "\n\n윗글의 내용과 일치하는 것은?\n\nA. 봄에 진달래가 핀다." in prompt(reading)
    for item in (tradition, reading, topik):
        assert_schema(item)


def test_click_jsonl_with_category_field_and_no_id(tmp_path):
    path = tmp_path / "click.jsonl"
    row = {"paragraph": "", "question": "Q?", "choices": ["x", "y"], "answer": "y", "category": "Korean Law"}
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    (item,) = load_benchmark("click", path)
    assert (item["id"], item["category"], item["target"]) == ("click-1", "Korean Law", "B")


# --- plain question/answer JSONL --------------------------------------------------------------------------


def test_qa_jsonl_rows():
    items = load("qa-jsonl", "qa.jsonl")
    for item in items:
        assert_schema(item)
        assert item["scorer"] == "includes"
    english, korean, number, translate = items
    assert (english["id"], english["category"], english["language"], english["target"]) == (
        "capital-fr", "geography", "en", "Paris")
    assert prompt(english) == "What is the capital of France?"
    assert (korean["id"], korean["category"], korean["language"], korean["target"]) == (
        "qa-jsonl-2", "qa-jsonl", "ko", ["서울", "Seoul"])
    assert (number["id"], number["target"], number["language"]) == ("qa-jsonl-4", "7", "en")  # line 3 is blank
    assert translate["language"] == "en"  # the row's own language wins over the Hangul in it


# --- detection --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, layout", [
    ("kmmlu.csv", "kmmlu"),
    ("kobest_boolq.jsonl", "kobest"), ("kobest_copa.jsonl", "kobest"), ("kobest_hellaswag.jsonl", "kobest"),
    ("kobest_sentineg.jsonl", "kobest"), ("kobest_wic.jsonl", "kobest"),
    ("haerae_v11.jsonl", "haerae"), ("haerae_v10.csv", "haerae"),
    ("click.json", "click"),
    ("qa.jsonl", "qa-jsonl"),
])
def test_detect_layout(name, layout):
    assert detect_layout(FIXTURES / name) == layout


def test_detect_the_five_option_csv_form_of_haerae(tmp_path):
    path = tmp_path / "hrb.csv"
    path.write_text("question,A,B,C,D,E,answer,categories\n물음?,가,나,다,라,마,E,history\n", encoding="utf-8")
    assert detect_layout(path) == "haerae"
    (item,) = load_benchmark("haerae", path)
    assert (item["target"], item["category"], options(item)) == ("E", "history", ["가", "나", "다", "라", "마"])


def test_detect_layout_gives_up_politely(tmp_path):
    unknown = tmp_path / "other.jsonl"
    unknown.write_text('{"prompt": "hi", "completion": "there"}\n')
    broken = tmp_path / "broken.json"
    broken.write_text("[{not json")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert detect_layout(unknown) is None and detect_layout(broken) is None and detect_layout(empty) is None
    with pytest.raises(NotFoundError):
        detect_layout(tmp_path / "absent.csv")


# --- errors -----------------------------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("layout, name, text, message", [
    ("kmmlu", "k.csv", "question,A,B,C,D\nQ,a,b,c,d\n", r"^k\.csv row 1: missing column `answer`$"),
    ("kmmlu", "k.csv", "question,A,B,C,D,answer\nQ,a,b,c,d,1\nQ,a,b,c,d,5\n",
     r"^k\.csv row 2: `answer` must be 1-4 or A-D, got '5'$"),
    ("kmmlu", "k.csv", "question,A,B,C,D,answer\nQ,a,b,c\n", r"^k\.csv row 1: missing value for `D`$"),
    ("kmmlu", "k.csv", "question,A,B,C,D,answer\n ,a,b,c,d,1\n", r"^k\.csv row 1: `question` is empty$"),
    ("kobest", "b.jsonl", '{"paragraph": "p", "question": "q", "label": 1}\n{"paragraph": "p", "question": "q"}\n',
     r"^b\.jsonl row 2: missing field `label`$"),
    ("kobest", "b.jsonl", '{"sentence": "s", "label": 2}\n', r"^b\.jsonl row 1: `label` must be 0-1, got 2$"),
    ("kobest", "b.jsonl", '{"text": "s", "label": 1}\n', r"^b\.jsonl row 1: cannot tell the KoBEST task"),
    ("kobest", "c.jsonl", '{"premise": "p", "question": "왜", "alternative_1": "a", "alternative_2": "b", '
                          '"label": 0}\n', r"^c\.jsonl row 1: `question` must be 원인 or 결과"),
    ("haerae", "h.jsonl", '{"options": ["a", "b"], "answer": "(A)"}\n', r"^h\.jsonl row 1: missing field `query`$"),
    ("haerae", "h.jsonl", '{"query": "no options here", "answer": "(A)"}\n',
     r"^h\.jsonl row 1: no `options`, and none found in `query`"),
    ("haerae", "h.jsonl", '{"query": "q", "options": ["a", "b"], "answer": "(F)"}\n',
     r"^h\.jsonl row 1: `answer` must be 1-2 or A-B or the text of one of the options, got '\(F\)'$"),
    ("click", "c.json", '[{"id": "x_1", "question": "q", "choices": ["a", "b"], "answer": "a"},'
                        ' {"id": "x_2", "question": "q", "choices": ["a", "b"], "answer": "z"}]',
     r"^c\.json row 2: `answer` must be A-B or the text of one of the options, got 'z'$"),
    ("click", "c.json", '[{"id": "x_1", "question": "q", "answer": "a"}]', r"^c\.json row 1: missing field `choices`$"),
    ("click", "c.json", '[["not", "an", "object"]]', r"^c\.json row 1: expected an object with fields, got list$"),
    ("qa-jsonl", "q.jsonl", '{"question": "q", "answer": "a"}\n{"question": "q"}\n',
     r"^q\.jsonl row 2: missing field `answer`$"),
    ("qa-jsonl", "q.jsonl", '{"answer": "a"}\n', r"^q\.jsonl row 1: missing field `question`$"),
    ("qa-jsonl", "q.jsonl", '{"question": "q", "answer": []}\n', r"^q\.jsonl row 1: `answer` is an empty list$"),
    ("qa-jsonl", "q.jsonl", '{"question": "q", "answer": "a"}\n{not json\n', r"^q\.jsonl row 2: not valid JSON"),
    ("qa-jsonl", "q.jsonl", "\n\n", r"^q\.jsonl: no rows$"),
])
def test_bad_rows_name_the_file_row_and_field(tmp_path, layout, name, text, message):
    path = write(tmp_path, name, text)
    with pytest.raises(ConfigError, match=message):
        list(load_benchmark(layout, path))


def test_not_utf8_is_a_config_error(tmp_path):
    path = tmp_path / "k.csv"
    path.write_bytes(b"question,A,B,C,D,answer\n" + "문제,가,나,다,라,1\n".encode("cp949"))
    with pytest.raises(ConfigError, match=r"^k\.csv: not UTF-8 text"):
        list(load_benchmark("kmmlu", path))


def test_missing_file_and_unknown_layout(tmp_path):
    with pytest.raises(NotFoundError, match="absent.csv"):
        load_benchmark("kmmlu", tmp_path / "absent.csv")
    with pytest.raises(ValueError, match=r"unknown benchmark layout `mmlu`; known layouts: kmmlu, kobest, haerae, "
                                         r"click, qa-jsonl"):
        load_benchmark("mmlu", FIXTURES / "kmmlu.csv")


def test_rows_are_read_lazily(tmp_path):
    good = json.dumps({"question": "q", "answer": "a"})
    path = write(tmp_path, "lazy.jsonl", f"{good}\n{good}\n{{broken\n")
    items = load_benchmark("qa-jsonl", path)
    assert next(items)["id"] == "qa-jsonl-1" and next(items)["id"] == "qa-jsonl-2"  # yielded before the bad row
    with pytest.raises(ConfigError, match=r"lazy\.jsonl row 3"):
        next(items)


def test_a_utf8_bom_is_ignored(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffquestion,A,B,C,D,answer\nQ,a,b,c,d,4\n".encode())
    assert detect_layout(path) == "kmmlu"
    assert [i["target"] for i in load_benchmark("kmmlu", path)] == ["D"]
