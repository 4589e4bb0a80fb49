"""Configuration: gensandbox.toml, the built-in model catalogue, paths and the environment."""

from gensandbox.config.loading import (
    Config,
    api_key_from_env,
    data_path,
    debug_enabled,
    load_config,
    read_toml,
    validate,
)
from gensandbox.config.schema import (
    FewShot,
    FileConfig,
    LedgerConfig,
    ModelConfig,
    RetrievalConfig,
    RouteConfig,
    RunConfig,
    ServeConfig,
    StoreConfig,
    SuiteConfig,
    VariantConfig,
    VariantSpec,
    WeightsPackage,
)

__all__ = [
    "Config",
    "FewShot",
    "FileConfig",
    "LedgerConfig",
    "ModelConfig",
    "RetrievalConfig",
    "RouteConfig",
    "RunConfig",
    "ServeConfig",
    "StoreConfig",
    "SuiteConfig",
    "VariantConfig",
    "VariantSpec",
    "WeightsPackage",
    "api_key_from_env",
    "data_path",
    "debug_enabled",
    "load_config",
    "read_toml",
    "validate",
]
