from pathlib import Path

import pytest

from gensandbox.config import load_config
from gensandbox.errors import ConfigError, NotFoundError

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gensandbox.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_config_means_the_two_local_models_and_built_in_suites(home):
    config = load_config()
    assert config.source is None
    assert config.file.run.models == ["local/qwen2.5-coder-0.5b-instruct", "local/gemma-3-270m"]
    assert config.file.run.suites == ["basics-en", "basics-ko"]
    assert config.database_path == home / "gensandbox.db"
    assert config.models_dir == home / "models"


def test_gensandbox_toml_in_the_working_directory_is_picked_up(home, tmp_path):
    write(tmp_path, '[run]\nsuites = ["basics-ko"]\n')
    assert load_config().file.run.suites == ["basics-ko"]


def test_unknown_key_names_the_key_and_what_is_allowed(tmp_path):
    path = write(tmp_path, '[[models]]\nname = "x"\nprovider = "openai"\nbase_ur = "http://h"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "unknown key `models[0].base_ur`" in message
    assert "base_url" in message and "api_key_env" in message


def test_bad_value_names_the_key_and_the_allowed_values(tmp_path):
    path = write(tmp_path, '[[models]]\nname = "x"\nprovider = "openai"\norigin = "korea"\n')
    with pytest.raises(ConfigError, match=r"`models\[0\].origin`: Input should be 'domestic' or 'foreign' "
                                          r"\(got 'korea'\)"):
        load_config(path)


def test_unknown_provider_lists_the_providers(tmp_path):
    path = write(tmp_path, '[[models]]\nname = "x"\nprovider = "azure"\n')
    with pytest.raises(ConfigError, match="'local', 'openai' or 'anthropic'"):
        load_config(path)


def test_missing_required_key(tmp_path):
    path = write(tmp_path, '[[models]]\nprovider = "openai"\n')
    with pytest.raises(ConfigError, match=r"`models\[0\].name` is required"):
        load_config(path)


def test_local_model_without_a_file(tmp_path):
    path = write(tmp_path, '[[models]]\nname = "x"\nprovider = "local"\n')
    with pytest.raises(ConfigError, match="a local model needs `path`"):
        load_config(path)


def test_toml_syntax_error_says_where(tmp_path):
    path = write(tmp_path, "[run\nmodels = 3\n")
    with pytest.raises(ConfigError, match="not valid TOML.*line 1"):
        load_config(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(NotFoundError, match="config file .*nope.toml not found"):
        load_config(tmp_path / "nope.toml")


def test_user_model_replaces_built_in_of_same_name_and_paths_are_relative_to_the_file(tmp_path):
    path = write(tmp_path, '[[models]]\nname = "local/gemma-3-270m"\nprovider = "local"\npath = "m.gguf"\n')
    config = load_config(path)
    model = config.models["local/gemma-3-270m"]
    assert model.path == "m.gguf"
    assert config.resolve_path(model.path) == tmp_path.resolve() / "m.gguf"


def test_the_example_config_in_the_repository_is_valid():
    config = load_config(REPO / "gensandbox.example.toml")
    assert {"deepseek-chat", "claude-haiku"} <= set(config.models)
    assert any(m.origin == "domestic" for m in config.models.values())
