"""Uploaded suites: each in a folder of its own, opened with the CLI's checks after an untrusted suite's, and
refused with the uploaded file's name (never the server's path) when they carry code or reach outside."""

from __future__ import annotations

import json

import pytest

from gensandbox.config import load_config
from gensandbox.errors import UserError
from gensandbox.runner.uploads import open_uploaded_suite, safe_name, save_upload

KOREAN_ITEM = {"id": "k1", "language": "ko", "category": "knowledge",
               "messages": [{"role": "user", "content": "대한민국의 수도는?"}], "target": "서울", "scorer": "includes"}


def jsonl(*rows: dict) -> bytes:
    return "\n".join(json.dumps(row, ensure_ascii=False) for row in rows).encode()


def test_an_upload_is_stored_apart_and_opened(home, tmp_path):
    uploads = tmp_path / "uploads"
    first = save_upload("내 스위트.jsonl", jsonl(KOREAN_ITEM), uploads)
    second = save_upload("내 스위트.jsonl", jsonl(KOREAN_ITEM), uploads)
    assert first.parent != second.parent and first.parent.parent == uploads
    suite = open_uploaded_suite(first, load_config(None))
    assert suite.count == 1 and next(suite.iter_items()).target == "서울"


@pytest.mark.parametrize(("name", "data", "problem"), [
    ("suite.exe", b"x", "is not a suite file"),
    ("suite.jsonl", b"", "is empty"),
    ("big.jsonl", b"x" * 101, "at most 100 bytes"),
])
def test_bad_uploads_are_refused_before_anything_is_stored(tmp_path, name, data, problem):
    with pytest.raises(UserError, match=problem):
        save_upload(name, data, tmp_path / "uploads", max_bytes=100)
    assert not (tmp_path / "uploads").exists()


def test_names_cannot_climb_out_of_the_upload_folder():
    assert safe_name("../../etc/passwd.jsonl") == "passwd.jsonl"
    assert safe_name("..\\..\\x.yaml") == "x.yaml"
    assert safe_name(".hidden.csv") == "hidden.csv"
    assert "/" not in safe_name("a/b/../c.jsonl")


def test_an_uploaded_python_environment_is_refused_and_never_imported(home, tmp_path):
    marker = tmp_path / "ran"
    (tmp_path / "uploads").mkdir()
    agent = {**KOREAN_ITEM, "scorer": {"name": "no-tool"}, "tools": [],
             "environment": {"class": "env.py:Env"}}
    path = save_upload("agent.jsonl", jsonl(agent), tmp_path / "uploads")
    (path.parent / "env.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\nclass Env: pass\n")
    with pytest.raises(UserError) as refused:
        open_uploaded_suite(path, load_config(None))
    assert "Python environment" in str(refused.value) and str(tmp_path) not in str(refused.value)
    assert not marker.exists()


def test_a_bad_row_is_told_with_the_file_name_not_the_servers_path(home, tmp_path):
    path = save_upload("broken.jsonl", b'{"id": "a", "messages": "not a list"}', tmp_path / "uploads")
    with pytest.raises(UserError) as refused:
        open_uploaded_suite(path, load_config(None))
    assert "broken.jsonl" in str(refused.value) and str(tmp_path) not in str(refused.value)


@pytest.mark.parametrize("reference", ["file:///etc/passwd", "http://169.254.169.254/schema", "other.json"])
def test_a_schema_reference_outside_the_row_is_refused(home, tmp_path, reference):
    tool = {"name": "look", "parameters": {"type": "object", "properties": {"x": {"$ref": reference}}}}
    row = {**KOREAN_ITEM, "tools": [tool], "environment": {"results": [], "default": "ok"},
           "scorer": {"name": "no-tool"}}
    path = save_upload("refs.jsonl", jsonl(row), tmp_path / "uploads")
    with pytest.raises(UserError, match="points outside the row"):
        open_uploaded_suite(path, load_config(None))
