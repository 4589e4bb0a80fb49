"""A provider key never leaves: an upstream that echoes the request's credentials in its error bodies, driven
through every path (gateway plain and streamed, OpenAI and Anthropic formats, an evaluation run), and every sink
searched for the key afterwards: responses, the store, the ledger, both export formats, logs, the report and
the commands' output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pyarrow.parquet as pq

from gensandbox.redaction import REDACTED, redact, register_secret
from tests.gateway.test_processes import start_gateway
from tests.helpers import write_config, write_suite
from tests.upstream import unused_port

CANARY = "sk-canary-7f3a9c2e1d5b"
MODELS = {"leaky": "echo-auth-400", "anthropic-leaky": "echo-auth-400"}


def gensandbox(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gensandbox", *arguments], env=os.environ, capture_output=True,
                          text=True, timeout=120)


def gateway_answers(port: int) -> list[str]:
    bodies = []
    for model in MODELS:
        for stream in (False, True):
            response = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", timeout=30,
                                  json={"model": model, "stream": stream,
                                        "messages": [{"role": "user", "content": "hello"}]})
            assert response.status_code == 502, response.text
            bodies.append(response.text)
    return bodies


def test_a_canary_key_echoed_by_an_upstream_reaches_no_sink(home, tmp_path, upstream, monkeypatch):
    monkeypatch.setenv("GS_CANARY_KEY", CANARY)
    config = write_config(tmp_path, upstream.url, MODELS, model_options='api_key_env = "GS_CANARY_KEY"')
    config_arg = ("-c", str(config))
    port = unused_port()
    server = start_gateway(config, port)
    try:
        answers = gateway_answers(port)
    finally:
        server.send_signal(signal.SIGINT)
        _, server_log = server.communicate(timeout=30)
    assert all(REDACTED in body for body in answers)  # the upstream did echo it: the path was exercised

    outputs = [server_log.decode(errors="replace"), *answers]
    run = gensandbox("run", *config_arg, "-m", ",".join(MODELS), "-s", str(write_suite(tmp_path)), "--run-id",
                     "canary", "--report", str(tmp_path / "report.html"))
    outputs += [run.stdout, run.stderr]
    for command in (("show", "canary", "--json"), ("traffic",), ("traffic", "--json"),
                    ("ledger", "export", "-o", str(tmp_path / "ledger.jsonl")),
                    ("ledger", "export", "-o", str(tmp_path / "ledger.parquet")), ("ledger", "verify")):
        result = gensandbox(*command, *config_arg)
        assert result.returncode == 0, result.stderr
        outputs += [result.stdout, result.stderr]
    outputs.append(str(pq.read_table(tmp_path / "ledger.parquet").to_pylist()))

    assert "answered HTTP 400" in (tmp_path / "report.html").read_text()  # the errors are in the report…
    files = [path for path in [*home.rglob("*"), *tmp_path.glob("*")] if path.is_file()]
    leaks = [str(path) for path in files if CANARY.encode() in path.read_bytes()]
    leaks += [f"output {n}" for n, text in enumerate(outputs) if CANARY in text]
    assert leaks == []  # …but the key is in none of them


def test_redaction_takes_out_registered_secrets_and_credential_shaped_text():
    register_secret("sk-registered-0123456789")
    register_secret("short")  # too short to redact without blanking out ordinary words
    text = ("key sk-registered-0123456789, Authorization: Bearer abc.DEF-123_456789, x-api-key: zz-998877665544, "
            '"api_key": "q1w2e3r4t5y6", a short word')
    assert redact(text) == (f"key {REDACTED}, Authorization: Bearer {REDACTED}, x-api-key: {REDACTED}, "
                            f'"api_key": "{REDACTED}", a short word')


def test_every_run_error_is_redacted_when_it_is_made():
    from gensandbox.errors import ProviderHTTPError

    register_secret("sk-made-redacted-42424242")
    error = ProviderHTTPError("upstream said sk-made-redacted-42424242", status=400,
                              body='{"error": "bad key sk-made-redacted-42424242"}')
    assert "sk-made" not in str(error) and "sk-made" not in error.body
