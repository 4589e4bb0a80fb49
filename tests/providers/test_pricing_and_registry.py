import pytest

from gensandbox.calls.models import build_provider, default_concurrency, resolve_model
from gensandbox.config import ModelConfig, data_path, load_config
from gensandbox.errors import ConfigError, NotFoundError
from gensandbox.providers import load_price_table
from gensandbox.providers.anthropic import AnthropicProvider
from gensandbox.providers.openai_compat import OpenAICompatProvider
from gensandbox.types import Usage


def test_price_table_ships_a_version_and_a_compute_rate():
    table = load_price_table(data_path("prices.toml"))
    assert table.version
    assert table.compute.usd_per_hour > 0


def test_local_models_pay_for_measured_seconds():
    table = load_price_table(data_path("prices.toml"))
    price = table.price_for(ModelConfig(name="m", provider="local", path="x.gguf"))
    assert price.cost_usd(Usage(1000, 1000), latency_s=36.0) == pytest.approx(table.compute.usd_per_hour / 100)


def test_model_keys_override_the_table_and_tokens_are_priced_per_million():
    table = load_price_table(data_path("prices.toml"))
    model = ModelConfig(name="example/remote-model", provider="openai",
                        price_per_million_input_tokens=2.0, price_per_million_output_tokens=8.0)
    price = table.price_for(model)
    assert price.source == "gensandbox.toml"
    assert price.cost_usd(Usage(1_000_000, 500_000), latency_s=3.0) == pytest.approx(6.0)
    listed = table.price_for(ModelConfig(name="example/remote-model", provider="openai"))
    assert listed.per_million_input_tokens_usd == 0.5 and "price table" in listed.source


def test_unpriced_remote_model_says_so():
    table = load_price_table(data_path("prices.toml"))
    assert "unpriced" in table.price_for(ModelConfig(name="new", provider="openai")).source


def test_unknown_model_lists_the_known_ones(home):
    with pytest.raises(NotFoundError, match="unknown model `gpt-9`; known models: local/gemma-3-270m"):
        resolve_model("gpt-9", load_config())


def test_local_path_spec_needs_an_existing_file(home, tmp_path):
    with pytest.raises(NotFoundError, match="model file .*missing.gguf not found"):
        resolve_model(f"local:{tmp_path}/missing.gguf", load_config())


def test_local_path_spec_builds_an_open_weights_local_model(home, tmp_path):
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF")
    model = resolve_model(f"local:{gguf}", load_config())
    assert (model.provider, model.path, model.weights) == ("local", str(gguf), "open")


def test_api_key_env_that_is_not_set_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("GS_TEST_KEY", raising=False)
    (tmp_path / "g.toml").write_text('[[models]]\nname = "r"\nprovider = "openai"\napi_key_env = "GS_TEST_KEY"\n')
    config = load_config(tmp_path / "g.toml")
    with pytest.raises(ConfigError, match=r"\$GS_TEST_KEY, which is not set; export GS_TEST_KEY=..."):
        build_provider(config.models["r"], config)


def test_providers_are_chosen_by_kind(tmp_path, monkeypatch):
    monkeypatch.setenv("GS_TEST_KEY", "secret")
    (tmp_path / "g.toml").write_text(
        '[[models]]\nname = "o"\nprovider = "openai"\nbase_url = "http://127.0.0.1:1/v1"\n'
        '[[models]]\nname = "a"\nprovider = "anthropic"\napi_key_env = "GS_TEST_KEY"\nconcurrency = 3\n')
    config = load_config(tmp_path / "g.toml")
    assert isinstance(build_provider(config.models["o"], config), OpenAICompatProvider)
    anthropic = build_provider(config.models["a"], config)
    assert isinstance(anthropic, AnthropicProvider)
    assert anthropic.endpoint == "https://api.anthropic.com"
    assert default_concurrency(config.models["a"]) == 3
    assert default_concurrency(config.models["o"]) == 8
