"""The dashboard as an ASGI app: routes, the shared state handlers read, and error pages.

A bad id or an unknown path is a 404 page in the reader's language; any other failure is a short page that
names no internals. Neither ever shows a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import asynccontextmanager
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from gensandbox.access.keys import KeyRing
from gensandbox.config import Config
from gensandbox.errors import GatewayError, GenSandboxError, NotFoundError, UserError
from gensandbox.reports.vega import vega_bundle
from gensandbox.runner.jobs import RunJobs
from gensandbox.store import SQLStore
from gensandbox.ui import audits_pages, ledger_pages, runs_pages, signin_pages, workbench_pages
from gensandbox.ui.api_routes import api_routes
from gensandbox.ui.guard import public
from gensandbox.ui.rendering import language
from gensandbox.ui.state import Dashboard, dashboard
from gensandbox.ui.text import t

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def create_ui_app(config: Config, store: SQLStore, *, allowed_hosts: Sequence[str] = LOOPBACK_HOSTS) -> Starlette:
    """`allowed_hosts`: the Host headers answered. Others get a 400, so a web page cannot read the dashboard
    through a DNS name it rebinds to 127.0.0.1; "*" answers any (for a dashboard served on 0.0.0.0)."""
    routes = [
        Route("/signin", signin_pages.signin_page),
        Route("/signin", signin_pages.signin, methods=["POST"]),
        Route("/signout", signin_pages.signout, methods=["POST"]),
        *api_routes(),
        Route("/", runs_pages.runs_list),
        Route("/workbench", workbench_pages.workbench),
        Route("/keys", workbench_pages.keys_page),
        Route("/runs/{run_id}/live", workbench_pages.live),
        Route("/runs/{run_id}", runs_pages.run_detail),
        Route("/runs/{run_id}/compare", runs_pages.compare),
        Route("/runs/{run_id}/report", runs_pages.report),
        Route("/traffic", ledger_pages.traffic_page),
        Route("/ledger", ledger_pages.ledger_page),
        Route("/ledger/verify", ledger_pages.start_verification, methods=["POST"]),
        Route("/ledger/verify/{job_id}", ledger_pages.verification_status),
        Route("/traces/{session:path}", ledger_pages.trace_page),
        Route("/audits", audits_pages.audits_list),
        Route("/audits/{audit_id}", audits_pages.audit_detail),
        Route("/favicon.ico", _favicon),
        Route("/static/vega.js", _vega_script),  # before the mount: it is built, not a file
        Mount("/static", StaticFiles(packages=[("gensandbox.ui", "static")]), name="static"),
    ]
    trusted = Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts), www_redirect=False)
    runs = RunJobs(config.file.serve.concurrent_runs)

    @asynccontextmanager
    async def lifespan(app):
        yield
        await run_in_threadpool(runs.shutdown, True)  # each run stops and keeps what it finished (resumable)
        await run_in_threadpool(app.state.dashboard.audits.shutdown)

    app = Starlette(routes=routes, middleware=[trusted], lifespan=lifespan, exception_handlers={
        GatewayError: _refused, NotFoundError: _not_found, HTTPException: _http_error, GenSandboxError: _unavailable,
        Exception: _crashed})
    app.state.dashboard = Dashboard(config, store, KeyRing(store), runs=runs)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


async def _refused(request: Request, error: Exception) -> Response:
    """A refusal (a denial or a bad request). The API answers in OpenAI's error shape; a page without a session
    goes to sign-in; other refusals are a page saying why."""
    assert isinstance(error, GatewayError)
    if _wants_json(request):
        return api_error(error)
    if error.status == 401:
        return RedirectResponse(f"/signin?next={quote(request.url.path)}", status_code=303)
    lang = language(request)
    title = t(lang, "error.not_found") if error.status == 404 else t(lang, "error.denied")
    return _error_page(request, error.status, title, str(error))


def api_error(error: GatewayError) -> Response:
    return JSONResponse({"error": {"message": str(error), "type": error.error_type, "code": error.code,
                                   "param": error.param}}, status_code=error.status, headers=error.headers)


@public
async def _favicon(request: Request) -> Response:
    """Browsers ask for it on pages without an icon link, such as the served report; a 404 is a console error."""
    return RedirectResponse("/static/icon.svg", status_code=301)


@public
async def _vega_script(request: Request) -> Response:
    """Vega, Vega-Lite and vega-embed, the same bundle the report inlines, served from here: the pages' policy
    runs only scripts from this origin, and nothing is fetched from a CDN. It changes only with the package."""
    bundle = await run_in_threadpool(vega_bundle)  # about a second, the first time only
    return Response(bundle, media_type="text/javascript", headers={"cache-control": "public, max-age=86400"})


async def _not_found(request: Request, error: Exception) -> Response:
    if _wants_json(request):
        return api_error(GatewayError(404, str(error), "not_found_error", "not_found"))
    return _error_page(request, 404, t(language(request), "error.not_found"), str(error))


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    lang = language(request)
    if error.status_code == 404:
        return _error_page(request, 404, t(lang, "error.not_found"), t(lang, "error.no_page", path=request.url.path))
    return _error_page(request, error.status_code, str(error.status_code), str(error.detail))


async def _unavailable(request: Request, error: Exception) -> Response:
    """A GenSandbox error says what is wrong and how to fix it (e.g. a ledger URL that cannot be opened). To the
    API a user's mistake is a 400; anything else a 503."""
    if _wants_json(request):
        if isinstance(error, UserError):
            return api_error(GatewayError(400, str(error), "invalid_request_error", "invalid_value"))
        return api_error(GatewayError(503, str(error), "server_error", "unavailable"))
    return _error_page(request, 503, t(language(request), "error.unavailable"), str(error))


async def _crashed(request: Request, error: Exception) -> Response:
    # Starlette re-raises the error after this page is sent, so the server's log still has the traceback.
    lang = language(request)
    return _error_page(request, 500, t(lang, "error.server"), t(lang, "error.server_detail"))


def _error_page(request: Request, status: int, title: str, detail: str) -> Response:
    return dashboard(request).page(request, "error.html.j2", status=status, title=title, detail=detail,
                                   section="")
