"""`gensandbox ui` as a process: it prints its URL and serves the dashboard there; a taken port is one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
import typer

from gensandbox.cli.ui import ui
from gensandbox.errors import UserError
from tests.upstream import unused_port

# Until `ui` is registered in gensandbox.cli.app, a one-command Typer app runs the same function.
LAUNCH = "import sys, typer; from gensandbox.cli.ui import ui; typer.run(ui)"


def test_ui_serves_the_dashboard_at_the_printed_url(home, tmp_path):
    port = unused_port()
    process = subprocess.Popen([sys.executable, "-c", LAUNCH, "--port", str(port)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "GENSANDBOX_HOME": str(home)})
    try:
        line = process.stdout.readline()
        assert line.startswith(f"GenSandbox dashboard: http://127.0.0.1:{port}/")
        deadline = time.monotonic() + 10
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", params={"lang": "ko"})
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, process.stderr.read()
                time.sleep(0.05)
        assert response.status_code == 200 and "아직 실행이 없습니다" in response.text
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_taken_port_is_a_clear_error(home):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(UserError, match="choose another with --port"):
            ui(config_path=None, host="127.0.0.1", port=taken.getsockname()[1])


def test_help_says_what_it_does():
    app = typer.Typer()
    app.command()(ui)
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0 and "web dashboard" in result.output and "--port" in result.output


def test_the_dashboard_listens_beyond_this_machine_only_once_keys_exist(home, capsys):
    from gensandbox.cli.app import main

    assert main(["ui", "--host", "0.0.0.0", "--port", str(unused_port())]) == 1
    assert "only once keys exist" in capsys.readouterr().err
