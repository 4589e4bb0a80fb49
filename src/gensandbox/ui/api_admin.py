"""The management API's admin half: projects, keys and the models a caller may use. Each change is checked by the
rights table and recorded on the ledger (gensandbox.access does both)."""

from __future__ import annotations

import json
import secrets
import shutil
from dataclasses import asdict

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from gensandbox.access import ProjectStore
from gensandbox.access.keys import KeyAdmin
from gensandbox.access.projects import ProjectAdmin
from gensandbox.access.record import AdminRecorder
from gensandbox.config import VARIANT_PREFIX
from gensandbox.errors import GatewayError
from gensandbox.store.gateway import KeyRecord
from gensandbox.store.models import register_model, remove_model
from gensandbox.ui.api_common import Body, body_of, json_response
from gensandbox.ui.api_work import check_models
from gensandbox.ui.guard import needs, principal
from gensandbox.ui.scope import usable_models
from gensandbox.ui.state import dashboard
from gensandbox.variants.catalogue import import_variant


class NewProject(Body):
    project_id: str
    title: str = ""
    privacy: str = "hashes"
    regulator_text: bool = False
    models: list[str] | None = None


class ProjectChanges(Body):
    title: str | None = None
    privacy: str | None = None
    regulator_text: bool | None = None
    models: list[str] | None = None


class NewKey(Body):
    role: str
    project: str = "default"
    budget_usd: float | None = None
    rpm: int | None = None
    label: str | None = None


class KeyChanges(Body):
    role: str | None = None
    budget_usd: float | None = None
    rpm: int | None = None
    label: str | None = None


@needs(None)
async def list_projects(request: Request) -> Response:
    """Every project for an admin; one's own project for anyone else."""
    board, who = dashboard(request), principal(request)
    projects = await board.read(lambda: ProjectStore(board.store).list())
    return json_response([asdict(p) for p in projects if who.is_admin or p.project_id == who.project_id])


@needs("projects.manage")
async def create_project(request: Request) -> Response:
    board, body = dashboard(request), await body_of(request, NewProject)
    admin = ProjectAdmin(board.store, AdminRecorder(board.config))
    record = await board.read(lambda: admin.create(principal(request), body.project_id, body.title,
                                                   privacy=body.privacy, regulator_text=body.regulator_text,
                                                   models=body.models))
    return json_response(asdict(record), 201)


@needs("projects.manage")
async def change_project(request: Request) -> Response:
    board, body = dashboard(request), await body_of(request, ProjectChanges)
    admin = ProjectAdmin(board.store, AdminRecorder(board.config))
    changes = body.model_dump(exclude_none=True)
    record = await board.read(lambda: admin.change(principal(request), request.path_params["project_id"], changes))
    return json_response(asdict(record))


@needs("keys.manage")
async def list_keys(request: Request) -> Response:
    board = dashboard(request)
    keys = await board.read(lambda: KeyAdmin(board.store, AdminRecorder(board.config)).list(principal(request)))
    return json_response([key_json(key) for key in keys])


@needs("keys.manage")
async def create_key(request: Request) -> Response:
    """The key's secret is in this answer and nowhere else, ever."""
    board, body = dashboard(request), await body_of(request, NewKey)
    admin = KeyAdmin(board.store, AdminRecorder(board.config))
    secret, record = await board.read(lambda: admin.create(principal(request), body.role, body.project,
                                                           budget_usd=body.budget_usd, rpm=body.rpm,
                                                           label=body.label))
    board.keys.reload()
    return json_response({"key": secret, **key_json(record)}, 201)


@needs("keys.manage")
async def change_key(request: Request) -> Response:
    board, body = dashboard(request), await body_of(request, KeyChanges)
    admin = KeyAdmin(board.store, AdminRecorder(board.config))
    changes = body.model_dump(exclude_unset=True)
    record = await board.read(lambda: admin.change(principal(request), request.path_params["key_id"], changes))
    board.keys.reload()
    return json_response(key_json(record))


@needs("keys.manage")
async def revoke_key(request: Request) -> Response:
    board = dashboard(request)
    admin = KeyAdmin(board.store, AdminRecorder(board.config))
    record = await board.read(lambda: admin.revoke(principal(request), request.path_params["key_id"]))
    board.keys.reload()  # its sessions end with it, now rather than within the second
    return json_response(key_json(record))


class NewVariant(Body):
    export: dict  # what `gensandbox variant export` writes
    base: str | None = None  # re-base it on this model (one the project shares)


class NewModel(Body):
    """A [[models]] entry (validated by gensandbox.toml's own schema), and whether a loopback or LAN endpoint is
    meant (never a link-local one, such as a cloud's metadata address)."""

    model: dict
    allow_internal: bool = False


@needs(None)
async def list_models(request: Request) -> Response:
    """The models the caller's project shares with it (every configured and registered model for an admin)."""
    board = dashboard(request)
    usable = await board.read(usable_models, board.config, board.store, principal(request))
    return json_response([{"name": name, "provider": model.provider, "vendor": model.vendor, "origin": model.origin}
                          for name, model in usable.items()])


@needs("models.register")
async def register(request: Request) -> Response:
    """Register a model endpoint: its address is checked (no internal address unless the admin says so, never a
    link-local one) off the event loop, since that resolves the host."""
    board, who, body = dashboard(request), principal(request), await body_of(request, NewModel)
    record = await run_in_threadpool(register_model, board.store, body.model, who.key_id, config=board.config,
                                     allow_internal=body.allow_internal)
    await run_in_threadpool(AdminRecorder(board.config).record, who, "model.registered", who.project_id,
                            {"model": record.name, "provider": record.model.provider,
                             "base_url": record.model.base_url, "allow_internal": body.allow_internal})
    return json_response(record.public(), 201)


@needs("models.register")
async def unregister(request: Request) -> Response:
    board, who, name = dashboard(request), principal(request), request.path_params["name"]
    record = await board.read(remove_model, board.store, name)
    await run_in_threadpool(AdminRecorder(board.config).record, who, "model.removed", who.project_id,
                            {"model": record.name})
    return json_response(record.public())


def key_json(key: KeyRecord) -> dict:
    """A key as the API shows it: never its hash, which would let a holder test guesses offline."""
    record = asdict(key)
    record.pop("key_hash")
    return record


@needs("variants.register")
async def register_variant(request: Request) -> Response:
    """Install a variant from the file `gensandbox variant export` writes (its documents travel inside it), on
    one of the project's models; it joins the project's models, and the act is on the ledger. A gateway already
    serving offers it after a restart, as it does registered models."""
    board, who = dashboard(request), principal(request)
    body = await body_of(request, NewVariant)
    base = body.base or (body.export.get("definition") or {}).get("base")
    if not isinstance(base, str) or not base:
        raise GatewayError(400, "the export names no base model: send `base`", "invalid_request_error",
                           "invalid_value", "base")
    await board.read(check_models, board, who, [base])

    def install():
        folder = board.config.home / "uploads" / who.project_id / f"variant-{secrets.token_hex(8)}"
        folder.mkdir(parents=True)
        path = folder / "variant.json"
        path.write_text(json.dumps(body.export, ensure_ascii=False), encoding="utf-8")
        try:
            return import_variant(board.config, path, base)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    installed = await run_in_threadpool(install)
    name = VARIANT_PREFIX + installed.variant.name
    projects = ProjectStore(board.store)
    project = await board.read(projects.get, who.project_id)
    if not project.allows_model(name):
        await board.read(projects.change, who.project_id, {"models": [*project.models, name]})
    await run_in_threadpool(AdminRecorder(board.config).record, who, "variant.registered", who.project_id,
                            {"variant": name, "base": base, "version": installed.version})
    return json_response({"variant": name, "base": base, "version": installed.version}, 201)
