"""Suites from callers who are not admins: configured and built-in suites, or uploaded files that run no code on
the server and name no model file, checked before the suite is opened (opening imports a Python environment)."""

import json

import pytest

from gensandbox.config import load_config
from gensandbox.errors import UserError
from gensandbox.runner.suite import resolve_suite
from gensandbox.runner.trust import check_suite_spec

ITEM = {"id": "q1", "language": "en", "category": "c", "target": "4", "scorer": "includes",
        "messages": [{"role": "user", "content": "2 + 2?"}]}
AGENT = ITEM | {"scorer": "tool-called", "tools": [{"name": "add", "parameters": {"type": "object"}}]}


@pytest.fixture
def config(home):
    return load_config()


@pytest.fixture
def uploads(tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    return folder


def _suite(folder, rows: list[dict], name: str = "mine.jsonl"):
    path = folder / name
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_built_in_and_configured_suites_are_for_everyone(config):
    assert check_suite_spec("basics-en", config, trusted=False) == "basics-en"
    assert check_suite_spec("tools-en", config, trusted=False) == "tools-en"  # its Python environments: admin's


def test_a_suite_path_on_the_server_is_for_admins_only(config, uploads, tmp_path):
    outside = _suite(tmp_path, [ITEM])
    with pytest.raises(UserError, match="only an admin may run a suite from a path on the server"):
        check_suite_spec(str(outside), config, trusted=False)
    for spec in (str(outside), "../mine.jsonl", "kmmlu:/etc", "/etc/passwd"):
        with pytest.raises(UserError, match="is outside your uploaded suites"):
            check_suite_spec(spec, config, trusted=False, uploads_root=uploads)
    assert check_suite_spec(str(outside), config, trusted=True) == str(outside)


def test_an_uploaded_suite_is_opened_from_the_uploads_folder(config, uploads):
    _suite(uploads, [ITEM])
    spec = check_suite_spec("mine.jsonl", config, trusted=False, uploads_root=uploads)
    assert spec == str((uploads / "mine.jsonl").resolve())
    assert resolve_suite(spec, config).count == 1


def test_an_uploaded_python_environment_is_refused_before_it_can_run(config, uploads):
    marker = uploads / "ran"
    (uploads / "env.py").write_text(f"open({str(marker)!r}, 'w').close()\nclass Env:\n    pass\n")
    for environment in ("env.py:Env", {"class": "env.py:Env", "args": {}}):
        _suite(uploads, [ITEM, AGENT | {"id": "q2", "environment": environment}])
        with pytest.raises(UserError, match="mine.jsonl line 2: a Python environment .* runs code on the server"):
            check_suite_spec("mine.jsonl", config, trusted=False, uploads_root=uploads)
    assert not marker.exists()  # the file was never imported
    declarative = AGENT | {"environment": {"results": [{"tool": "add", "result": 4}]}}
    _suite(uploads, [declarative])
    check_suite_spec("mine.jsonl", config, trusted=False, uploads_root=uploads)


def test_a_yaml_suite_s_defaults_are_checked_too(config, uploads):
    (uploads / "s.yaml").write_text("defaults:\n  environment: env.py:Env\nitems:\n"
                                    "  - {id: q1, language: en, category: c, scorer: includes, target: '4',\n"
                                    "     messages: [{role: user, content: '2 + 2?'}]}\n")
    with pytest.raises(UserError, match="s.yaml defaults: a Python environment"):
        check_suite_spec("s.yaml", config, trusted=False, uploads_root=uploads)


@pytest.mark.parametrize("row, where", [
    (ITEM | {"scorer": {"name": "judge", "args": {"judge": "local:/srv/big.gguf"}}}, "scorer.args.judge"),
    (AGENT | {"environment": {"results": []}, "user": {"instructions": "ask", "model": "local:/srv/u.gguf"}},
     "user.model"),
])
def test_an_uploaded_suite_names_no_model_file(config, uploads, row, where):
    _suite(uploads, [row])
    with pytest.raises(UserError, match=f"mine.jsonl line 1: {where} `local:/srv/.*`: a `local:PATH` model reads"):
        check_suite_spec("mine.jsonl", config, trusted=False, uploads_root=uploads)
