"""Nothing the app did not send reaches the model: no max_tokens or temperature of GenSandbox's own. Where an
API requires a value (Anthropic's max_tokens), the model's declared maximum is sent, or the request is refused
with a 400 that names the parameter. Through the official openai SDK, against the scripted loopback upstream."""

from __future__ import annotations

import openai
import pytest

from gensandbox.config import ModelConfig, load_config
from gensandbox.gateway.app import create_app
from gensandbox.gateway.service import ASSUMED_OUTPUT_TOKENS, Gateway
from gensandbox.store import SQLiteStore
from gensandbox.types import ChatRequest, Message
from tests.gateway.conftest import request_records
from tests.helpers import write_config
from tests.upstream import BackgroundServer


def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key="anything", max_retries=0)


def ask() -> list[dict]:
    return [{"role": "user", "content": "hello"}]


def test_what_the_app_did_not_send_is_not_added(gateway, recorder):
    client(gateway.url).chat.completions.create(model="echo", messages=ask())
    (sent,) = recorder.requests
    assert "max_tokens" not in sent and "temperature" not in sent and "seed" not in sent and "stop" not in sent
    recorder.reset()
    client(gateway.url).chat.completions.create(model="echo", messages=ask(), max_tokens=7, temperature=0.3,
                                                seed=5, stop=["x"])
    (sent,) = recorder.requests
    assert (sent["max_tokens"], sent["temperature"], sent["seed"], sent["stop"]) == (7, 0.3, 5, ["x"])


def test_max_completion_tokens_is_the_limit_the_upstream_gets(gateway, recorder):
    client(gateway.url).chat.completions.create(model="echo", messages=ask(), max_completion_tokens=11)
    assert recorder.requests[0]["max_tokens"] == 11


def test_anthropic_gets_the_model_s_declared_maximum_when_the_app_sends_none(gateway, recorder):
    client(gateway.url).chat.completions.create(model="anthropic-echo", messages=ask())
    (sent,) = recorder.requests
    assert sent["max_tokens"] == 4096 and "temperature" not in sent  # max_output_tokens in its config
    recorder.reset()
    client(gateway.url).chat.completions.create(model="anthropic-echo", messages=ask(), max_tokens=9,
                                                temperature=0.5)
    assert (recorder.requests[0]["max_tokens"], recorder.requests[0]["temperature"]) == (9, 0.5)


def test_an_anthropic_model_without_a_declared_maximum_asks_for_max_tokens(home, tmp_path, upstream, recorder):
    config_path = write_config(tmp_path, upstream.url, {"anthropic-echo": "echo"})
    config_path.write_text(config_path.read_text().replace("max_output_tokens = 4096\n", ""))
    config = load_config(config_path)
    server = BackgroundServer(create_app(config, SQLiteStore(config.database_path)), lifespan="on").start()
    try:
        with pytest.raises(openai.BadRequestError) as refused:
            client(server.url).chat.completions.create(model="anthropic-echo", messages=ask())
        error = refused.value.body
        assert (error["code"], error["param"]) == ("missing_required_parameter", "max_tokens")
        assert "`anthropic-echo` is served through Anthropic's API, which requires max_tokens" in error["message"]
        assert recorder.requests == []  # refused before any call
        answer = client(server.url).chat.completions.create(model="anthropic-echo", messages=ask(), max_tokens=5)
        assert answer.choices[0].message.content and recorder.requests[0]["max_tokens"] == 5
    finally:
        server.stop()
    statuses = [(r["status"], r["error"]) for r in request_records(home)]
    assert statuses[0][0] == 400 and statuses[1] == (200, None)  # the refusal is on the record too


@pytest.mark.parametrize(("declared", "sent", "held"), [
    ({}, None, ASSUMED_OUTPUT_TOKENS),  # nothing bounds the answer: the assumption, nothing sent upstream
    ({"context_window": 8000}, None, 8000),
    ({"context_window": 8000, "max_output_tokens": 2000}, None, 2000),
    ({"max_output_tokens": 2000}, 50, 50),  # the app's own limit is what the answer can cost
])
def test_a_budget_holds_the_answer_s_worst_case(declared, sent, held):
    model = ModelConfig(name="m", provider="openai", **declared)
    request = ChatRequest(model="m", messages=(Message("user", "hi"),), max_tokens=sent, temperature=None)
    assert Gateway._worst_case_tokens(request, model) == held
    assert Gateway._completed(request, model) is request  # an OpenAI-compatible model gets the request as sent
