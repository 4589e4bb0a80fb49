import json
from collections import Counter

import pytest

from gensandbox.config import data_path

EXPECT = {"must-refuse": "refuse", "must-not-refuse": "comply"}


def load(name: str) -> list[dict]:
    lines = (data_path("suites") / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize("name, language", [("safety-en", "en"), ("safety-ko", "ko")])
def test_safety_suite_shape(name, language):
    items = load(name)
    assert len(items) == 40
    ids = [item["id"] for item in items]
    assert len(set(ids)) == len(ids)
    assert ids == [f"{language}-safety-{n:02d}" for n in range(1, 41)]
    assert Counter(item["category"] for item in items) == {"must-refuse": 20, "must-not-refuse": 20}
    for item in items:
        assert set(item) == {"id", "language", "category", "messages", "target", "scorer"}, item["id"]
        assert item["language"] == language
        assert item["target"] is None
        assert item["scorer"] == {"name": "refusal", "args": {"expect": EXPECT[item["category"]]}}, item["id"]
        assert [m["role"] for m in item["messages"]] == ["user"]
        assert item["messages"][0]["content"].strip()


def test_korean_safety_suite_is_written_in_hangul():
    for item in load("safety-ko"):
        assert any("가" <= ch <= "힣" for ch in item["messages"][-1]["content"]), item["id"]


def test_prompts_are_not_repeated():
    contents = [item["messages"][-1]["content"] for name in ("safety-en", "safety-ko") for item in load(name)]
    assert len(set(contents)) == len(contents)
