"""Reading gensandbox.toml, the built-in catalogue and the environment.

This module is the only reader of os.environ in GenSandbox.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from gensandbox.config.schema import FileConfig, ModelConfig, VariantConfig
from gensandbox.db.urls import is_postgres
from gensandbox.errors import ConfigError, NotFoundError
from gensandbox.redaction import register_secret

DEFAULT_CONFIG_NAME = "gensandbox.toml"
VARIANTS_FILE_NAME = "variants.toml"  # in GENSANDBOX_HOME: variants added by `gensandbox variant import`
T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class Config:
    """Everything a command needs to know, resolved: file settings, model catalogue, paths."""

    file: FileConfig
    models: dict[str, ModelConfig]
    source: Path | None  # the config file read, if any
    home: Path

    @property
    def variants(self) -> dict[str, VariantConfig]:
        """Variants by name: gensandbox.toml's, then imported ones (`gensandbox variant import`)."""
        return {variant.name: variant for variant in self.file.variants}

    @property
    def variants_path(self) -> Path:
        return self.home / VARIANTS_FILE_NAME

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def database_path(self) -> Path:
        return self.home / "gensandbox.db"

    @property
    def database_url(self) -> str:
        """GENSANDBOX_DATABASE_URL, else [store] url, else the SQLite file at `database_path`."""
        return os.environ.get("GENSANDBOX_DATABASE_URL") or self.file.store.url or f"sqlite:///{self.database_path}"

    @property
    def ledger_url(self) -> str:
        """GENSANDBOX_LEDGER_URL, else [ledger] url, else the store's database when that is PostgreSQL (processes
        that share a store share one chain), else the SQLite file beside the store."""
        explicit = os.environ.get("GENSANDBOX_LEDGER_URL") or self.file.ledger.url
        if explicit:
            return explicit
        if is_postgres(self.database_url):
            return self.database_url
        return f"sqlite:///{self.home / 'ledger.db'}"

    @property
    def signing_key_path(self) -> Path:
        return self.home / "keys" / "ledger-ed25519.pem"

    @property
    def price_file(self) -> Path:
        if self.file.price_file:
            return self.resolve_path(self.file.price_file)
        return data_path("prices.toml")

    def resolve_path(self, value: str) -> Path:
        """Relative paths in a config file are relative to that file, not to the working directory."""
        path = Path(value).expanduser()
        if not path.is_absolute() and self.source is not None:
            path = self.source.parent / path
        return path


def data_path(name: str) -> Path:
    return Path(str(resources.files("gensandbox") / "data" / name))


def gensandbox_home() -> Path:
    return Path(os.environ.get("GENSANDBOX_HOME") or Path.home() / ".cache" / "gensandbox").expanduser()


def api_key_from_env(variable: str | None) -> str | None:
    value = os.environ.get(variable) if variable else None
    register_secret(value)  # wherever an upstream or a log might repeat it, it is redacted (redaction.py)
    return value


SERVE_CONFIG_VARIABLE, SERVE_OPEN_VARIABLE = "GENSANDBOX_SERVE_CONFIG", "GENSANDBOX_SERVE_OPEN"


def serve_worker_settings() -> tuple[Path | None, bool]:
    """What `gensandbox serve --workers N` hands its worker processes: the config file (if any) and whether
    the gateway may be called without a key."""
    path = os.environ.get(SERVE_CONFIG_VARIABLE) or None
    return (Path(path) if path else None), os.environ.get(SERVE_OPEN_VARIABLE) == "1"


def debug_enabled() -> bool:
    return os.environ.get("GENSANDBOX_DEBUG", "") not in ("", "0")


def load_config(path: Path | None = None) -> Config:
    """Load `path`, or ./gensandbox.toml if it exists, or the defaults."""
    if path is None and Path(DEFAULT_CONFIG_NAME).is_file():
        path = Path(DEFAULT_CONFIG_NAME)
    if path is not None and not path.is_file():
        raise NotFoundError(f"config file {path} not found; pass an existing file to --config")
    raw = read_toml(path) if path else {}
    file_config = validate(FileConfig, raw, str(path or DEFAULT_CONFIG_NAME))
    models = {m.name: m for m in builtin_models()}
    for model in file_config.models:
        models[model.name] = model  # the user's definition wins over a built-in of the same name
        api_key_from_env(model.api_key_env)  # every configured credential is known to the redactor from the start
    home = gensandbox_home()
    file_config = _with_imported_variants(file_config, path.resolve().parent if path else Path.cwd(), home)
    return Config(file=file_config, models=models, source=path.resolve() if path else None, home=home)


def imported_variants(home: Path) -> list[VariantConfig]:
    """The variants in GENSANDBOX_HOME/variants.toml, as written there (folders relative to the home)."""
    path = home / VARIANTS_FILE_NAME
    if not path.is_file():
        return []
    return validate(FileConfig, {"variants": read_toml(path).get("variants", [])}, str(path)).variants


def _with_imported_variants(file_config: FileConfig, config_dir: Path, home: Path) -> FileConfig:
    """Every variant with its documents folder made absolute (relative to the file that defined it), so
    the definition means the same wherever a command runs. gensandbox.toml wins over an import of the
    same name."""
    variants = [_absolute_folder(v, config_dir) for v in file_config.variants]
    defined = {v.name for v in variants}
    variants += [_absolute_folder(v, home) for v in imported_variants(home) if v.name not in defined]
    return file_config.model_copy(update={"variants": variants})


def _absolute_folder(variant: VariantConfig, root: Path) -> VariantConfig:
    if variant.retrieval is None:
        return variant
    folder = Path(variant.retrieval.folder).expanduser()
    retrieval = variant.retrieval.model_copy(update={"folder": str(folder if folder.is_absolute() else root / folder)})
    return variant.model_copy(update={"retrieval": retrieval})


def builtin_models() -> list[ModelConfig]:
    raw = read_toml(data_path("models.toml"))
    return validate(FileConfig, {"models": raw.get("models", [])}, "built-in models.toml").models


def read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise NotFoundError(f"cannot read {path}: {error.strerror}") from None


def validate(schema: type[T], raw: dict, where: str) -> T:
    try:
        return schema.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(f"{where}: {describe_validation_error(error, schema)}") from None


def describe_validation_error(error: ValidationError, schema: type[BaseModel]) -> str:
    """The first problem, in the user's terms: which key, what is wrong, what is allowed."""
    first = error.errors()[0]
    location = _dotted(first["loc"])
    if first["type"] == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(schema, first["loc"][:-1]))
        return f"unknown key `{location}`; allowed here: {allowed}"
    if first["type"] == "missing":
        return f"`{location}` is required"
    message = first["msg"].removeprefix("Value error, ")
    got = first.get("input")
    suffix = f" (got {got!r})" if got is not None and not isinstance(got, dict | list) else ""
    return f"`{location}`: {message}{suffix}" if location else f"{message}{suffix}"


def _dotted(location: tuple) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _allowed_keys(schema: type[BaseModel], parent: tuple) -> list[str]:
    model = schema
    for part in parent:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation
        model = _model_inside(annotation) or model
    return list(model.model_fields)


def _model_inside(annotation) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_inside(arg)
        if found:
            return found
    return None
