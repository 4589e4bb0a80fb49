"""Models an admin registered at runtime, kept in the store beside runs, and served next to gensandbox.toml's.

A registration is a [[models]] entry of gensandbox.toml, validated by the same schema, so a registered model can
do (and declare: prices, features, context window, concurrency) whatever a configured one can. Its endpoint is
checked before it is stored (config/endpoints.py): public addresses only, unless the admin allows internal ones
for a model server on this machine or the LAN. The API key is never stored or shown: the registration names the
environment variable that holds it, read when the model is called.

Who may register is the caller's business (an admin role, checked at the HTTP or CLI edge); these functions take
the admin's name to record it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from gensandbox.canonical import now_utc
from gensandbox.config import (
    LOCAL_FILE_PREFIX,
    ROUTE_PREFIX,
    VARIANT_PREFIX,
    Config,
    ModelConfig,
    api_key_from_env,
    validate,
)
from gensandbox.config.endpoints import check_endpoint_url
from gensandbox.errors import ConfigError, DuplicateRecordError, NotFoundError, UserError
from gensandbox.store.sql import SQLStore

# Fields a registration may not set: the built-in catalogue's weights (an assembler is a module to import), and
# what the model registry itself fills in for variants and reasoning sweeps.
_RESERVED_FIELDS = ("weights_package", "variant", "sweep")
_RESERVED_NAME_MARKS = (VARIANT_PREFIX, ROUTE_PREFIX, LOCAL_FILE_PREFIX, "@")  # names with a meaning of their own
_COLUMNS = ("name", "provider", "base_url", "upstream_model", "api_key_env", "definition", "allow_internal",
            "registered_by", "registered_at")
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM registered_models"
_INSERT = (f"INSERT INTO registered_models ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
           "ON CONFLICT (name) DO NOTHING")


@dataclass(frozen=True)
class ModelRecord:
    """One registration: the model as config defines it, who registered it and when, and whether the admin
    allowed its endpoint to be an internal address."""

    model: ModelConfig
    registered_by: str
    registered_at: str
    allow_internal: bool = False

    @property
    def name(self) -> str:
        return self.model.name

    def public(self) -> dict:
        """What a listing shows: the definition (the key's variable name, never its value) and the registration."""
        return {"name": self.name, "definition": self.model.model_dump(exclude_none=True),
                "registered_by": self.registered_by, "registered_at": self.registered_at,
                "allow_internal": self.allow_internal}


def register_model(store: SQLStore, spec: dict | ModelConfig, registered_by: str, *, config: Config | None = None,
                   allow_internal: bool = False) -> ModelRecord:
    """Validate `spec` (a [[models]] entry) as gensandbox.toml would, check its endpoint, and store it.
    `config`: the models it may not clash with (gensandbox.toml's and the built-in ones). `allow_internal`: the
    admin's explicit choice to allow a loopback or LAN endpoint (never a link-local one)."""
    model = model_from_spec(spec)
    if config is not None and model.name in config.models:
        raise ConfigError(f"model `{model.name}` is already defined by {origin_of(model.name, config)}; register it "
                          "under another name")
    if model.base_url is not None:
        check_endpoint_url(model.base_url, allow_internal=allow_internal)
    record = ModelRecord(model, registered_by, now_utc(), allow_internal)
    with store.transaction():
        if store.db.execute(_INSERT, _row(record)).rowcount == 0:
            existing = registered_model(store, model.name)
            raise DuplicateRecordError(f"model `{model.name}` is already registered (by {existing.registered_by} at "
                                       f"{existing.registered_at}); remove it first or choose another name")
    return record


def model_from_spec(spec: dict | ModelConfig) -> ModelConfig:
    """A registration as a ModelConfig, refused with the schema's own words where it is wrong."""
    if isinstance(spec, dict):
        if "api_key" in spec:
            raise UserError("a registration may not carry the API key itself; put the key in an environment "
                            "variable on the server and give that variable's name in `api_key_env`")
        name = spec.get("name")
        spec = validate(ModelConfig, spec, f"model `{name}`" if isinstance(name, str) else "model registration")
    for field in _RESERVED_FIELDS:
        if getattr(spec, field) is not None:
            raise UserError(f"model `{spec.name}`: `{field}` cannot be registered; it is set by GenSandbox itself")
    if any(mark in spec.name for mark in _RESERVED_NAME_MARKS):
        raise UserError(f"model name `{spec.name}` may not contain {', '.join(_RESERVED_NAME_MARKS)}: those mark "
                        "variants, routes, model files and reasoning settings")
    return spec


def registered_models(store: SQLStore) -> list[ModelRecord]:
    """Every registered model, by name."""
    return [_record(row) for row in store.db.execute(f"{_SELECT} ORDER BY name").fetchall()]


def registered_model(store: SQLStore, name: str) -> ModelRecord:
    row = store.db.execute(f"{_SELECT} WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise NotFoundError(f"no registered model `{name}`; the registered ones: "
                            f"{', '.join(r.name for r in registered_models(store)) or 'none'}")
    return _record(row)


def remove_model(store: SQLStore, name: str) -> ModelRecord:
    """Remove a registration; the record removed. Runs that used the model keep its definition in their manifest."""
    with store.transaction():
        record = registered_model(store, name)
        store.db.execute("DELETE FROM registered_models WHERE name = ?", (name,))
    return record


def with_registered_models(config: Config, store: SQLStore) -> Config:
    """`config` with the store's registered models beside gensandbox.toml's and the built-in ones; a name both
    define differently is an error naming both, so no model silently shadows another."""
    models = dict(config.models)
    for record in registered_models(store):
        if models.get(record.name) == record.model:
            continue  # already joined (a config that came through here once)
        if record.name in models:
            raise ConfigError(f"model `{record.name}` is defined twice: by {origin_of(record.name, config)} and "
                              f"by a registration ({record.registered_by}, {record.registered_at}); rename the "
                              "[[models]] entry or remove the registration")
        models[record.name] = record.model
        api_key_from_env(record.model.api_key_env)  # known to the redactor from the start, like configured keys
    return dataclasses.replace(config, models=models)


def origin_of(name: str, config: Config) -> str:
    """Where a configured model comes from, in the user's terms."""
    if any(model.name == name for model in config.file.models):
        return f"[[models]] in {config.source or 'gensandbox.toml'}"
    return "the built-in catalogue"


def _row(record: ModelRecord) -> tuple:
    model = record.model
    definition = json.dumps(model.model_dump(exclude_none=True), ensure_ascii=False, sort_keys=True)
    return (model.name, model.provider, model.base_url, model.provider_model_id, model.api_key_env, definition,
            int(record.allow_internal), record.registered_by, record.registered_at)


def _record(row: tuple) -> ModelRecord:
    values = dict(zip(_COLUMNS, row, strict=True))
    model = ModelConfig.model_validate(json.loads(values["definition"]))
    return ModelRecord(model, values["registered_by"], values["registered_at"], bool(values["allow_internal"]))
