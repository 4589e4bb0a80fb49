"""POST /v1/embeddings through the official openai SDK: an OpenAI-compatible upstream's vectors, float and base64,
on the ledger with a receipt; the embedded embedder; and a clear 400 for what cannot embed."""

from __future__ import annotations

import base64

import numpy as np
import openai
import pytest

from gensandbox.config import load_config
from gensandbox.gateway import create_app
from gensandbox.store import SQLiteStore
from tests.gateway.conftest import ledger_events
from tests.upstream import BackgroundServer, bigram_vector


def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url, api_key="anything", max_retries=0)


def test_an_openai_compatible_upstream_s_vectors_come_back_in_order(gateway, recorder):
    texts = ["서울의 날씨", "the weather in Seoul"]
    answer = client(gateway.base_url).embeddings.create(model="echo", input=texts)
    assert [entry.index for entry in answer.data] == [0, 1]
    for entry, text in zip(answer.data, texts, strict=True):
        assert np.allclose(entry.embedding, bigram_vector(text), atol=1e-6)
    assert recorder.embedding_requests == [{"model": "echo", "input": texts}]
    assert answer.usage.prompt_tokens > 0


def test_base64_is_the_little_endian_float32_bytes(gateway):
    raw = client(gateway.base_url).embeddings.with_raw_response.create(model="echo", input="hello",
                                                                        encoding_format="base64")
    encoded = raw.http_response.json()["data"][0]["embedding"]
    vector = np.frombuffer(base64.b64decode(encoded), dtype="<f4")
    assert np.allclose(vector, bigram_vector("hello"), atol=1e-6) and raw.headers["x-gensandbox-receipt"]
    (event,) = [e for e in ledger_events(gateway.home) if e["gen_ai.operation.name"] == "embeddings"]
    assert event["gen_ai.request.model"] == "echo" and event["gensandbox.status"] == "ok"
    assert event["gensandbox.body_sha256"]


@pytest.mark.parametrize("arguments, parameter", [
    ({"model": "anthropic-echo", "input": "x"}, "model"),
    ({"model": "echo", "input": [1, 2, 3]}, "input"),
    ({"model": "echo", "input": "x", "dimensions": 8}, "dimensions"),
    ({"model": "echo", "input": []}, "input"),
])
def test_what_cannot_be_embedded_is_refused_by_name(gateway, recorder, arguments, parameter):
    with pytest.raises(openai.BadRequestError) as refused:
        client(gateway.base_url).embeddings.create(**arguments)
    assert refused.value.body["param"].startswith(parameter) and recorder.embedding_requests == []


@pytest.mark.slow
def test_the_embedded_embedder_answers_offline(home, tmp_path):
    config = load_config(None)
    server = BackgroundServer(create_app(config, SQLiteStore(config.database_path)), lifespan="on").start()
    try:
        answer = client(f"{server.url}/v1").embeddings.create(model="local/qwen2.5-coder-0.5b-instruct",
                                                              input=["김치찌개 끓이는 법", "how to cook kimchi stew"])
    finally:
        server.stop()
    first, second = (np.array(entry.embedding) for entry in answer.data)
    assert first.shape == second.shape and abs(np.linalg.norm(first) - 1) < 1e-3
