"""With no configuration at all, the gateway serves the embedded local models to the openai SDK."""

import openai
import pytest

from gensandbox.config import load_config
from gensandbox.gateway import create_app
from gensandbox.store import SQLiteStore
from tests.upstream import BackgroundServer

QWEN = "local/qwen2.5-coder-0.5b-instruct"
QUESTION = [{"role": "user", "content": "What is the capital of France? Answer with the city name only."}]


@pytest.mark.slow
def test_embedded_model_through_the_sdk_plain_and_streamed(home):
    config = load_config()
    server = BackgroundServer(create_app(config, SQLiteStore(config.database_path)), lifespan="on").start()
    try:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
        assert QWEN in [m.id for m in client.models.list()]
        raw = client.chat.completions.with_raw_response.create(model=QWEN, messages=QUESTION, temperature=0,
                                                               max_tokens=16)
        assert "Paris" in raw.parse().choices[0].message.content
        assert float(raw.headers["x-gensandbox-cost-usd"]) > 0  # measured seconds × the compute rate
        chunks = list(client.chat.completions.create(model=QWEN, messages=QUESTION, temperature=0, max_tokens=16,
                                                     stream=True, stream_options={"include_usage": True}))
        assert "Paris" in "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert chunks[-1].usage.completion_tokens >= 1 and chunks[-1].usage.prompt_tokens > 10
    finally:
        server.stop()
