"""The gateway serves the models admins registered in its store beside gensandbox.toml's."""

from starlette.testclient import TestClient

from gensandbox.config import load_config
from gensandbox.gateway import create_app
from gensandbox.store import open_store
from gensandbox.store.models import register_model


def test_a_registered_model_answers_through_the_gateway(home, upstream, recorder):
    config = load_config()
    store = open_store(config)
    register_model(store, {"name": "team-echo", "provider": "openai", "model": "echo",
                           "base_url": f"{upstream.url}/v1"}, "admin", config=config, allow_internal=True)
    try:
        with TestClient(create_app(config, store)) as client:
            listed = client.get("/v1/models").json()
            answer = client.post("/v1/chat/completions", json={
                "model": "team-echo", "messages": [{"role": "user", "content": "안녕, registered"}]})
    finally:
        store.close()
    assert "team-echo" in {model["id"] for model in listed["data"]}
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "안녕, registered"
    assert recorder.requests[-1]["model"] == "echo"
