"""The ledger through the command line: an evaluation's calls land in it, and it moves between machines
(export → import elsewhere → verify) without losing a byte; damage is named in one line."""

from pathlib import Path

import orjson
import pytest

from gensandbox.cli.app import main
from tests.helpers import write_config, write_suite


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def evaluated(home, tmp_path, upstream, capsys) -> Path:
    """A run of 12 items against the loopback model, with full-content privacy."""
    config = write_config(tmp_path, upstream.url, {"echo": "echo"}, extra='[ledger]\nprivacy = "full"\n')
    items = [{"id": f"i{n}", "language": "en", "category": "c", "target": "yes", "scorer": "includes",
              "messages": [{"role": "user", "content": f"item {n} yes"}]} for n in range(12)]
    suite = write_suite(tmp_path, "twelve", items)
    code, _, err = cli(capsys, "run", "-c", str(config), "-m", "echo", "-s", str(suite), "--run-id", "r1",
                       "--no-cache")
    assert code == 0, err
    return config


def test_a_run_leaves_one_event_per_call_and_the_ledger_verifies(evaluated, home, capsys):
    code, out, _ = cli(capsys, "ledger", "verify", "-c", str(evaluated))
    assert code == 0 and "OK" in out and "13 records, 1 signed checkpoints" in out
    from gensandbox.ledger.sqlite import SQLiteLedger

    backend = SQLiteLedger(home / "ledger.db")
    calls = [orjson.loads(line) for line in backend.lines()][:-1]
    backend.close()
    assert {c["gensandbox.run_id"] for c in calls} == {"r1"} and len(calls) == 12
    first = calls[0]
    assert first["gen_ai.provider.name"] == "openai" and first["gensandbox.source"] == "run"
    assert first["gen_ai.input.messages"][0]["content"].startswith("item ")  # privacy "full" keeps content
    assert first["gen_ai.output.messages"][0]["content"] == first["gen_ai.input.messages"][0]["content"]


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_export_import_elsewhere_and_verify_without_loss(evaluated, home, tmp_path, monkeypatch, capsys, fmt):
    export = tmp_path / f"ledger.{fmt}"
    code, out, _ = cli(capsys, "ledger", "export", "-o", str(export), "-c", str(evaluated))
    assert code == 0 and "exported 14 records" in out and "verified" in out  # 13, then the export's closing checkpoint
    public = tmp_path / "operator.pub"
    assert cli(capsys, "ledger", "public-key", "-o", str(public))[0] == 0
    assert cli(capsys, "ledger", "verify", str(export), "--public-key", str(public))[0] == 0

    elsewhere = tmp_path / "regulator"
    elsewhere.mkdir()
    monkeypatch.setenv("GENSANDBOX_HOME", str(elsewhere))
    code, out, _ = cli(capsys, "ledger", "import", str(export), "--public-key", str(public))
    assert code == 0 and "imported 14 records" in out and "verified again" in out
    code, _, err = cli(capsys, "ledger", "import", str(export), "--public-key", str(public))
    assert code != 0 and "already has records" in err
    code, out, _ = cli(capsys, "ledger", "verify", "--public-key", str(public))
    assert code == 0 and "14 records" in out

    # The regulator's own export of what it imported is byte for byte the operator's (JSONL): nothing was lost.
    if fmt == "jsonl":
        again = tmp_path / "again.jsonl"
        from gensandbox.ledger.exports import write_export
        from gensandbox.ledger.sqlite import SQLiteLedger

        backend = SQLiteLedger(elsewhere / "ledger.db")
        write_export(backend.lines(), again, "jsonl")
        backend.close()
        assert again.read_bytes() == export.read_bytes()

    # In its new home the ledger verifies and exports with no flags: the import kept the operator's public key.
    code, out, err = cli(capsys, "ledger", "verify")
    assert code == 0 and "14 records, 2 signed checkpoints" in out, err
    code, out, err = cli(capsys, "ledger", "export", "-o", str(tmp_path / f"re-export.{fmt}"))
    assert code == 0 and "exported 15 records" in out, err


def test_a_tampered_export_is_refused_with_the_record_named(evaluated, tmp_path, capsys):
    export = tmp_path / "ledger.jsonl"
    assert cli(capsys, "ledger", "export", "-o", str(export), "-c", str(evaluated))[0] == 0
    public = tmp_path / "operator.pub"
    cli(capsys, "ledger", "public-key", "-o", str(public))
    lines = export.read_bytes().splitlines(keepends=True)
    lines[4] = lines[4].replace(b'"gen_ai.usage.output_tokens":', b'"gen_ai.usage.output_tokens":1')
    export.write_bytes(b"".join(lines))
    code, _, err = cli(capsys, "ledger", "verify", str(export), "--public-key", str(public))
    assert code == 1 and "record 5 is the first bad one" in err and "altered" in err and "\n" == err[-1]
    assert err.count("\n") == 1
    code, _, err = cli(capsys, "ledger", "import", str(export), "--public-key", str(public))
    assert code != 0 and "nothing imported" in err


def test_bad_input_gets_one_line(home, tmp_path, capsys):
    code, _, err = cli(capsys, "ledger", "verify", str(tmp_path / "missing.jsonl"), "--public-key",
                       str(tmp_path / "missing.pub"))
    assert code != 0 and err.count("\n") == 1 and "not found" in err
    (tmp_path / "x.pub").write_text("not a key")
    code, _, err = cli(capsys, "receipt", "verify", "gsr1.e30.AA", "--public-key", str(tmp_path / "x.pub"))
    assert code != 0 and "not a PEM public key" in err
    code, _, err = cli(capsys, "ledger", "export", "-o", str(tmp_path / "out.csv"))
    assert code != 0 and "--format jsonl or parquet" in err


def test_the_signing_key_is_private_to_its_owner(home, capsys):
    code, out, _ = cli(capsys, "ledger", "public-key")
    assert code == 0 and out.startswith("-----BEGIN PUBLIC KEY-----")
    key = home / "keys" / "ledger-ed25519.pem"
    assert key.stat().st_mode & 0o777 == 0o600 and key.parent.stat().st_mode & 0o777 == 0o700
    key.chmod(0o644)
    code, _, err = cli(capsys, "ledger", "public-key")
    assert code != 0 and "chmod 600" in err


def _export_lines(capsys, config, path: Path) -> list[bytes]:
    code, _, err = cli(capsys, "ledger", "export", "-o", str(path), "-c", str(config))
    assert code == 0, err
    return path.read_bytes().splitlines(keepends=True)


def test_an_export_cut_anywhere_is_caught_even_just_after_a_checkpoint(home, tmp_path, upstream, capsys):
    config = write_config(tmp_path, upstream.url, {"echo": "echo"}, extra="[ledger]\ncheckpoint_every = 5\n")
    items = [{"id": f"i{n}", "language": "en", "category": "c", "target": "x", "scorer": "includes",
              "messages": [{"role": "user", "content": f"x {n}"}]} for n in range(20)]
    # Two runs: each ends with a signed checkpoint, whatever groups its events were flushed in (a fast run may
    # flush all its events at once, so `checkpoint_every` alone does not promise a checkpoint mid-run).
    for part, chunk in enumerate((items[:10], items[10:])):
        code, _, err = cli(capsys, "run", "-c", str(config), "-m", "echo", "-s",
                           str(write_suite(tmp_path, f"t{part}", chunk)), "--no-cache")
        assert code == 0, err
    lines = _export_lines(capsys, config, tmp_path / "full.jsonl")
    kinds = [orjson.loads(line)["kind"] for line in lines]
    assert kinds.count("gensandbox.checkpoint") >= 3 and kinds[-1] == "gensandbox.checkpoint"
    for kept in range(1, len(lines)):
        cut = tmp_path / "cut.jsonl"
        cut.write_bytes(b"".join(lines[:kept]))
        code, _, err = cli(capsys, "ledger", "verify", str(cut), "-c", str(config))
        assert code == 1 and "BAD" in err and "cut from the end" in err, (kept, kinds[kept - 1], err)
    assert cli(capsys, "ledger", "verify", str(tmp_path / "full.jsonl"), "-c", str(config))[0] == 0


def test_a_published_head_catches_an_earlier_export_passed_off_as_the_whole(evaluated, tmp_path, capsys):
    earlier = tmp_path / "earlier.jsonl"
    _export_lines(capsys, evaluated, earlier)
    code, out, _ = cli(capsys, "ledger", "verify", "-c", str(evaluated))
    published = out.split("head: ", 1)[1].split("  (")[0].split()  # --records N --head HASH, as printed
    assert code == 0 and published[0] == "--records" and published[2] == "--head"
    code, _, err = cli(capsys, "run", "-c", str(evaluated), "-m", "echo", "-s", str(write_suite(tmp_path)),
                       "--no-cache")
    assert code == 0, err
    later = tmp_path / "later.jsonl"
    _export_lines(capsys, evaluated, later)
    assert cli(capsys, "ledger", "verify", str(later), *published, "-c", str(evaluated))[0] == 0
    code, _, err = cli(capsys, "ledger", "verify", str(earlier), "-c", str(evaluated))
    assert code == 0  # on its own, an earlier complete export verifies…
    newer = ["--records", str(len(later.read_bytes().splitlines()))]
    code, _, err = cli(capsys, "ledger", "verify", str(earlier), *newer, "-c", str(evaluated))
    assert code == 1 and "published head" in err and "cut short or rewritten" in err  # …but not against a later head
    wrong = ["--records", published[1], "--head", "0" * 64]
    code, _, err = cli(capsys, "ledger", "verify", *wrong, "-c", str(evaluated))
    assert code == 1 and "should be the published head" in err
    code, _, err = cli(capsys, "ledger", "verify", "--head", "xyz", "-c", str(evaluated))
    assert code == 2 and "64 hexadecimal digits" in err
