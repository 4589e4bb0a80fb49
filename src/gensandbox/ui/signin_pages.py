"""Signing in and out of the dashboard: a page with a form, and the same in JSON under /api for programs."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from gensandbox.access import RIGHTS
from gensandbox.errors import Denied
from gensandbox.ui.guard import SESSION_COOKIE, SESSION_IDLE_S, needs, principal, public
from gensandbox.ui.rendering import language
from gensandbox.ui.state import dashboard
from gensandbox.ui.text import t


@public
async def signin_page(request: Request) -> Response:
    lang = language(request)
    return dashboard(request).page(request, "signin.html.j2", section="", title=t(lang, "signin.title"),
                                   next=_next(request.query_params.get("next")), problem="")


@public
async def signin(request: Request) -> Response:
    """The form's post: a right key starts a session and goes on to the page asked for; a wrong one counts
    against the sign-in rate limit."""
    form = await request.form()
    key, wanted = str(form.get("key") or "").strip(), _next(str(form.get("next") or "/"))
    lang = language(request)
    try:
        token = _start_session(request, key)
    except Denied as denied:
        problem = t(lang, "signin.wrong") if denied.status == 401 else str(denied)
        return dashboard(request).page(request, "signin.html.j2", section="", title=t(lang, "signin.title"),
                                       next=wanted, problem=problem, status=denied.status)
    return _with_cookie(request, RedirectResponse(wanted, status_code=303), token)


@public
async def api_signin(request: Request) -> Response:
    """POST /api/signin {"key": "..."}: the session cookie, and the CSRF token to send with each change."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    key = body.get("key") if isinstance(body, dict) else None
    if not isinstance(key, str) or not key:
        raise Denied(401, 'send {"key": "<your key>"} to sign in', "missing_api_key")
    token = _start_session(request, key.strip())
    board = dashboard(request)
    caller = board.sign_ins.find(token)
    record = board.keys.active(caller.key_id)
    return _with_cookie(request, JSONResponse({"key_id": record.key_id, "role": record.role,
                                               "project": record.project_id, "csrf_token": caller.csrf}), token)


@needs(None)
async def signout(request: Request) -> Response:
    dashboard(request).sign_ins.end(request.cookies.get(SESSION_COOKIE))
    response: Response
    if request.url.path.startswith("/api/"):
        response = JSONResponse({"signed_out": True})
    else:
        response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@needs(None)
async def me(request: Request) -> Response:
    """Who this key or session is, what it may do, and the CSRF token for its changes."""
    who = principal(request)
    caller = request.state.caller
    return JSONResponse({"key_id": who.key_id, "role": who.role, "project": who.project_id,
                         "rights": sorted(action for action in _actions() if who.may(action)),
                         "csrf_token": caller.session.csrf if caller.session else None})


def _start_session(request: Request, key: str) -> str:
    board = dashboard(request)
    address = request.client.host if request.client else "unknown"
    board.sign_ins.check_rate(address)
    record = board.keys.find(key)
    if record is None:
        board.sign_ins.failed(address)
        raise Denied(401, "this key is not valid (unknown or revoked)", "invalid_api_key")
    token, _ = board.sign_ins.start(record.key_id)
    return token


def _with_cookie(request: Request, response: Response, token: str) -> Response:
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_IDLE_S, path="/", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


def _next(path: str | None) -> str:
    """Only a path on this site: never another site (an open redirect), never a protocol-relative //host."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def _actions() -> list[str]:
    return list(RIGHTS)
