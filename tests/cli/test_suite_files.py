"""A suite file the CLI cannot read (binary, UTF-16, a legacy code page, a directory, unreadable, a bad cell) is one
`error:` line naming the file and the fix, exit 1: never "unexpected error", and nothing is stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gensandbox.cli.app import main
from tests.helpers import write_config

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
ROW = {"id": "a", "language": "ko", "category": "c", "messages": [{"role": "user", "content": "서울?"}],
       "target": "서울", "scorer": "exact"}
CSV_HEADER = "id,language,category,input,target,scorer"


def _rows(count: int) -> bytes:
    return "".join(json.dumps({**ROW, "id": str(n)}, ensure_ascii=False) + "\n" for n in range(count)).encode()


# (file name, its bytes, what --suites says, the error line)
CASES = [
    ("image.jsonl", PNG, "image.jsonl",
     "error: image.jsonl: not text (invalid start byte at line 1, byte 0; it holds NUL bytes: a binary file, or "
     "UTF-16 without a byte-order mark); give a text file saved as UTF-8"),
    ("windows.csv", f"{CSV_HEADER}\n1,ko,c,서울?,서울,exact\n".encode("utf-16"), "windows.csv",
     "error: windows.csv: saved as UTF-16, not UTF-8; save it as UTF-8"),
    ("windows.yaml", "- id: a\n".encode("utf-16-be").join([b"\xfe\xff", b""]), "windows.yaml",
     "error: windows.yaml: saved as UTF-16, not UTF-8; save it as UTF-8"),
    ("legacy.csv", f"{CSV_HEADER}\n1,ko,c,서울?,서울,exact\n".encode("cp949"), "legacy.csv",
     "error: legacy.csv: not UTF-8 text (invalid start byte at line 2, byte 48); save it as UTF-8"),
    # the bad byte past the decoder's first chunk: its place counts from the start of the file
    ("long.jsonl", _rows(300) + "서울\n".encode("cp949"), "long.jsonl",
     f"error: long.jsonl: not UTF-8 text (invalid start byte at line 301, byte {len(_rows(300))}); save it as UTF-8"),
    ("kobest.tsv", "premise\talternative_1\talternative_2\tlabel\n".encode("utf-16"), "kobest:kobest.tsv",
     "error: kobest.tsv: saved as UTF-16, not UTF-8; save it as UTF-8"),
    ("args.csv", b"id,language,category,input,scorer,scorer_args\n1,en,c,hi,regex,{pattern}\n", "args.csv",
     'error: args.csv line 2: `scorer_args` is not valid JSON (Expecting property name enclosed in double quotes '
     'at column 2); write one JSON object, e.g. {"pattern": "^yes"}'),
    ("huge.csv", f'{CSV_HEADER}\n1,en,c,"{"a" * 200_000}",a,exact\n'.encode(), "huge.csv",
     "error: huge.csv line 2: not readable as CSV (field larger than field limit (131072)); very long prompts fit "
     "better in a .jsonl suite"),
]


@pytest.fixture
def config(home, tmp_path, upstream) -> Path:
    return write_config(tmp_path, upstream.url, {"echo-a": "echo"})


def _run(capsys, *args: str) -> tuple[int, str]:
    """The exit code and stderr of a command that must print nothing on stdout."""
    code = main(list(args))
    out, err = capsys.readouterr()
    assert out == "", out
    return code, err


@pytest.mark.parametrize("name, content, spec, message", CASES, ids=[case[0] for case in CASES])
def test_a_suite_file_that_cannot_be_read_is_one_line(config, tmp_path, capsys, name, content, spec, message):
    (tmp_path / name).write_bytes(content)
    assert _run(capsys, "run", "-c", str(config), "-m", "echo-a", "-s", spec) == (1, message + "\n")
    assert main(["runs", "-c", str(config)]) == 0
    assert "No runs yet" in capsys.readouterr().out


def test_holdout_commit_says_the_same(config, tmp_path, capsys):
    (tmp_path / "windows.jsonl").write_bytes(_rows(2).decode().encode("utf-16"))
    assert _run(capsys, "holdout", "commit", "windows.jsonl", "-c", str(config)) == (
        1, "error: windows.jsonl: saved as UTF-16, not UTF-8; save it as UTF-8\n")


HINT = ("give a .jsonl, .csv or .yaml suite file, or LAYOUT:PATH for a public benchmark's file or folder "
        "(kmmlu, kobest, haerae, click, qa-jsonl, bfcl)")


@pytest.mark.parametrize("spec, message", [
    ("suites", f"error: suite `suites`: suites is a directory, not a file; {HINT}, e.g. suites/a.jsonl"),
    ("suites/", f"error: suite `suites`: suites is a directory, not a file; {HINT}, e.g. suites/a.jsonl"),
    ("empty", f"error: suite `empty`: empty is a directory, not a file; {HINT}"),
    ("folder.jsonl", f"error: suite `folder`: folder.jsonl is a directory, not a file; {HINT}"),
    ("kobest:empty", "error: no benchmark files (.json, .jsonl, .ndjson, .csv, .tsv) in the folder empty"),
])
def test_a_directory_as_a_suite_says_what_to_give(config, tmp_path, capsys, spec, message):
    for directory in ("suites", "empty", "folder.jsonl"):
        (tmp_path / directory).mkdir()
    (tmp_path / "suites" / "a.jsonl").write_bytes(_rows(1))
    (tmp_path / "suites" / "notes.md").write_text("not a suite")
    assert _run(capsys, "run", "-c", str(config), "-m", "echo-a", "-s", spec) == (1, message + "\n")


def test_an_unreadable_suite_is_one_line(config, tmp_path, capsys, monkeypatch):
    (tmp_path / "locked.jsonl").write_bytes(_rows(1))
    real_open = Path.open

    def locked(self, *args, **kwargs):
        if self.name == "locked.jsonl":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", locked)  # as root (CI containers) chmod 000 would not stop the read
    assert _run(capsys, "run", "-c", str(config), "-m", "echo-a", "-s", "locked.jsonl") == (
        1, "error: locked.jsonl: cannot be read (Permission denied)\n")
