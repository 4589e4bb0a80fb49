"""The operations pages: gateway traffic and spend, the ledger with its verify action, and session traces."""

from __future__ import annotations

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from gensandbox.access import Principal
from gensandbox.errors import NotFoundError
from gensandbox.ui import ledger_data
from gensandbox.ui.guard import needs, principal
from gensandbox.ui.rendering import language
from gensandbox.ui.scope import Scope, scope_of
from gensandbox.ui.state import dashboard
from gensandbox.ui.text import t
from gensandbox.ui.verifying import message, run_verification


@needs("traffic.aggregate")
async def traffic_page(request: Request) -> Response:
    board = dashboard(request)
    scope = await board.read(scope_of, board.store, principal(request))
    traffic = await board.read(ledger_data.traffic, board.store, board.config.ledger_url, scope.project_keys())
    return board.page(request, "traffic.html.j2", section="traffic", title=t(language(request), "traffic.title"),
                      traffic=traffic)


@needs("ledger.read")
async def ledger_page(request: Request) -> Response:
    board = dashboard(request)
    scope = await board.read(scope_of, board.store, principal(request))
    # The ledger has its own connection per call, so it is read outside the store's lock.
    ledger = await run_in_threadpool(ledger_data.ledger_page, board.config.ledger_url,
                                     request.query_params.get("page"), scope.sees_event)
    job = board.jobs.get(request.query_params.get("verify") or "")
    lang = language(request)
    return board.page(request, "ledger.html.j2", section="ledger", title=t(lang, "ledger.title"), ledger=ledger,
                      job=job, job_message=message(job, lang) if job else "")


@needs("ledger.read")
async def start_verification(request: Request) -> Response:
    """Starts checking the whole chain after answering: the page polls the job for progress. A plain form post
    (no script) is sent back to the ledger page, which shows the same job."""
    board = dashboard(request)
    job = board.jobs.new()
    task = BackgroundTask(run_verification, job, board.config.ledger_url, board.config.signing_key_path)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(job.as_json(language(request)), status_code=202, background=task)
    return RedirectResponse(f"/ledger?verify={job.job_id}", status_code=303, background=task)


@needs("ledger.read")
async def verification_status(request: Request) -> Response:
    job = dashboard(request).jobs.get(request.path_params["job_id"])
    if job is None:
        return JSONResponse({"error": "no such verification; start another"}, status_code=404)
    return JSONResponse(job.as_json(language(request)))


@needs(None)
async def trace_page(request: Request) -> Response:
    board, lang = dashboard(request), language(request)
    session = request.path_params["session"]
    scope = await board.read(scope_of, board.store, principal(request))
    timeline = await run_in_threadpool(ledger_data.session_trace, board.config.ledger_url, session,
                                       lambda record: traceable(scope, record))
    if timeline is None:
        raise NotFoundError(t(lang, "error.no_session", session=session))
    return board.page(request, "trace.html.j2", section="ledger", title=t(lang, "trace.title", session=session),
                      timeline=timeline, bars=ledger_data.waterfall(timeline))


def traceable(scope: Scope, record: dict) -> bool:
    """A trace step the reader may see: of its own project, and an evaluation's steps for those who read runs, an
    app's requests for those who read the project's traffic (never a tester: the gateway's prompts are not theirs)."""
    who: Principal = scope.principal
    if not scope.sees_event(record):
        return False
    from_run = bool(record.get("gensandbox.run_id")) or record.get("gensandbox.source") == "run"
    return who.may("runs.read") if from_run else who.may("traffic.requests")
