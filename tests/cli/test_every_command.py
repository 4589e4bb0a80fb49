"""Every command `gensandbox --help` lists, run in a fresh GENSANDBOX_HOME: with no config and with the repository's
gensandbox.example.toml, with no arguments and with the plausible ones below. Each must work (exit 0) or say why
not cleanly: exit 1 with exactly one `error: …` line, or exit 2 with Click's usage message (the usage line and one
`Error: …` line). Never a traceback, never "unexpected error".

The command tree is walked from the Typer app, and a test fails when a command has no row in CASES: a new command
is covered from the day it is added.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import typer

from gensandbox.cli.app import app, main
from tests.helpers import write_config
from tests.upstream import unused_port

EXAMPLE = Path(__file__).resolve().parents[2] / "gensandbox.example.toml"
CONFIGS = {"no-config": None, "example-config": EXAMPLE}
LOOPBACK = "{loopback}"  # in a case: `-c` a config whose models are the scripted loopback upstream's
PORT = "{port}"  # in a case: a free loopback port

# How each command is run in a fresh home: (arguments, exit code, text the output must hold: on stdout for exit
# 0, on stderr otherwise). A code or a text may be a pair: (with no config, with the example config). A case holding
# LOOPBACK runs once, against the scripted upstream; the others run with no config and with the example config
# (commands that read no config run once). `[]` is the command with no arguments.
NO_RUN = "error: no run `NO-SUCH-RUN` in "
MISSING = "Error: Missing "
CASES: dict[str, list[tuple[list[str], int | tuple[int, int], str | tuple[str, str]]]] = {
    "run": [(["--limit", "1", "-m", "NO-SUCH-MODEL"], 1, "error: unknown model `NO-SUCH-MODEL`; known models: "),
            (["--sample", "1", "-s", "NO-SUCH-SUITE"], 1, "error: unknown suite `NO-SUCH-SUITE`; known suites: "),
            (["--limit", "0"], 2, "Error: Invalid value for '--limit': Input should be greater than or equal to 1"),
            (["--epochs", "0"], 2, "Error: Invalid value for '--epochs': Input should be greater than or equal to 1"),
            (["--temperature", "5"], 2, "Error: Invalid value for '--temperature': Input should be less than or "
                                        "equal to 2"),
            (["--max-cost", "-1"], 2, "Error: Invalid value for '--max-cost': Input should be greater than or "
                                      "equal to 0"),
            (["--max-cost", "inf"], 2, "Error: Invalid value for '--max-cost': give a finite amount in US dollars "
                                       "(leave the option out for no limit)"),
            (["--limit", "1", "-s", "home"], 1, "error: suite `home`: home is a directory, not a file; give a .jsonl, "
                                                ".csv or .yaml suite file"),
            (["--bogus"], 2, "Error: No such option: --bogus"),
            (["--limit", "1", "--sample", "1"], 2, "Error: --limit and --sample cannot be used together"),
            (["--resume", "NO-SUCH-RUN"], 1, NO_RUN),
            (["--limit", "1", "-m", "echo-a", "-s", "basics-en,basics-ko", LOOPBACK], 0,
             "limited to the first item of each suite (--limit 1): not a full evaluation")],
    "show": [([], 2, MISSING + "argument 'run_id'."), (["NO-SUCH-RUN"], 1, NO_RUN),
             (["NO-SUCH-RUN", "--by", "vendor"], 2, "Error: Invalid value for '--by': ")],
    "runs": [([], 0, "No runs yet. Start one with: gensandbox run")],
    "models": [([], 0, ("local/qwen2.5-coder-0.5b-instruct", "exaone-ollama"))],
    "suites": [([], 0, ("basics-ko     │ 48    │ jsonl  │ ko", "support.csv not found"))],
    "report": [([], 2, MISSING + "argument 'run_id'."), (["NO-SUCH-RUN"], 1, NO_RUN),
               (["NO-SUCH-RUN", "--lang", "fr"], 1, "error: unknown report language `fr`")],
    "rerun": [([], 2, MISSING + "argument 'run_id'."), (["NO-SUCH-RUN"], 1, NO_RUN)],
    "compare": [([], 2, MISSING + "argument 'run_id'."), (["NO-SUCH-RUN", "a", "b"], 1, NO_RUN),
                (["NO-SUCH-RUN", "a"], 2, MISSING + "argument 'second'.")],
    "serve": [(["--port", PORT], 0, "GenSandbox gateway: http://127.0.0.1:"),
              (["--workers", "0"], 2, "Error: Invalid value for '--workers'")],
    "traffic": [([], 0, "No gateway traffic yet."), (["--since", "2026-11-01"], 0, "No gateway traffic yet."),
                (["--since", "yesterday"], 1, "error: --since 'yesterday' is not a date or time; use e.g. "),
                (["--since", "2026-13-45"], 1, "error: --since '2026-13-45' is not a date or time")],
    "routes": [([], 0, ("No routes yet: add [[routes]] to gensandbox.toml", "route:budget-ko │ cheapest"))],
    "trace": [([], 1, "error: give a SESSION to show, or --run RUN_ID to list a run's agent sessions"),
              (["--run", "NO-SUCH-RUN"], 1, NO_RUN),
              (["NO-SUCH-SESSION"], 1, "error: no calls recorded for session NO-SUCH-SESSION")],
    "migrate": [([], 0, "gensandbox.db: applied ")],
    "ui": [(["--port", PORT], 0, "GenSandbox dashboard: http://127.0.0.1:"),
           (["--port", "70000"], 2, "Error: Invalid value for '--port'")],
    "keys create": [([], 0, "role: developer"), (["--role", "tester", "--budget-usd", "1"], 0, "budget: $1"),
                    (["--budget-usd", "-1"], 2, "Error: Invalid value for '--budget-usd': Input should be greater "
                                                "than or equal to 0"),
                    (["--budget-usd", "inf"], 2, "Error: Invalid value for '--budget-usd': give a finite amount "
                                                 "in US dollars"),
                    (["--rpm", "0"], 2, "Error: Invalid value for '--rpm': Input should be greater than or equal "
                                        "to 1")],
    "keys list": [([], 0, "No keys yet.")],
    "keys set": [([], 2, MISSING + "argument 'key_id'."), (["NO-SUCH-KEY"], 2, "say what to change"),
                 (["NO-SUCH-KEY", "--rpm", "5"], 1, "error: no key `NO-SUCH-KEY`"),
                 (["NO-SUCH-KEY", "--role", "boss"], 1, "error: unknown role `boss`")],
    "projects create": [([], 2, MISSING + "argument 'project_id'."), (["acme"], 0, "project acme: privacy hashes"),
                        (["Acme Corp"], 1, "error: `Acme Corp` is not a project id"),
                        (["acme2", "--privacy", "open"], 1, "error: privacy `open` is not one of hashes, full")],
    "projects set": [([], 2, MISSING + "argument 'project_id'."), (["default"], 2, "say what to change"),
                     (["nobody", "--privacy", "full"], 1, "error: no project `nobody`"),
                     (["default", "--privacy", "full", "--regulator-text"], 0, "regulators read text: yes")],
    "projects list": [([], 0, "default")],
    "keys revoke": [([], 2, MISSING + "argument 'key_id'."),
                    (["NO-SUCH-KEY"], 1, "error: no key `NO-SUCH-KEY`")],
    "ledger verify": [([], 0, "OK: "), (["missing.jsonl"], 1, "not found")],
    "ledger export": [([], 2, MISSING + "option '--output'"), (["-o", "ledger.jsonl"], 1, "is empty: nothing to")],
    "ledger import": [([], 2, MISSING + "argument 'file'."), (["missing.jsonl"], 1, "error: ")],
    "ledger public-key": [([], 0, "-----BEGIN PUBLIC KEY-----"), (["-o", "ledger.pem"], 0, "to ledger.pem")],
    "ledger project-key": [([], 0, ""), (["--project", "acme"], 0, "")],
    "ledger digest": [([], 2, MISSING + "argument 'text'."),
                      (["hi", "--key", "zz", "--seq", "1"], 1, "error: --key is not a digest key"),
                      (["hi", "--key", "0" * 64, "--seq", "1"], 1, "error: the ledger has no record 1")],
    "ledger spans": [([], 1, "error: say where the spans go"), (["--file", "spans.json"], 0, "wrote 0 spans")],
    "receipt verify": [([], 2, MISSING + "argument 'receipt'."),
                       (["x", "--public-key", "missing.pem"], 1, "error: public key file missing.pem not found")],
    "audit self-preference": [(["--only", "routing"], 0, "no gateway traffic recorded"),
                              (["--only", "routing", "--since", "yesterday"], 1, "error: --since 'yesterday'"),
                              (["--questions", "1"], 2, "Error: Invalid value for '--questions'")],
    "audit switching": [([], 2, MISSING + "option '--from'."),
                        (["--from", "a", "--to", "b"], 1, "error: give the workload")],
    "holdout commit": [([], 2, MISSING + "argument 'suite'."), (["basics-en"], 0, "committed 48 items"),
                       (["NO-SUCH-SUITE"], 1, "error: unknown suite `NO-SUCH-SUITE`"),
                       (["home"], 1, "error: suite `home`: home is a directory, not a file")],
    "holdout run": [([], 2, MISSING + "option '--opening'."),
                    (["--opening", "missing.json"], 1, "error: opening missing.json not found"),
                    (["--opening", "missing.json", "--max-cost", "-1"], 2, "Error: Invalid value for '--max-cost'")],
    "holdout reveal": [([], 2, MISSING + "option '--opening'."),
                       (["--opening", "missing.json", "-o", "r.json"], 1, "error: opening missing.json not found")],
    "holdout verify": [([], 2, MISSING + "option '--commitment'."),
                       (["--commitment", "c.json", "--revealed", "r.json"], 1, "error: commitment c.json not found")],
    "store copy": [([], 2, MISSING + "option '--from'."),
                   (["--from", "missing.db", "--to", "copy.db"], 1, "error: no store at missing.db")],
    "variant list": [([], 0, ("No variants yet: add [[variants]] to gensandbox.toml", "variant:support-ko"))],
    "variant show": [([], 2, MISSING + "argument 'name'."), (["NO-SUCH-VARIANT"], 1, "error: unknown variant "),
                     (["support-ko"], (1, 0), "support-ko")],
    "variant export": [([], 2, MISSING + "argument 'name'."),
                       (["NO-SUCH-VARIANT", "-o", "v.json"], 1, "error: unknown variant `NO-SUCH-VARIANT`")],
    "variant import": [([], 2, MISSING + "argument 'file'."), (["missing.json"], 1, "error: cannot read missing.json")],
    "variant compare": [([], 2, MISSING + "argument 'name'."),
                        (["NO-SUCH-VARIANT"], 1, "error: unknown variant `NO-SUCH-VARIANT`"),
                        (["support-ko", "--max-cost", "-1"], 2, "Error: Invalid value for '--max-cost'")],
}
# Commands not run with no arguments here, and why (each runs above with arguments).
NOT_RUN_BARE = {
    "run": "evaluates every item of the default suites on the embedded models: test_run_on_the_embedded_models",
    "audit self-preference": "asks the embedded models ~50 questions (minutes); tests/audits covers the judge parts",
    "serve": "listens on the configured port (8000), which may be taken: run with --port",
    "ui": "listens on the configured port (8765), which may be taken: run with --port",
}


def walk(command, path=()):
    """(path, command) for every group and command `--help` lists, depth first."""
    yield " ".join(path), command
    for name, sub in getattr(command, "commands", {}).items():
        if not sub.hidden:
            yield from walk(sub, (*path, name))


TREE = dict(walk(typer.main.get_command(app)))
LEAVES = {path: command for path, command in TREE.items() if not hasattr(command, "commands")}
GROUPS = [path for path, command in TREE.items() if hasattr(command, "commands")]


def takes_config(path: str) -> bool:
    return any("--config" in param.opts for param in LEAVES[path].params)


def needs_arguments(path: str) -> bool:
    return any(param.required for param in LEAVES[path].params)


def invocations():
    for path in sorted(LEAVES):
        for args, code, text in CASES.get(path, []):
            for config_name, config in CONFIGS.items():
                if LOOPBACK in args and config is not None:
                    continue  # a loopback case brings its own config
                if config is not None and not takes_config(path):
                    continue  # the command reads no config: once is enough
                which = 0 if config is None else 1
                code_here = code if isinstance(code, int) else code[which]
                text_here = text if isinstance(text, str) else text[which]
                name = "loopback" if LOOPBACK in args else config_name
                yield pytest.param(path, args, config, code_here, text_here,
                                   id=f"{path} {' '.join(args)} [{name}]".replace("  ", " "))


def test_every_command_is_in_the_table():
    assert set(LEAVES) == set(CASES), "add the new command to CASES (and NOT_RUN_BARE if it cannot run bare)"
    for path, cases in CASES.items():
        bare = [code for args, code, _ in cases if not args]
        assert bool(bare) != (path in NOT_RUN_BARE), f"{path}: run it bare, or say in NOT_RUN_BARE why not"
        if needs_arguments(path):
            assert bare in ([2], []), f"{path} needs arguments: with none it is a usage error, exit 2"
        else:
            assert bare != [2], f"{path} needs no arguments: with none it must not be a usage error"
    assert {"keys", "ledger", "receipt", "audit", "holdout", "store", "variant"} <= set(GROUPS)


@pytest.mark.parametrize("path, args, config, code, text", list(invocations()))
def test_command_in_a_fresh_home(path, args, config, code, text, home, tmp_path, capsys, request):
    if LOOPBACK in args:
        upstream = request.getfixturevalue("upstream")
        config = write_config(tmp_path, upstream.url, {"echo-a": "echo"})
        args = [a for a in args if a != LOOPBACK]
    argv = [*path.split(), *args, *(["-c", str(config)] if config else [])]
    if PORT in args:
        _serve_until_it_answers(path, argv, text, home, tmp_path)
        return
    exit_code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "unexpected error" not in out + err, err
    assert exit_code == code, (out, err)
    assert text in (out if code == 0 else err), (out, err)
    if code == 1:
        assert err.startswith("error: ") and err.count("\n") == 1, err
    if code == 2:
        _assert_click_usage_error(path, err)


def _assert_click_usage_error(path: str, err: str) -> None:
    lines = err.rstrip("\n").split("\n")
    assert lines[0].startswith(f"Usage: gensandbox {path} "), err
    assert lines[1] == f"Try 'gensandbox {path} --help' for help.", err
    assert lines[-1].startswith("Error: ") and sum(line.startswith("Error: ") for line in lines) == 1, err


def _serve_until_it_answers(path: str, argv: list[str], text: str, home: Path, tmp_path: Path) -> None:
    """A server started on a free port, asked once, then stopped with Ctrl+C: it must answer and exit cleanly."""
    port = unused_port()
    argv = [str(port) if a == PORT else a for a in argv]
    probe = f"http://127.0.0.1:{port}" + ("/v1/models" if path == "serve" else "/")
    process = subprocess.Popen([sys.executable, "-m", "gensandbox", *argv], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "GENSANDBOX_HOME": str(home)})
    try:
        status = _first_answer(probe, process)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert status == 200
    assert process.returncode == 0, err
    assert "Traceback" not in out + err and "unexpected error" not in out + err and "error" not in err.lower(), err
    assert f"{text}{port}/" in out, out


def _first_answer(url: str, process: subprocess.Popen) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never through a proxy
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"exited {process.returncode} before answering: {process.communicate()[1]}")
        try:
            with opener.open(url, timeout=2) as response:
                return response.status
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{url} did not answer within 60 s")


@pytest.mark.parametrize("path", GROUPS)
def test_a_group_with_no_command_shows_its_commands(path, home, capsys):
    code = main(path.split())
    out, err = capsys.readouterr()
    listed = [name for name, sub in TREE[path].commands.items() if not sub.hidden]
    assert code == 2 and out == ""
    assert err.startswith(f"Usage: gensandbox {path}".rstrip() + " [OPTIONS] COMMAND [ARGS]...")
    assert all(f"  {name} " in err for name in listed), err


@pytest.mark.slow
@pytest.mark.parametrize("config", list(CONFIGS.values()), ids=list(CONFIGS))
def test_run_on_the_embedded_models(config, home, capsys):
    """`gensandbox run` as a fresh home has it: the embedded models on the default suites, one item each."""
    code = main(["run", "--limit", "1", "--run-id", "first", *(["-c", str(config)] if config else [])])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "(2 models × 2 suites = 4 calls;" in out
    assert "limited to the first item of each suite (--limit 1): not a full evaluation" in out
    assert "Traceback" not in err and "unexpected error" not in err
