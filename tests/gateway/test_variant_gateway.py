"""Variants served by the gateway as model names, through the official openai SDK, plain and streamed."""


import openai
import pytest

from gensandbox.calls.models import resolve_model
from gensandbox.config import load_config
from gensandbox.gateway import create_app
from gensandbox.store import SQLiteStore
from tests.gateway.conftest import ledger_events
from tests.upstream import BackgroundServer
from tests.variant_docs import write_variant_config

MORE = """
[[variants]]
name = "raw"
base = "echo"
system = "No post-processing: streamed as it comes."

[[variants]]
name = "routed"
base = "route:pair"
system = "Be kind."

[[variants]]
name = "damaged"
base = "echo"
retrieval = {folder = "bad-docs", embedding = "bigrams"}

[[routes]]
name = "pair"
policy = "fallback"
models = ["broken", "echo"]

[[models]]
name = "broken"
provider = "openai"
model = "error-500"
base_url = "{url}/v1"
"""


@pytest.fixture
def served(home, tmp_path, upstream, recorder):
    path = write_variant_config(tmp_path, upstream.url, extra=MORE.replace("{url}", upstream.url))
    (tmp_path / "bad-docs").mkdir()
    (tmp_path / "bad-docs" / "scan.pdf").write_bytes(b"%PDF-1.4 not really")
    config = load_config(path)
    server = BackgroundServer(create_app(config, SQLiteStore(config.database_path)), lifespan="on").start()
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    yield client, config
    server.stop()


def ask(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def test_variants_are_listed_as_models(served):
    client, _ = served
    owners = {model.id: model.owned_by for model in client.models.list()}
    assert owners["variant:shop"] == owners["variant:routed"] == "gensandbox-variant"
    assert "echo" in owners and "route:pair" in owners


def test_a_variant_answers_with_the_retrieved_passage_and_the_ledger_names_its_version(served, home, recorder):
    client, config = served
    raw = client.chat.completions.with_raw_response.create(model="variant:shop",
                                                           messages=ask("제주도 배송은 며칠 걸리나요?"))
    text = raw.parse().choices[0].message.content
    assert raw.headers["x-gensandbox-model"] == "variant:shop"
    assert "제주도 배송은 보통 5일이 걸립니다." in text and text.endswith("질문: 제주도 배송은 며칠 걸리나요?")
    sent = recorder.requests[-1]
    assert sent["model"] == "echo" and sent["messages"][0]["content"] == "You answer questions about the shop."
    (event,) = [e for e in ledger_events(home) if e["gen_ai.request.model"] == "variant:shop"]
    assert event["gensandbox.variant"] == "shop"
    assert event["gensandbox.variant_version"] == resolve_model("variant:shop", config).variant.version
    assert event["gen_ai.response.model"] == "variant:shop" and event["gensandbox.status"] == "ok"


@pytest.mark.parametrize(("model", "pieces"), [("variant:shop", 1), ("variant:raw", 3)])
def test_variants_stream(served, home, model, pieces):
    client, _ = served
    chunks = list(client.chat.completions.create(model=model, messages=ask("How long does the warranty last?"),
                                                 stream=True, stream_options={"include_usage": True}))
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    if model == "variant:shop":  # post-processed, so buffered into one piece
        assert "The warranty lasts seven years" in texts[0]
    else:
        assert "".join(texts) == "How long does the warranty last?"
    assert len(texts) >= pieces and chunks[-1].usage.completion_tokens > 0
    (event,) = [e for e in ledger_events(home) if e["gen_ai.request.model"] == model]
    assert event["gensandbox.variant"] == model.removeprefix("variant:") and "stream" in event["gensandbox.features"]


def test_a_variant_on_a_route_follows_the_route_and_falls_back(served, home, recorder):
    client, _ = served
    raw = client.chat.completions.with_raw_response.create(model="variant:routed", messages=ask("hello"))
    assert raw.parse().choices[0].message.content == "hello"
    assert raw.headers["x-gensandbox-model"] == "variant:routed@echo"
    assert raw.headers["x-gensandbox-route"] == "pair: fallback chain, in order"
    assert [r["messages"][0]["content"] for r in recorder.requests] == ["Be kind.", "Be kind."]  # broken, then echo
    events = [e for e in ledger_events(home) if e["gen_ai.request.model"] == "variant:routed"]
    assert [(e["gen_ai.response.model"], e["gensandbox.status"]) for e in events] == [
        ("variant:routed@broken", "error"), ("variant:routed@echo", "ok")]
    assert {e["gensandbox.variant"] for e in events} == {"routed"}


def test_an_unknown_variant_is_a_404_and_unreadable_documents_a_503(served):
    client, _ = served
    with pytest.raises(openai.NotFoundError, match="model `variant:nope` does not exist"):
        client.chat.completions.create(model="variant:nope", messages=ask("hi"))
    with pytest.raises(openai.InternalServerError, match="model `variant:damaged` is not available: cannot read "
                       "the PDF scan.pdf"):
        client.chat.completions.create(model="variant:damaged", messages=ask("hi"))
