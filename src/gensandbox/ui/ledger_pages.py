"""The operations pages: gateway traffic and spend, the ledger with its verify action, and session traces."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from gensandbox.access import Principal
from gensandbox.errors import NotFoundError, UserError
from gensandbox.reports.vega import script_json
from gensandbox.ui import ledger_data, traffic_data
from gensandbox.ui.guard import needs, principal
from gensandbox.ui.rendering import language, with_query
from gensandbox.ui.scope import Scope, scope_of
from gensandbox.ui.state import dashboard
from gensandbox.ui.text import t
from gensandbox.ui.traffic_charts import EMBED_OPTIONS, empty_charts, traffic_chart_specs
from gensandbox.ui.traffic_data import CUSTOM
from gensandbox.ui.verifying import message, run_verification


@needs("traffic.aggregate")
async def traffic_page(request: Request) -> Response:
    """The span comes from the query (range=hour|today|7d|30d|all, or from/to), so a link or a bookmark keeps
    it; a bad one is answered 400 with the form still there to fix it."""
    board, lang = dashboard(request), language(request)
    params, title = request.query_params, t(lang, "traffic.title")
    spans = [(span, t(lang, f"traffic.range.{span}"), with_query(request, range=span, **{"from": None, "to": None}))
             for span in traffic_data.SPANS]
    now = datetime.now(UTC)
    try:
        window = traffic_data.traffic_window(params.get("range"), params.get("from"), params.get("to"), lang, now)
    except UserError as error:
        return board.page(request, "traffic.html.j2", status=400, section="traffic", title=title, spans=spans,
                          problem=str(error), traffic=None, window=traffic_data.TrafficWindow(CUSTOM, None, None,
                          params.get("from") or "", params.get("to") or ""))
    scope = await board.read(scope_of, board.store, principal(request))  # a project's own keys; an admin's: all
    traffic = await board.read(traffic_data.read_traffic, board.store, board.config.ledger_url, window,
                               scope.project_keys())
    return board.page(request, "traffic.html.j2", section="traffic", title=title, spans=spans, problem=None,
                      traffic=traffic, window=window, bounds=traffic_data.span_bounds(traffic, lang),
                      bucket=traffic_data.bucket_words(traffic.bucket_s, lang),
                      data_json=script_json(traffic_data.chart_rows(traffic.series, lang)),
                      specs_json=script_json(traffic_chart_specs(lang, traffic_data.span_ms(traffic, now))),
                      embed_json=script_json(EMBED_OPTIONS), empty_charts=empty_charts(traffic.series),
                      failed_text=t(lang, "traffic.chart_failed"))


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
    """Starts checking the whole chain after answering: the page (or a program, through POST /api/ledger/verify)
    polls the job for progress. A plain form post (no script) is sent back to the ledger page, which shows the
    same job."""
    board = dashboard(request)
    job = board.jobs.new()
    task = BackgroundTask(run_verification, job, board.config.ledger_url, board.config.signing_key_path)
    if request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", ""):
        return JSONResponse(job.as_json(language(request)), status_code=202, background=task)
    return RedirectResponse(f"/ledger?verify={job.job_id}", status_code=303, background=task)


@needs("ledger.read")
async def verification_status(request: Request) -> Response:
    job = dashboard(request).jobs.get(request.path_params["job_id"])
    if job is None:  # answered in the API's error shape: a poll asks for JSON
        raise NotFoundError("no such verification; start another (POST /api/ledger/verify)")
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
