"""The management API's reading half: runs and their results and samples, audits, traffic, the ledger's
verification and traces, each limited to what the caller's project owns and its role may read."""

from __future__ import annotations

import json
from dataclasses import asdict

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from gensandbox.canonical import parse_since, stored_form
from gensandbox.errors import Denied, GatewayError, NotFoundError, UserError
from gensandbox.ledger.requests import traffic_summary
from gensandbox.ledger.writer import open_backend
from gensandbox.runner import aggregate
from gensandbox.runner.results import by_model_and_suite, results_json
from gensandbox.ui import ledger_data
from gensandbox.ui.api_common import json_response
from gensandbox.ui.guard import needs, principal
from gensandbox.ui.ledger_pages import traceable
from gensandbox.ui.scope import reads_text, run_in_scope, scope_of, visible_audit, visible_audits
from gensandbox.ui.state import dashboard

SAMPLES_PER_PAGE = 100


@needs("runs.read")
async def list_runs(request: Request) -> Response:
    board = dashboard(request)
    scope = await board.read(scope_of, board.store, principal(request))
    runs = await board.read(board.store.list_runs)
    return json_response([{"run_id": run.run_id, "status": run.status, "created_at": run.created_at,
                           "finished_at": run.finished_at, "project": scope.run_projects.get(run.run_id),
                           "models": [model["name"] for model in run.models],
                           "suites": [suite["name"] for suite in run.suites]}
                          for run in runs if scope.sees_run(run.run_id)])


@needs("runs.read")
async def run_results(request: Request) -> Response:
    board, run_id = dashboard(request), request.path_params["run_id"]
    await board.read(run_in_scope, board.store, principal(request), run_id, _no_run(run_id))
    rows = await board.read(lambda: aggregate(board.store.score_rows(run_id), by_model_and_suite,
                                              resamples=board.config.file.run.bootstrap_resamples))
    run = await board.read(board.store.get_run, run_id)
    return json_response({**results_json(run_id, rows), "status": run.status})


@needs("samples.read")
async def run_samples(request: Request) -> Response:
    """A page of the run's samples (prompts, answers, scores): `?offset=&limit=` (at most 100)."""
    board, who, run_id = dashboard(request), principal(request), request.path_params["run_id"]
    project = await board.read(run_in_scope, board.store, who, run_id, _no_run(run_id))
    if not reads_text(board.store, who, project):
        raise Denied(403, f"project `{project.project_id}` has not granted regulators its prompts and answers "
                     "(privacy \"full\" with regulators' access); results, reports and audits stay open to you",
                     "permission_denied")
    offset, limit = _int(request, "offset", 0), min(_int(request, "limit", SAMPLES_PER_PAGE), SAMPLES_PER_PAGE)

    def page():
        samples = []
        for index, sample in enumerate(board.store.samples(run_id)):
            if index >= offset + limit:
                break
            if index >= offset:
                samples.append(asdict(sample))
        return samples

    return json_response({"run_id": run_id, "offset": offset, "samples": await board.read(page)})


@needs("audits.read")
async def list_audits(request: Request) -> Response:
    board = dashboard(request)
    audits = await board.read(visible_audits, board.store, principal(request))
    return json_response([{"audit_id": audit.audit_id, "kind": audit.kind, "title": audit.title,
                           "created_at": audit.created_at, "project": project} for audit, project in audits])


@needs("audits.read")
async def audit_result(request: Request) -> Response:
    board = dashboard(request)
    audit = await board.read(visible_audit, board.store, principal(request), request.path_params["audit_id"])
    return json_response({"audit_id": audit.audit_id, "kind": audit.kind, "title": audit.title,
                          "created_at": audit.created_at, "result": audit.result})


@needs("traffic.aggregate")
async def traffic(request: Request) -> Response:
    """Requests, errors, tokens, spend and latency per key and model: the caller's project's keys (every key for an
    admin). `?since=` an ISO time."""
    board = dashboard(request)
    try:
        since = parse_since(request.query_params.get("since"))
    except UserError as error:
        raise GatewayError(400, str(error), "invalid_request_error", "invalid_value", "since") from None
    scope = await board.read(scope_of, board.store, principal(request))
    moment = None if since is None else stored_form(since)
    rows = await run_in_threadpool(_traffic_rows, board.config.ledger_url, moment, scope.project_keys())
    return json_response({"since": moment, "traffic": rows})


@needs(None)
async def trace(request: Request) -> Response:
    """A session's steps the caller may see; another project's steps under the same session id are left out."""
    board, session = dashboard(request), request.path_params["session"]
    scope = await board.read(scope_of, board.store, principal(request))
    timeline = await run_in_threadpool(ledger_data.session_trace, board.config.ledger_url, session,
                                       lambda record: traceable(scope, record))
    if timeline is None:
        raise NotFoundError(f"no calls recorded for session {session}")
    return json_response(json.loads(json.dumps(asdict(timeline), default=str)))


def _traffic_rows(ledger_url: str, since: str | None, key_ids: set[str] | None) -> list[dict]:
    backend = open_backend(ledger_url)
    try:
        return traffic_summary(backend, since, key_ids=key_ids)
    finally:
        backend.close()


def _no_run(run_id: str) -> str:
    return f"no run `{run_id}`; GET /api/runs lists yours"


def _int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise GatewayError(400, f"`{name}` must be a whole number 0 or more, not {raw!r}", "invalid_request_error",
                           "invalid_value", name)
    return int(raw)
