"""From a model name to a working Provider. Heavy adapters are imported only when used."""

from __future__ import annotations

from pathlib import Path

from gensandbox.config import Config, ModelConfig, api_key_from_env
from gensandbox.errors import ConfigError, NotFoundError
from gensandbox.providers.base import Provider
from gensandbox.providers.regimes import SWEEP_MARK, parse_setting, setting_identity, split_sweep_name

LOCAL_FILE_PREFIX = "local:"
VARIANT_PREFIX = "variant:"  # a customised model: see providers/variant.py


def resolve_model(spec: str, config: Config) -> ModelConfig:
    """A configured or built-in model name, or `local:/path/to/model.gguf`."""
    if spec in config.models:
        return config.models[spec]
    if SWEEP_MARK in spec:  # MODEL@reasoning=SETTING: see providers/regimes.py
        base, setting = split_sweep_name(spec)
        parse_setting(setting)
        return resolve_model(base, config).model_copy(update={"name": spec, "sweep": setting})
    if spec.startswith(VARIANT_PREFIX):
        from gensandbox.providers.variant import resolve_variant

        return resolve_variant(spec, config)
    if spec.startswith(LOCAL_FILE_PREFIX):
        path = Path(spec.removeprefix(LOCAL_FILE_PREFIX)).expanduser()
        if not path.is_file():
            raise NotFoundError(f"model file {path} not found (from `{spec}`)")
        return ModelConfig(name=spec, provider="local", path=str(path), weights="open")
    known = ", ".join(sorted(config.models))
    raise NotFoundError(
        f"unknown model `{spec}`; known models: {known}; or use local:/path/to/model.gguf "
        "or add a [[models]] entry to gensandbox.toml"
    )


def build_provider(model: ModelConfig, config: Config) -> Provider:
    if model.sweep is not None:
        from gensandbox.providers.regimes import RegimeProvider

        return RegimeProvider(build_provider(_unswept(model), config), parse_setting(model.sweep))
    if model.variant is not None:
        from gensandbox.providers.variant import build_variant_provider

        return build_variant_provider(model, config)
    if model.provider == "local":
        return _local(model, config)
    api_key = api_key_from_env(model.api_key_env)
    if model.api_key_env and not api_key:
        raise ConfigError(
            f"model `{model.name}` reads its API key from ${model.api_key_env}, which is not set; "
            f"export {model.api_key_env}=... and run again"
        )
    if model.provider == "anthropic":
        from gensandbox.providers.anthropic import DEFAULT_BASE_URL, AnthropicProvider

        return AnthropicProvider(model.base_url or DEFAULT_BASE_URL, api_key, timeout_s=model.timeout_s)
    from gensandbox.providers.openai_compat import DEFAULT_BASE_URL, OpenAICompatProvider

    return OpenAICompatProvider(model.base_url or DEFAULT_BASE_URL, api_key, timeout_s=model.timeout_s)


def local_model_path(model: ModelConfig, config: Config) -> Path:
    """The GGUF for a local model, assembling built-in weights on first use."""
    if model.path:
        path = config.resolve_path(model.path)
        if not path.is_file():
            raise NotFoundError(f"model `{model.name}`: file {path} not found")
        return path
    from gensandbox.providers.weights import ensure_weights

    return ensure_weights(model.weights_package, config.models_dir)


def model_identity(model: ModelConfig, config: Config) -> dict:
    """What the model *is*, for the response-cache key and the run manifest: the weights' sha256 for
    local files, the endpoint and model id for remote APIs; a variant adds its version. Never a key or a timeout."""
    if model.sweep is not None:  # settings never share cached answers
        return {**model_identity(_unswept(model), config), **setting_identity(model.sweep)}
    if model.variant is not None:
        from gensandbox.providers.variant import variant_identity

        return variant_identity(model, config)
    if model.provider == "local":
        from gensandbox.providers.weights import known_sha256

        sha256 = model.weights_package.sha256 if model.weights_package and not model.path else None
        path = local_model_path(model, config)
        return {"provider": "local", "file": path.name,
                "gguf_sha256": sha256 or known_sha256(path, config.models_dir),
                "prompt_style": model.prompt_style, "few_shot": [list(pair) for pair in model.few_shot]}
    return {"provider": model.provider, "endpoint": (model.base_url or "").rstrip("/") or f"default:{model.provider}",
            "model": model.provider_model_id}


def _unswept(model: ModelConfig) -> ModelConfig:
    base, _ = split_sweep_name(model.name)
    return model.model_copy(update={"name": base, "sweep": None})


def _local(model: ModelConfig, config: Config) -> Provider:
    from gensandbox.providers.local import LocalProvider

    return LocalProvider(local_model_path(model, config), prompt_style=model.prompt_style,
                         few_shot=model.few_shot, n_ctx=model.n_ctx, timeout_s=model.timeout_s)


def default_concurrency(model: ModelConfig) -> int:
    """In-process models share the CPU: one call at a time uses every core. Remote APIs overlap."""
    if model.concurrency:
        return model.concurrency
    return 1 if model.provider == "local" else 8
