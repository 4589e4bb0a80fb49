"""Models registered by admins: kept in the store (SQLite and PostgreSQL), validated by gensandbox.toml's schema,
their endpoints checked, served beside the configured models, and answering a run on a loopback upstream."""

import pytest

import gensandbox
from gensandbox.config import load_config
from gensandbox.errors import ConfigError, DuplicateRecordError, NotFoundError, UserError
from gensandbox.store import open_store
from gensandbox.store.models import (
    register_model,
    registered_model,
    registered_models,
    remove_model,
    with_registered_models,
)
from tests.helpers import SMALL_ITEMS, write_suite

PUBLIC = {"name": "acme-large", "provider": "openai", "model": "acme-large-2026", "base_url": "https://8.8.8.8/v1",
          "api_key_env": "ACME_API_KEY", "price_per_million_input_tokens": 0.5,
          "price_per_million_output_tokens": 1.5, "features": ["stream", "tools"], "context_window": 128000}


def test_a_registration_is_kept_with_who_and_when_and_removed(store):
    record = register_model(store, PUBLIC, "admin@example.com")
    assert (record.name, record.registered_by, record.allow_internal) == ("acme-large", "admin@example.com", False)
    (listed,) = registered_models(store)
    assert listed == record
    assert listed.model.provider_model_id == "acme-large-2026" and listed.model.context_window == 128000
    assert listed.model.price_per_million_output_tokens == 1.5 and listed.model.features == ["stream", "tools"]
    assert listed.public()["definition"]["api_key_env"] == "ACME_API_KEY"
    assert remove_model(store, "acme-large") == record
    assert registered_models(store) == []
    with pytest.raises(NotFoundError, match="no registered model `acme-large`; the registered ones: none"):
        remove_model(store, "acme-large")


def test_a_name_is_registered_once(store):
    register_model(store, PUBLIC, "alice")
    with pytest.raises(DuplicateRecordError, match="`acme-large` is already registered \\(by alice at .*remove it"):
        register_model(store, PUBLIC | {"model": "other"}, "bob")
    assert registered_model(store, "acme-large").registered_by == "alice"


@pytest.mark.parametrize("spec, message", [
    (PUBLIC | {"base_url": "http://169.254.169.254/latest/"}, "link-local address"),
    (PUBLIC | {"base_url": "http://127.0.0.1:8080/v1"}, "internal address .*allow internal addresses"),
    (PUBLIC | {"base_url": "http://[::ffff:10.0.0.1]/v1"}, "internal address"),
    (PUBLIC | {"base_url": "file:///etc/passwd"}, "only http:// and https://"),
    (PUBLIC | {"api_key": "sk-secret"}, "may not carry the API key itself.*api_key_env"),
    (PUBLIC | {"provider": "vertex"}, "`provider`: Input should be 'local', 'openai' or 'anthropic'"),
    (PUBLIC | {"temperature": 0.2}, "unknown key `temperature`; allowed here: name, provider"),
    ({k: v for k, v in PUBLIC.items() if k != "name"}, "`name` is required"),
    (PUBLIC | {"name": "local:/etc/passwd"}, "may not contain variant:, route:, local:, @"),
    (PUBLIC | {"name": "acme@reasoning=high"}, "may not contain"),
    (PUBLIC | {"weights_package": {"file": "x.gguf", "sha256": "0" * 64, "assembler": "os"}},
     "`weights_package` cannot be registered"),
])
def test_a_bad_registration_is_refused_in_words_and_nothing_is_kept(store, spec, message):
    with pytest.raises(UserError, match=message) as caught:
        register_model(store, spec, "admin")
    assert "sk-secret" not in str(caught.value)
    assert registered_models(store) == []


def test_an_admin_may_allow_an_internal_endpoint_but_never_metadata(store):
    local = PUBLIC | {"name": "lan-vllm", "base_url": "http://10.0.0.7:8000/v1"}
    assert register_model(store, local, "admin", allow_internal=True).allow_internal
    metadata = PUBLIC | {"name": "meta", "base_url": "http://169.254.169.254/v1"}
    with pytest.raises(UserError, match="link-local"):
        register_model(store, metadata, "admin", allow_internal=True)
    assert [r.name for r in registered_models(store)] == ["lan-vllm"]


def test_a_name_the_config_defines_cannot_be_registered(home, store, tmp_path):
    path = tmp_path / "gensandbox.toml"
    path.write_text('[[models]]\nname = "acme-large"\nprovider = "openai"\nbase_url = "https://8.8.8.8/v1"\n')
    config = load_config(path)
    with pytest.raises(ConfigError, match=f"`acme-large` is already defined by \\[\\[models\\]\\] in {path}"):
        register_model(store, PUBLIC, "admin", config=config)
    with pytest.raises(ConfigError, match="already defined by the built-in catalogue"):
        register_model(store, PUBLIC | {"name": "local/gemma-3-270m"}, "admin", config=config)


def test_registered_models_join_the_config_and_a_clash_names_both(home, store, tmp_path):
    register_model(store, PUBLIC, "alice")
    config = with_registered_models(load_config(), store)
    assert config.models["acme-large"].base_url == "https://8.8.8.8/v1"
    assert "local/gemma-3-270m" in config.models  # the built-in ones are still there
    assert with_registered_models(config, store) == config  # joining again changes nothing
    path = tmp_path / "gensandbox.toml"  # later, someone adds the same name to the file
    path.write_text('[[models]]\nname = "acme-large"\nprovider = "openai"\nbase_url = "https://1.1.1.1/v1"\n')
    with pytest.raises(ConfigError, match=f"`acme-large` is defined twice: by \\[\\[models\\]\\] in {path} and by a "
                                          "registration \\(alice, .*rename the \\[\\[models\\]\\] entry"):
        with_registered_models(load_config(path), store)


def test_a_registered_model_on_a_loopback_upstream_answers_a_run(home, tmp_path, recorder, upstream, monkeypatch):
    monkeypatch.setenv("ECHO_KEY", "sk-echo-registered")
    config = load_config()
    store = open_store(config)
    try:
        register_model(store, {"name": "echo-registered", "provider": "openai", "model": "echo",
                               "base_url": f"{upstream.url}/v1", "api_key_env": "ECHO_KEY",
                               "price_per_million_input_tokens": 1.0, "price_per_million_output_tokens": 2.0},
                       "admin", config=config, allow_internal=True)
    finally:
        store.close()
    suite = write_suite(tmp_path, "capitals", SMALL_ITEMS[:2])
    result = gensandbox.evaluate(["echo-registered"], [str(suite)], config=config, run_id="registered")  # joins them
    assert result.status == "finished"
    (row,) = result.rows
    assert row.key == ("echo-registered", "capitals") and row.n == 2 and row.cost_usd > 0 and row.errors == 0
    assert sorted(request["model"] for request in recorder.requests) == ["echo", "echo"]  # the upstream's own id
    assert all(headers.get("authorization") == "Bearer sk-echo-registered" for headers in recorder.headers)


def test_registrations_travel_with_a_copied_store(store, tmp_path):
    from gensandbox.store import store_at
    from gensandbox.store.copying import copy_store

    record = register_model(store, PUBLIC, "alice")
    target = store_at(f"sqlite:///{tmp_path / 'copy.db'}")
    try:
        copy_store(store.db, target.db)
        assert registered_models(target) == [record]
    finally:
        target.close()
