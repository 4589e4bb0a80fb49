"""From a model name to a working Provider: configured and built-in models, `local:PATH`, sweep settings
(`MODEL@reasoning=…`), variants (`variant:NAME`, a base model's provider wrapped) and embedding models. Heavy
adapters are imported only when used."""

from __future__ import annotations

from pathlib import Path

from gensandbox.config import (
    LOCAL_FILE_PREFIX,
    ROUTE_PREFIX,
    VARIANT_PREFIX,
    Config,
    ModelConfig,
    VariantSpec,
    api_key_from_env,
)
from gensandbox.errors import ConfigError, NotFoundError, UserError
from gensandbox.providers.base import Provider
from gensandbox.providers.regimes import SWEEP_MARK, parse_setting, setting_identity, split_sweep_name
from gensandbox.variants.definition import VariantProvider, folder_digest, variant_version
from gensandbox.variants.embeddings import LOCAL_EMBEDDING_MODEL, Embedder, LocalEmbedder, OpenAIEmbedder


def resolve_model(spec: str, config: Config) -> ModelConfig:
    """A configured or built-in model name, or `local:/path/to/model.gguf`."""
    if spec in config.models:
        return config.models[spec]
    if SWEEP_MARK in spec:  # MODEL@reasoning=SETTING: see providers/regimes.py
        base, setting = split_sweep_name(spec)
        parse_setting(setting)
        return resolve_model(base, config).model_copy(update={"name": spec, "sweep": setting})
    if spec.startswith(VARIANT_PREFIX):
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


# ---- variants: a base model's provider, wrapped ----


def resolve_variant(spec: str, config: Config) -> ModelConfig:
    """`variant:NAME`, or `variant:NAME@MODEL` for the variant re-based on another model (a version of its own)."""
    name, _, rebase = spec.removeprefix(VARIANT_PREFIX).partition("@")
    variant = config.variants.get(name)
    if variant is None:
        known = ", ".join(sorted(config.variants)) or "none yet"
        raise NotFoundError(f"unknown variant `{name}`; known variants: {known}; add [[variants]] to "
                            "gensandbox.toml or `gensandbox variant import FILE`")
    if rebase:
        variant = variant.model_copy(update={"base": rebase})
    if variant.base.startswith(ROUTE_PREFIX):
        raise UserError(f"variant `{name}` is based on the route `{variant.base}`, which only the gateway serves; "
                        f"to run it, pick one model: variant:{name}@MODEL")
    if variant.base.startswith(VARIANT_PREFIX):
        raise ConfigError(f"variant `{name}`: `base` must be a model or a route, not another variant")
    base = resolve_model(variant.base, config)
    few_shot = base.few_shot
    if base.prompt_style == "completion":  # a base model has no turns: its examples go into the Q:/A: prompt
        few_shot = [*base.few_shot, *((shot.input, shot.output) for shot in variant.few_shot)]
    version = variant_version(variant, folder_digest(variant))
    return base.model_copy(update={"name": spec, "model": base.provider_model_id, "few_shot": few_shot,
                                   "variant": VariantSpec(definition=variant, version=version)})


def variant_identity(model: ModelConfig, config: Config) -> dict:
    """The base's identity, the version, and (with retrieval) the embedding model's identity: the version names
    the embedding setting, not what it points to, and other vectors could retrieve other passages."""
    identity = {**model_identity(model.model_copy(update={"variant": None}), config), "variant": model.variant.version}
    retrieval = model.variant.definition.retrieval
    if retrieval is not None:
        identity["embedding"] = embedder_for(retrieval.embedding, config).identity
    return identity


def build_variant_provider(model: ModelConfig, config: Config) -> Provider:
    """The base's provider wrapped; refused if the definition or documents changed since the version was taken
    (a resumed or repeated run would otherwise silently answer differently)."""
    definition, version = model.variant.definition, model.variant.version
    now = variant_version(definition, folder_digest(definition))
    if now != version:
        raise UserError(f"variant `{definition.name}` was version {version} but its documents or definition now "
                        f"make version {now}; start a new run to use it as it is now")
    retriever = None
    if definition.retrieval is not None:
        from gensandbox.variants.retrieval import Retriever

        retriever = Retriever(Path(definition.retrieval.folder), definition.retrieval,
                              embedder_for(definition.retrieval.embedding, config), config.home / "indexes")
    base = build_provider(model.model_copy(update={"variant": None}), config)
    return VariantProvider(base, definition, retriever, few_shot_turns=model.prompt_style == "chat")


def embedder_for(setting: str, config: Config) -> Embedder:
    """`"local"` (the embedded model), a configured local model, or a provider="openai" model."""
    model = resolve_model(LOCAL_EMBEDDING_MODEL if setting == "local" else setting, config)
    if model.variant is not None or model.provider == "anthropic":
        raise ConfigError(f"`retrieval.embedding = \"{setting}\"`: use \"local\", a local model, or a "
                          "provider = \"openai\" model whose endpoint serves /v1/embeddings")
    if model.provider == "local":
        return LocalEmbedder(local_model_path(model, config), model_identity(model, config)["gguf_sha256"])
    api_key = api_key_from_env(model.api_key_env)
    if model.api_key_env and not api_key:
        raise ConfigError(f"embedding model `{model.name}` reads its API key from ${model.api_key_env}, which is "
                          f"not set; export {model.api_key_env}=... and run again")
    from gensandbox.providers.openai_compat import DEFAULT_BASE_URL

    return OpenAIEmbedder(model.base_url or DEFAULT_BASE_URL, model.provider_model_id, api_key,
                          timeout_s=model.timeout_s)
