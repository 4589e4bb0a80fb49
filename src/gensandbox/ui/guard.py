"""Who is asking the dashboard and its management API, and may they: sign-in sessions, CSRF tokens, the sign-in
rate limit, and the decorator every handler wears.

A browser signs in once with its key and then carries a session cookie (HttpOnly, SameSite=Strict, Secure behind
TLS); every change it makes must also carry the session's CSRF token (header `x-csrf-token` or form field
`csrf_token`). A program may instead send `Authorization: Bearer <key>` on every request: no cookie, so no CSRF.
Before any key exists the dashboard answers this machine only (loopback), as its operator (an admin).
"""

from __future__ import annotations

import functools
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from gensandbox.access import OPERATOR, Principal, require
from gensandbox.access.keys import KeyRing, principal_of
from gensandbox.errors import Denied

SESSION_COOKIE = "gensandbox_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SESSION_IDLE_S = 8 * 3600  # a session not used for this long is over
FAILURES_ALLOWED = 5  # wrong keys per address within FAILURE_WINDOW_S before sign-in pauses for that address
FAILURE_WINDOW_S = 300.0
FAILURES_ALLOWED_ALL = 50  # wrong keys from every address together within FAILURE_WINDOW_S
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
LOOPBACK_CLIENTS = ("127.0.0.1", "::1", "localhost")


@dataclass
class SignedIn:
    key_id: str
    csrf: str
    last_seen: float


@dataclass
class SignIns:
    """The dashboard's sessions (in this process's memory: a restart signs everyone out) and the rate limit."""

    sessions: dict[str, SignedIn] = field(default_factory=dict)
    failures: dict[str, deque] = field(default_factory=dict)
    all_failures: deque = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, key_id: str) -> tuple[str, str]:
        """A new session for the key: (the cookie's token, the CSRF token)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        with self.lock:
            self.sessions[token] = SignedIn(key_id, csrf, time.monotonic())
        return token, csrf

    def find(self, token: str | None) -> SignedIn | None:
        if not token:
            return None
        with self.lock:
            session = self.sessions.get(token)
            if session is None:
                return None
            now = time.monotonic()
            if now - session.last_seen > SESSION_IDLE_S:
                del self.sessions[token]
                return None
            session.last_seen = now
            return session

    def end(self, token: str | None) -> None:
        with self.lock:
            self.sessions.pop(token or "", None)

    def check_rate(self, address: str) -> None:
        """Refuses a sign-in attempt while this address (or everyone together) has failed too often lately."""
        now = time.monotonic()
        with self.lock:
            mine = self.failures.setdefault(address, deque())
            for recent in (mine, self.all_failures):
                while recent and now - recent[0] > FAILURE_WINDOW_S:
                    recent.popleft()
            if len(mine) >= FAILURES_ALLOWED or len(self.all_failures) >= FAILURES_ALLOWED_ALL:
                oldest = (mine if len(mine) >= FAILURES_ALLOWED else self.all_failures)[0]
                wait = FAILURE_WINDOW_S - (now - oldest)
                raise Denied(429, f"too many wrong keys: sign-in pauses for {wait:.0f} s", "rate_limit_exceeded",
                             retry_after=wait)

    def failed(self, address: str) -> None:
        now = time.monotonic()
        with self.lock:
            self.failures.setdefault(address, deque()).append(now)
            self.all_failures.append(now)


@dataclass
class Caller:
    """The principal behind a request and how it proved itself (a session carries a CSRF token; a key does not)."""

    principal: Principal
    session: SignedIn | None = None


class SignInNeeded(Denied):
    """No key and no session: pages send the browser to the sign-in page, the API answers 401."""

    def __init__(self, message: str = "sign in with your key first (or send `Authorization: Bearer <key>`)"):
        super().__init__(401, message, "missing_api_key")


def caller_of(request: Request, keys: KeyRing, sign_ins: SignIns) -> Caller:
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, secret = authorization.partition(" ")
        record = keys.find(secret.strip()) if scheme.lower() == "bearer" else None
        if record is None:
            raise Denied(401, "this key is not valid (unknown or revoked)", "invalid_api_key")
        return Caller(principal_of(record))
    token = request.cookies.get(SESSION_COOKIE)
    session = sign_ins.find(token)
    if session is not None:
        record = keys.active(session.key_id)
        if record is None:  # revoked since sign-in: the session ends with it
            sign_ins.end(token)
            raise SignInNeeded("your key was revoked or changed; sign in again")
        return Caller(principal_of(record), session)
    if not keys.keys_exist and _from_this_machine(request):
        return Caller(OPERATOR)
    raise SignInNeeded()


async def check_csrf(request: Request, caller: Caller) -> None:
    if caller.session is None or request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and "form" in request.headers.get("content-type", ""):
        sent = (await request.form()).get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, caller.session.csrf):
        raise Denied(403, "this change carries no valid CSRF token; reload the page and try again",
                     "csrf_token_invalid")


Handler = Callable[[Request], Awaitable[Response]]


def needs(action: str | None) -> Callable[[Handler], Handler]:
    """Guards a handler: finds the caller (or refuses), checks the role grants `action` (None: any signed-in
    caller), checks CSRF on changes, and leaves the caller on `request.state.caller`. tests/ui/test_access_matrix.py
    checks that every route but sign-in and static files wears it."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: Request) -> Response:
            board = request.app.state.dashboard
            caller = caller_of(request, board.keys, board.sign_ins)
            if action is not None:
                require(caller.principal, action)
            await check_csrf(request, caller)
            request.state.caller = caller
            return await handler(request)

        guarded.action = action  # type: ignore[attr-defined]
        return guarded

    return wrap


def public(handler: Handler) -> Handler:
    """Marks a handler anyone may reach (sign-in, the language switch)."""
    handler.action = "public"  # type: ignore[attr-defined]
    return handler


def principal(request: Request) -> Principal:
    return request.state.caller.principal


def csrf_token(request: Request) -> str:
    caller = getattr(request.state, "caller", None)
    return caller.session.csrf if caller is not None and caller.session is not None else ""


def _from_this_machine(request: Request) -> bool:
    return request.client is not None and request.client.host in LOOPBACK_CLIENTS
