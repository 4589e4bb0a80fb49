"""The management API's working half: upload a suite, estimate a run, start, watch and cancel it, start audits.

What a caller names is checked before anything runs: models only among those its project shares, suites only by
name (built-in or configured) or by the token an upload of its own project returned, never by a path on the
server. An uploaded suite is validated when it arrives, with the CLI's own errors, and may carry declarative agent
environments only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from pydantic import Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from gensandbox.access import Principal, ProjectStore
from gensandbox.config import Config
from gensandbox.errors import GatewayError, NotFoundError, UserError
from gensandbox.runner import builtin_suite_names
from gensandbox.runner.jobs import estimate
from gensandbox.runner.uploads import open_uploaded_suite, save_upload
from gensandbox.store import open_store
from gensandbox.ui.api_common import Body, body_of, json_response
from gensandbox.ui.guard import needs, principal
from gensandbox.ui.rendering import language
from gensandbox.ui.scope import run_in_scope, usable_models
from gensandbox.ui.state import dashboard
from gensandbox.ui.text import t

UPLOAD_PREFIX = "upload:"
MAX_UPLOAD_BYTES = 5_000_000
_TOKEN = re.compile(r"^upload:([0-9a-f]{8,32})/([\w.-]{1,120})$")


class RunRequest(Body):
    models: list[str] = Field(min_length=1)
    suites: list[str] = Field(min_length=1)
    max_cost_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    limit: int | None = Field(default=None, ge=1)
    epochs: int = Field(default=1, ge=1, le=20)


def uploads_dir(config: Config, project_id: str) -> Path:
    return config.home / "uploads" / project_id


def suite_paths(config: Config, who: Principal, suites: list[str]) -> list[str]:
    """What the run opens for each named suite: a built-in or configured name as it is, an upload token as its
    file in the caller's project's uploads. Anything else (a path, another project's upload) is refused."""
    known = set(builtin_suite_names()) | {suite.name for suite in config.file.suites}
    opened = []
    for name in suites:
        if name in known:
            opened.append(name)
            continue
        match = _TOKEN.match(name)
        path = uploads_dir(config, who.project_id) / match.group(1) / match.group(2) if match else None
        if path is None or not path.is_file():
            raise GatewayError(400, f"unknown suite `{name}`: name a built-in or configured suite, or upload yours "
                               "(POST /api/suites) and use the `suite` it returns", "invalid_request_error",
                               "unknown_suite", "suites")
        opened.append(str(path))
    return opened


def check_models(board, who: Principal, models: list[str]) -> None:
    usable = usable_models(board.config, board.store, who)
    for model in models:
        if model not in usable:
            raise GatewayError(400, f"model `{model}` is not one your project may run; GET /api/models lists them",
                               "invalid_request_error", "model_not_found", "models")


@needs("runs.start")
async def upload_suite(request: Request) -> Response:
    """A suite file (multipart field `file`): stored in a folder of its own under the project's uploads, opened
    with the CLI's checks, and named by a token from then on."""
    board, who, lang = dashboard(request), principal(request), language(request)
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise GatewayError(411, "send the upload with a Content-Length", "invalid_request_error", "length_required")
    if int(length) > MAX_UPLOAD_BYTES + 64_000:
        raise GatewayError(413, f"the upload is {int(length):,} bytes; a suite may be at most {MAX_UPLOAD_BYTES:,} "
                           "bytes: split it, or ask an admin to configure it in gensandbox.toml",
                           "invalid_request_error", "file_too_large", "file")
    async with request.form(max_files=1, max_fields=2) as form:
        sent = form.get("file")
        if sent is None or isinstance(sent, str):
            raise GatewayError(400, "send the suite as the multipart field `file`", "invalid_request_error",
                               "missing_file", "file")
        data, filename = await sent.read(), sent.filename or ""
    saved = await run_in_threadpool(save_upload, filename, data, uploads_dir(board.config, who.project_id),
                                    max_bytes=MAX_UPLOAD_BYTES)
    try:
        suite = await run_in_threadpool(open_uploaded_suite, saved, board.config)
    except UserError:
        saved.unlink(missing_ok=True)  # a refused upload is not kept
        raise
    token = f"{UPLOAD_PREFIX}{saved.parent.name}/{saved.name}"
    return json_response({"suite": token, "name": suite.name, "items": suite.count,
                          "message": t(lang, "wb.uploaded", name=suite.name, items=suite.count)}, 201)


@needs("runs.start")
async def estimate_run(request: Request) -> Response:
    board, who, lang = dashboard(request), principal(request), language(request)
    body = await body_of(request, RunRequest)
    await board.read(check_models, board, who, body.models)
    suites = suite_paths(board.config, who, body.suites)
    found = await run_in_threadpool(estimate, board.config, body.models, suites, limit=body.limit,
                                    epochs=body.epochs)
    unpriced = t(lang, "wb.unpriced", models=", ".join(found.unpriced)) if found.unpriced else ""
    return json_response({"items": found.items, "calls": found.calls, "usd": found.usd,
                          "models": [m.__dict__ for m in found.models],
                          "message": t(lang, "wb.estimate_text", items=found.items, calls=found.calls,
                                       cost=f"{found.usd:.4f}", unpriced=unpriced)})


@needs("runs.start")
async def start_run(request: Request) -> Response:
    board, who = dashboard(request), principal(request)
    body = await body_of(request, RunRequest)
    await board.read(check_models, board, who, body.models)
    suites = suite_paths(board.config, who, body.suites)
    config = board.config
    owned = owner_recorder(config, lambda projects, run_id: projects.assign_run(run_id, who.project_id, who.key_id))
    job = board.runs.start(config, body.models, suites, max_cost_usd=body.max_cost_usd, on_started=owned,
                           limit=body.limit, epochs=body.epochs)
    board.run_owners[job.run_id] = who.project_id
    return json_response({"run_id": job.run_id, "status": job.progress().status}, 202)


@needs("runs.read")
async def run_progress(request: Request) -> Response:
    board, who, lang, run_id = dashboard(request), principal(request), language(request), request.path_params["run_id"]
    owner = board.run_owners.get(run_id)
    if owner is None:  # not started here: a run from the CLI, or before this server started
        project = await board.read(run_in_scope, board.store, who, run_id, f"no run `{run_id}`")
        run = await board.read(board.store.get_run, run_id)
        done = await board.read(board.store.count_samples, run_id)
        return json_response({"run_id": run_id, "status": run.status, "done": done, "total": done, "cost_usd": 0.0,
                              "errors": 0, "elapsed_s": 0.0, "recent": [], "project": project.project_id,
                              "message": t(lang, f"live.status.{run.status}", error="")})
    if not (who.is_admin or owner == who.project_id):
        raise NotFoundError(f"no run `{run_id}`")
    progress = board.runs.progress(run_id)
    return json_response(progress_json(progress, lang))


@needs("runs.start")
async def cancel_run(request: Request) -> Response:
    board, who, run_id = dashboard(request), principal(request), request.path_params["run_id"]
    started_here(board.run_owners, who, run_id, f"no run `{run_id}` is running here")
    return json_response(progress_json(board.runs.cancel(run_id), language(request)))


def started_here(owners: dict[str, str], who: Principal, job_id: str, not_found: str) -> None:
    """A run or audit this server started, for its own project (an admin: any); otherwise "not found"."""
    owner = owners.get(job_id)
    if owner is None or not (who.is_admin or owner == who.project_id):
        raise NotFoundError(not_found)


def owner_recorder(config: Config, assign) -> Callable[[str], None]:
    """What a run's or audit's thread calls with its id: records its project in the store, on a connection of
    that thread's own."""
    def record(job_id: str) -> None:
        store = open_store(config)
        try:
            assign(ProjectStore(store), job_id)
        finally:
            store.close()

    return record


def progress_json(progress, lang: str) -> dict:
    status = progress.status
    message = t(lang, f"live.status.{status}", error=progress.message or "")  # only "failed" shows the error
    if status == "cancelled" and progress.message:
        message = f"{message} — {progress.message}"
    return {"run_id": progress.id, "status": status, "done": progress.done, "total": progress.total,
            "cost_usd": progress.cost_usd, "errors": progress.errors, "elapsed_s": progress.elapsed_s,
            "recent": [f"{item.model} · {item.suite} · {item.item_id}: "
                       + ("error" if item.error else f"{item.score:.2f}" if item.score is not None else "–")
                       for item in progress.recent],
            "message": message}


class AuditRequest(Body):
    kind: str = Field(pattern="^(switching|self-preference)$")
    from_model: str | None = None  # switching: the model the app uses now
    to_model: str | None = None  # switching: the alternative
    suite: str | None = None  # switching: the workload
    models: list[str] | None = None  # self-preference: models that answer and recommend (default: from and to)
    max_items: int = Field(default=20, ge=1, le=500)
    max_cost_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False)


@needs("audits.start")
async def start_audit(request: Request) -> Response:
    """A switching-cost audit (from, to, a suite as workload) or a self-preference audit (models), on the
    project's models and suites; answered at once with a job to poll."""
    board, who = dashboard(request), principal(request)
    body = await body_of(request, AuditRequest)
    config = board.config
    owned = owner_recorder(config, lambda projects, audit_id: projects.assign_audit(audit_id, who.project_id))

    if body.kind == "switching":
        if not (body.from_model and body.to_model and body.suite) or body.from_model == body.to_model:
            raise GatewayError(400, "a switching audit needs `from_model`, a different `to_model` and a `suite`",
                               "invalid_request_error", "invalid_value", "to_model")
        await board.read(check_models, board, who, [body.from_model, body.to_model])
        suite = suite_paths(config, who, [body.suite])[0]
        job_id = board.audits.start_switching(config, body.from_model, [body.to_model], suite,
                                              max_items=body.max_items, max_cost=body.max_cost_usd, on_saved=owned)
    else:
        models = body.models or [name for name in (body.from_model, body.to_model) if name]
        if len(models) < 2:
            raise GatewayError(400, "a self-preference audit needs at least two `models` (from two vendors)",
                               "invalid_request_error", "invalid_value", "models")
        await board.read(check_models, board, who, models)
        job_id = board.audits.start_self_preference(config, models, on_saved=owned)
    board.audit_owners[job_id] = who.project_id
    return json_response(audit_job_json(board.audits.progress(job_id), language(request)), 202)


@needs("audits.read")
async def audit_job(request: Request) -> Response:
    board, who, job_id = dashboard(request), principal(request), request.path_params["job_id"]
    started_here(board.audit_owners, who, job_id, f"no audit job `{job_id}`")
    return json_response(audit_job_json(board.audits.progress(job_id), language(request)))


def audit_job_json(progress, lang: str) -> dict:
    status = progress.status
    stage = f" · {progress.stage}" if progress.stage else ""
    counted = f" ({progress.done}/{progress.total})" if progress.total else ""
    message = t(lang, f"live.status.{status}", error=progress.message or "") + stage + counted
    return {"job_id": progress.id, "status": status, "stage": progress.stage, "done": progress.done,
            "total": progress.total, "audit_id": progress.result_id, "message": message}
