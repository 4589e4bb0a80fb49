"""Keys, roles, budgets and rate limits, over real HTTP."""

import asyncio
import os
import subprocess
import sys
import time

import httpx
import openai
import pytest

from tests.gateway.test_gateway import ask, client


def test_once_a_key_exists_every_request_needs_one(gateway):
    secret, key_id = gateway.add_key()
    missing = httpx.post(f"{gateway.base_url}/chat/completions", json={"model": "echo", "messages": ask()})
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_api_key"
    with pytest.raises(openai.AuthenticationError) as wrong:
        client(gateway, "gsk_not-a-real-key").chat.completions.create(model="echo", messages=ask())
    assert "not valid" in wrong.value.body["message"] and wrong.value.body["code"] == "invalid_api_key"
    assert client(gateway, secret).chat.completions.create(model="echo", messages=ask()).choices
    assert gateway.records()[-1]["key_id"] == key_id


def test_revoked_keys_are_refused_within_a_second(gateway):
    from gensandbox.cli.app import main

    secret, key_id = gateway.add_key()
    assert client(gateway, secret).chat.completions.create(model="echo", messages=ask()).choices
    assert main(["keys", "revoke", key_id]) == 0
    time.sleep(1.1)
    with pytest.raises(openai.AuthenticationError):
        client(gateway, secret).chat.completions.create(model="echo", messages=ask())


def test_rate_limit_per_key(gateway):
    secret, _ = gateway.add_key(rpm=2)
    for _ in range(2):
        client(gateway, secret).chat.completions.create(model="echo", messages=ask())
    response = httpx.post(f"{gateway.base_url}/chat/completions", headers={"authorization": f"Bearer {secret}"},
                          json={"model": "echo", "messages": ask()})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limit_exceeded"
    assert "2 requests per minute" in response.json()["error"]["message"]
    assert 0 < int(response.headers["retry-after"]) <= 60


async def test_budget_holds_exactly_under_a_race_of_concurrent_requests(gateway, recorder):
    # Each request reserves its worst case: (prompt ≈ 11 tokens × $1 + 32 output tokens × $2) per 1M.
    budget = 0.0005  # room for a handful of worst cases, far fewer than the 60 requests raced at it
    secret, key_id = gateway.add_key(budget_usd=budget)
    async_client = openai.AsyncOpenAI(base_url=gateway.base_url, api_key=secret, max_retries=0)

    async def one(i: int):
        try:
            return await async_client.chat.completions.create(model="slow", messages=ask(f"race {i}"), max_tokens=32)
        except openai.RateLimitError as error:
            return error

    outcomes = await asyncio.gather(*(one(i) for i in range(60)))
    await async_client.close()
    refused = [o for o in outcomes if isinstance(o, openai.RateLimitError)]
    assert refused and all(o.body["code"] == "insufficient_quota" for o in refused)
    assert "budget exhausted" in refused[0].body["message"]
    records = [r for r in gateway.records() if r["key_id"] == key_id]
    spent = sum(r["cost_usd"] for r in records)
    assert 0 < spent <= budget
    answered = [r for r in records if r["status"] == 200]
    assert len(answered) == len(outcomes) - len(refused)
    assert [r["status"] for r in records if r["status"] != 200] == [429] * len(refused)  # refusals are on record
    assert len(recorder.requests) == len(answered)  # no call reached the upstream without being paid for


def test_provider_secrets_never_leave_the_gateway(gateway, tmp_path, upstream, monkeypatch):
    secret_value = "sk-very-secret-provider-key-12345"
    text = gateway.config_path.read_text().replace('name = "echo"\nprovider = "openai"',
                                                   'name = "echo"\nprovider = "openai"\napi_key_env = "GS_SECRET"')
    gateway.config_path.write_text(text)
    monkeypatch.setenv("GS_SECRET", secret_value)
    from gensandbox.config import load_config
    from gensandbox.gateway import create_app
    from gensandbox.store import SQLiteStore
    from tests.upstream import BackgroundServer

    config = load_config(gateway.config_path)
    server = BackgroundServer(create_app(config, SQLiteStore(config.database_path)), lifespan="on").start()
    try:
        body = httpx.post(f"{server.url}/v1/chat/completions", json={"model": "route:safe", "messages": ask()}).text
        failing = httpx.post(f"{server.url}/v1/chat/completions", json={"model": "broken", "messages": ask()}).text
        metrics = httpx.get(f"{server.url}/metrics").text
    finally:
        server.stop()
    stored = (gateway.home / "gensandbox.db").read_bytes() + (gateway.home / "gensandbox.db-wal").read_bytes()
    for place in (body, failing, metrics):
        assert secret_value not in place
    assert secret_value.encode() not in stored
    assert upstream.recorder.headers[-2]["authorization"] == f"Bearer {secret_value}"  # it did reach the upstream


def test_serve_and_keys_commands_end_to_end(home, tmp_path, upstream):
    from tests.helpers import write_config
    from tests.upstream import unused_port

    config = write_config(tmp_path, upstream.url, {"echo": "echo"})
    created = subprocess.run([sys.executable, "-m", "gensandbox", "keys", "create", "--role", "developer",
                              "--budget-usd", "1", "-c", str(config)], capture_output=True, text=True, check=True)
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("gsk_") and "role: developer" in created.stdout
    listed = subprocess.run([sys.executable, "-m", "gensandbox", "keys", "list", "-c", str(config)],
                            capture_output=True, text=True, check=True).stdout
    assert "developer" in listed and secret not in listed
    port = unused_port()
    server = subprocess.Popen([sys.executable, "-m", "gensandbox", "serve", "-c", str(config), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz")
        answer = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=secret, max_retries=0
                               ).chat.completions.create(model="echo", messages=ask("through the command"))
        assert answer.choices[0].message.content == "through the command"
        busy = subprocess.run([sys.executable, "-m", "gensandbox", "serve", "-c", str(config), "--port", str(port)],
                              capture_output=True, text=True)
        assert busy.returncode == 1 and busy.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}")
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


def test_a_client_leaving_a_stream_releases_its_budget_reservation(gateway):
    secret, key_id = gateway.add_key(budget_usd=0.0004)  # the stream reserves ~$0.00027, a request ~$0.00021
    with httpx.stream("POST", f"{gateway.base_url}/chat/completions", headers={"authorization": f"Bearer {secret}"},
                      json={"model": "slow", "messages": ask(" ".join(["word"] * 50)), "stream": True,
                            "max_tokens": 100}, timeout=10) as response:
        next(response.iter_lines())  # read one event, then hang up
    time.sleep(0.5)
    # Were the first stream's reservation still held, this would be refused for lack of budget.
    for _ in range(3):
        assert client(gateway, secret).chat.completions.create(model="echo", messages=ask(), max_tokens=100).choices
    assert any(r["key_id"] == key_id and r["stream"] for r in gateway.records())
