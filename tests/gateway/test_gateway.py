"""The gateway driven by the official openai SDK, over real HTTP on loopback."""

import asyncio
import json
import urllib.request

import httpx
import openai
import pytest


def client(gateway, key: str = "anything") -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url, api_key=key, max_retries=0)


def ask(text: str = "hello there") -> list[dict]:
    return [{"role": "user", "content": text}]


def test_plain_completion_with_the_sdk(gateway):
    raw = client(gateway).chat.completions.with_raw_response.create(model="echo", messages=ask())
    completion = raw.parse()
    assert completion.choices[0].message.content == "hello there"
    assert completion.usage.prompt_tokens == 5 and completion.usage.completion_tokens == 2
    assert raw.headers["x-gensandbox-model"] == "echo"
    assert raw.headers["x-gensandbox-route"] == "direct: the model named in the request"
    assert float(raw.headers["x-gensandbox-cost-usd"]) == pytest.approx((5 * 1.0 + 2 * 2.0) / 1e6)


async def test_async_sdk_and_concurrency(gateway):
    async_client = openai.AsyncOpenAI(base_url=gateway.base_url, api_key="x", max_retries=0)
    answers = await asyncio.gather(*(async_client.chat.completions.create(model="echo", messages=ask(f"n {i}"))
                                     for i in range(20)))
    assert sorted(a.choices[0].message.content for a in answers) == sorted(f"n {i}" for i in range(20))
    await async_client.close()


@pytest.mark.parametrize("model", ["echo", "anthropic-echo"])
def test_streaming_with_usage_in_the_last_chunk(gateway, model):
    chunks = list(client(gateway).chat.completions.create(model=model, messages=ask("stream me please"),
                                                          stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "stream me please"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 3
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"


def test_stream_that_breaks_midway_ends_with_an_error_event(gateway):
    with httpx.stream("POST", f"{gateway.base_url}/chat/completions", timeout=10,
                      json={"model": "breaks", "messages": ask("one two three four"), "stream": True}) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert json.loads(lines[-2][6:])["error"]["message"].startswith("the model stopped answering mid-stream")
    assert lines[-1] == "data: [DONE]"


def test_models_health_and_metrics(gateway):
    names = [m.id for m in client(gateway).models.list()]
    assert "echo" in names and "route:safe" in names
    client(gateway).chat.completions.create(model="echo", messages=ask())
    health = json.loads(urllib.request.urlopen(f"{gateway.url}/healthz").read())
    assert health["status"] == "ok" and health["open_access"] is True
    metrics = urllib.request.urlopen(f"{gateway.url}/metrics").read().decode()
    assert 'gensandbox_requests_total{model="echo",status="200"} 1.0' in metrics


def test_fallback_route_skips_the_failing_model_and_says_why(gateway, recorder):
    raw = client(gateway).chat.completions.with_raw_response.create(model="route:safe", messages=ask())
    assert raw.headers["x-gensandbox-model"] == "echo"
    assert raw.headers["x-gensandbox-route"] == "safe: fallback chain, in order"
    records = gateway.records()
    assert [(r["model"], r["status"]) for r in records] == [("broken", 502), ("echo", 200)]
    assert records[1]["route"] == "safe" and records[1]["route_reason"] == "fallback chain, in order"


def test_circuit_breaker_cools_a_failing_model_down(gateway, recorder):
    for _ in range(2):  # two failures open the circuit (failures_to_cool = 2)
        client(gateway).chat.completions.create(model="route:safe", messages=ask())
    recorder.reset()
    client(gateway).chat.completions.create(model="route:safe", messages=ask())
    assert [body["model"] for body in recorder.requests] == ["echo"]  # broken was not even tried


def test_fixed_route_does_not_fall_back(gateway):
    raw = client(gateway).chat.completions.with_raw_response.create(model="route:pinned", messages=ask())
    assert raw.headers["x-gensandbox-model"] == "echo"


def test_weighted_route_draws_by_weight(gateway):
    for _ in range(5):
        raw = client(gateway).chat.completions.with_raw_response.create(model="route:ab", messages=ask())
        assert raw.headers["x-gensandbox-model"] == "echo"
        assert "weighted split 0/1: drew echo" in raw.headers["x-gensandbox-route"]


def test_weighted_route_splits_traffic_in_proportion(gateway):
    """Weights 1:3 over 200 requests: about 50 and 150 (binomial sd 6.1; the bounds are 5 sd wide)."""
    drawn = [client(gateway).chat.completions.with_raw_response.create(model="route:split", messages=ask())
             .headers["x-gensandbox-model"] for _ in range(200)]
    assert set(drawn) == {"pricey", "echo"}
    assert 120 <= drawn.count("echo") <= 180


def test_all_models_failing_is_a_502_with_every_reason(gateway):
    with pytest.raises(openai.APIStatusError) as caught:
        client(gateway).chat.completions.create(model="route:doomed", messages=ask())
    assert caught.value.status_code == 502
    message = caught.value.body["message"]
    assert "broken:" in message and "HTTP 500" in message and "gone:" in message and "within 2 s" in message


@pytest.mark.parametrize("payload, status, code, param", [
    (b"{not json", 400, "invalid_json", None),
    (b"[1, 2]", 400, "invalid_json", None),
    (json.dumps({"model": "echo"}).encode(), 400, "invalid_parameter", "messages"),
    (json.dumps({"model": "echo", "messages": [{"role": "user", "content": "x"}], "temperature": 9}).encode(),
     400, "invalid_parameter", "temperature"),
    (json.dumps({"model": "echo", "messages": [{"role": "wizard", "content": "x"}]}).encode(),
     400, "invalid_parameter", "messages.0.role"),
    (json.dumps({"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]}).encode(),
     404, "model_not_found", "model"),
    (b'{"model": "echo", "messages": [{"role": "user", "content": "half \\ud800 pair"}]}', 400, "invalid_json", None),
])
def test_bad_input_gets_an_openai_shaped_error(gateway, payload, status, code, param):
    response = httpx.post(f"{gateway.base_url}/chat/completions", content=payload,
                          headers={"content-type": "application/json"})
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["code"], error["param"]) == (code, param)
    assert error["message"]


def test_unknown_model_lists_what_exists(gateway):
    with pytest.raises(openai.NotFoundError) as caught:
        client(gateway).chat.completions.create(model="gpt-9", messages=ask())
    assert "available: " in caught.value.body["message"] and "route:safe" in caught.value.body["message"]


def test_unknown_path_and_method(gateway):
    assert httpx.get(f"{gateway.url}/v2/everything").json()["error"]["code"] == "not_found"
    assert httpx.get(f"{gateway.base_url}/chat/completions").status_code == 405


def test_cheapest_route_uses_evaluation_results(gateway, capsys):
    from gensandbox.cli.app import main
    from tests.helpers import write_suite

    suite = write_suite(gateway.config_path.parent)
    assert main(["run", "-c", str(gateway.config_path), "-m", "echo,pricey", "-s", str(suite)]) == 0
    raw = client(gateway).chat.completions.with_raw_response.create(model="route:thrifty", messages=ask())
    assert raw.headers["x-gensandbox-model"] == "echo"
    assert "cheapest with echo-suite" in raw.headers["x-gensandbox-route"] and "75.0%" in raw.headers[
        "x-gensandbox-route"]


def test_fastest_route_uses_measured_latency(gateway, capsys):
    from gensandbox.cli.app import main
    from tests.helpers import write_suite

    suite = write_suite(gateway.config_path.parent)
    assert main(["run", "-c", str(gateway.config_path), "-m", "echo,slow", "-s", str(suite)]) == 0
    raw = client(gateway).chat.completions.with_raw_response.create(model="route:quick", messages=ask())
    assert raw.headers["x-gensandbox-model"] == "echo"
    assert "fastest by measured p50 latency: echo" in raw.headers["x-gensandbox-route"]


@pytest.mark.parametrize("models, checks", [
    (["echo"], ["--checks", "all"]),
    # An Anthropic-format model honours less than OpenAI's wire can say (no seed, penalties or logprobs): a request
    # the document allows may be refused with 400 unsupported_parameter for it, which the document cannot express
    # per model. Every other check holds, and no request gets a 5xx.
    (["echo", "anthropic-echo"], ["--checks", "all", "--exclude-checks", "positive_data_acceptance"]),
], ids=["openai-compatible", "with-anthropic"])
def test_schemathesis_finds_no_issue(home, tmp_path, upstream, models, checks):
    """Property-based requests generated from /openapi.json, against healthy upstreams: none may get a 5xx, and
    with every check the answers agree with the document (schema-valid requests taken, invalid ones refused,
    responses and streamed events as documented, 405s with `Allow`)."""
    import subprocess
    import sys
    from pathlib import Path

    from gensandbox.config import load_config
    from gensandbox.gateway import create_app
    from gensandbox.store import SQLiteStore
    from tests.helpers import write_config
    from tests.upstream import BackgroundServer

    config = load_config(write_config(tmp_path, upstream.url, {"echo": "echo", "anthropic-echo": "echo"},
                                      extra=f'[serve]\nmodels = {json.dumps(models)}\n'))
    server = BackgroundServer(create_app(config, SQLiteStore(config.database_path)), lifespan="on").start()
    try:
        result = subprocess.run([str(Path(sys.executable).with_name("schemathesis")), "run",
                                 f"{server.url}/openapi.json", *checks,
                                 "--max-examples", "40", "--seed", "7", "--request-timeout", "20"],
                                capture_output=True, text=True, timeout=600, cwd=tmp_path)  # its cache dir too
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout[-12000:]
    assert "No issues found" in result.stdout


def test_a_model_that_cannot_be_built_is_a_503_naming_the_problem(home, tmp_path, upstream, monkeypatch):
    from gensandbox.config import load_config
    from gensandbox.gateway import create_app
    from gensandbox.store import SQLiteStore
    from tests.upstream import BackgroundServer

    monkeypatch.delenv("GS_MISSING_KEY", raising=False)
    (tmp_path / "g.toml").write_text(
        '[[models]]\nname = "mine"\nprovider = "local"\npath = "missing.gguf"\n'
        '[[models]]\nname = "cloud"\nprovider = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n'
        'api_key_env = "GS_MISSING_KEY"\n')
    config = load_config(tmp_path / "g.toml")
    server = BackgroundServer(create_app(config, SQLiteStore(config.database_path)), lifespan="on").start()
    try:
        local = httpx.post(f"{server.url}/v1/chat/completions", json={"model": "mine", "messages": ask()})
        cloud = httpx.post(f"{server.url}/v1/chat/completions", json={"model": "cloud", "messages": ask()})
    finally:
        server.stop()
    assert local.status_code == 503 and "missing.gguf not found" in local.json()["error"]["message"]
    assert cloud.status_code == 503 and "$GS_MISSING_KEY, which is not set" in cloud.json()["error"]["message"]


def test_traffic_and_routes_commands(gateway, capsys):
    from gensandbox.cli.app import main

    client(gateway).chat.completions.create(model="route:safe", messages=ask())
    gateway.records()  # wait for the batch to be written
    assert main(["traffic", "--json", "-c", str(gateway.config_path)]) == 0
    rows = {row["model"]: row for row in json.loads(capsys.readouterr().out)["traffic"]}
    assert (rows["echo"]["requests"], rows["echo"]["errors"]) == (1, 0)
    assert (rows["broken"]["requests"], rows["broken"]["errors"]) == (1, 1)
    assert rows["echo"]["cost_usd"] > 0 and rows["echo"]["latency_p50_s"] > 0
    assert main(["routes", "-c", str(gateway.config_path)]) == 0
    out = capsys.readouterr().out
    assert "route:safe" in out and "fallback chain, in order" in out and "weighted split 0/1: drew echo" in out
