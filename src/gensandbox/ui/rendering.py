"""Turning a template and its data into a page: the request's language, the cookie that remembers it, and the
filters the templates format numbers with. Everything is escaped: model answers may hold HTML."""

from __future__ import annotations

import re
from functools import partial
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from gensandbox.ui.text import LANGUAGES, choose_language, label, t

LANGUAGE_COOKIE = "gensandbox_lang"
ONE_YEAR_S = 365 * 24 * 3600
# Defence in depth behind autoescaping: even a markup bug cannot run a script a model wrote.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def environment() -> Environment:
    # StrictUndefined: a misspelt name in a template fails the tests instead of rendering as nothing.
    env = Environment(loader=PackageLoader("gensandbox.ui", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = _percent
    env.filters["usd"] = lambda value: "–" if value is None or value != value else f"{value:.6f}"
    env.filters["secs"] = lambda value: "–" if value is None or value != value else f"{value:.2f} s"
    env.filters["count"] = lambda value: "–" if value is None else f"{value:,}"
    env.filters["code"] = commands_as_code
    return env


def commands_as_code(text: str) -> Markup:
    """Escapes the text, then shows `backticked` commands as code, so what to run next stands out."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def _percent(value: float | None) -> str:
    return "–" if value is None or value != value else f"{value:.1%}"


def language(request: Request) -> str:
    return choose_language(request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE),
                           request.headers.get("accept-language"))


def render(request: Request, env: Environment, template: str, *, status: int = 200, **context) -> HTMLResponse:
    lang = language(request)
    html = env.get_template(template).render(
        lang=lang, t=partial(t, lang), label=partial(label, lang), query=partial(with_query, request),
        switch_url=with_query(request, lang=t(lang, "lang.other_code")), **context)
    response = HTMLResponse(html, status_code=status, headers={"content-security-policy": CONTENT_SECURITY_POLICY})
    return remember_language(request, response)


def remember_language(request: Request, response: Response) -> Response:
    """An explicit ?lang= choice is kept in a cookie, so the next page (and the next visit) keeps it."""
    chosen = request.query_params.get("lang")
    if chosen in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=ONE_YEAR_S, samesite="lax")
    return response


def with_query(request: Request, **changes) -> str:
    """This page's path with some query parameters changed (None removes one), e.g. for pagers and pickers."""
    params = {**request.query_params, **changes}
    query = urlencode({key: value for key, value in params.items() if value is not None})
    return request.url.path + ("?" + query if query else "")
