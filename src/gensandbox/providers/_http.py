"""Talking HTTP to model endpoints, and the one place where transport exceptions and error statuses
become GenSandbox errors.

The transport is aiohttp: measured on the reference machine against the same loopback endpoint at 64
requests in flight, it spends ~140 µs of CPU per request, where httpx spent ~1,200 µs (and ~7,900 µs
once its pool was widened to keep 64 connections alive). For an evaluation runner that is the
difference between saturating an endpoint and being the bottleneck (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import email.utils
import functools
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import orjson

from gensandbox.errors import (
    ProviderConnectionError,
    ProviderHTTPError,
    ProviderResponseError,
    ProviderTimeoutError,
    RunError,
)
from gensandbox.redaction import register_secret

MAX_CONNECTIONS = 256  # per endpoint; the runner's own per-endpoint limit is the real throttle


class HTTPEndpoint:
    """Where and how to connect (base URL, key, timeout, connection pool), apart from any wire format.

    Adapters subclass it and add `complete()`. The session is opened on first use, inside the event
    loop that will use it, and closed by `aclose()`; pass `session` to share one.
    """

    # The transport itself ends a call after `timeout_s` (aiohttp's total timeout), so callers need
    # no timer of their own when they want the same bound.
    transport_timeout = True

    def __init__(self, base_url: str, api_key: str | None = None, *, timeout_s: float = 120.0,
                 session: aiohttp.ClientSession | None = None):
        self.base_url = base_url.rstrip("/")
        self.endpoint = self.base_url
        self.api_key = api_key
        register_secret(api_key)  # redacted wherever an upstream echoes it back (redaction.py)
        self.timeout_s = timeout_s
        self._owns_session = session is None
        self._session = session

    async def post(self, path: str, payload: dict, headers: dict[str, str]) -> tuple[dict, float]:
        return await post_json(self._open(), f"{self.base_url}{path}", payload, headers, self.timeout_s)

    def post_stream(self, path: str, payload: dict, headers: dict[str, str]) -> AsyncIterator[dict]:
        return post_events(self._open(), f"{self.base_url}{path}", payload, headers, self.timeout_s)

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS))
        return self._session

    async def aclose(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None


async def post_json(session: aiohttp.ClientSession, url: str, payload: dict, headers: dict[str, str],
                    timeout_s: float) -> tuple[dict, float]:
    """POST `payload` as JSON; return (decoded body, seconds taken) or raise a RunError."""
    started = time.perf_counter()
    try:
        async with await send(session, url, json_bytes(payload), {"content-type": "application/json", **headers},
                              _total_timeout(timeout_s)) as response:
            refuse_redirect(response, url)
            body = await response.read()
            status, retry_after = response.status, response.headers.get("retry-after")
    except (aiohttp.ClientError, TimeoutError) as error:
        raise translate(error, url, timeout_s) from None
    latency_s = time.perf_counter() - started
    if status >= 400:
        text = body.decode("utf-8", errors="replace")
        raise ProviderHTTPError(f"{url} answered HTTP {status}: {error_message(text)}", status=status,
                                body=text[:2000], retry_after=parse_retry_after(retry_after))
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ProviderResponseError(f"{url} answered with something that is not JSON") from None
    if not isinstance(decoded, dict):
        raise ProviderResponseError(f"{url} answered JSON that is not an object")
    return decoded, latency_s


UNSENT_RETRIES = 3  # stale pooled connections tried (and discarded) before a request gives up


async def send(session: aiohttp.ClientSession, url: str, data: bytes, headers: dict[str, str],
               timeout: aiohttp.ClientTimeout) -> aiohttp.ClientResponse:
    """POST, once more on another connection when the request could not even be written: a pooled keep-alive
    connection the endpoint had closed while it sat idle (servers close idle ones after a few seconds: uvicorn
    after 5, where aiohttp keeps them 15). Nothing reached the endpoint, so nothing is done or paid twice; any
    failure after the request was written is the caller's to handle, as before."""
    for attempt in range(UNSENT_RETRIES + 1):
        try:
            # Never follow a redirect: a model endpoint that answers 3xx would otherwise send our request (and its
            # key) wherever the Location header says, inside our network included (server-side request forgery).
            # (post_json and post_events refuse the 3xx answer itself, in words.)
            return await session.post(url, data=data, headers=headers, timeout=timeout, allow_redirects=False)
        except aiohttp.ClientOSError as error:
            if attempt == UNSENT_RETRIES or not never_sent(error):
                raise
    raise AssertionError("unreachable")  # the loop returns or raises


def refuse_redirect(response: aiohttp.ClientResponse, url: str) -> None:
    if 300 <= response.status < 400:
        location = response.headers.get("location") or "(no Location)"
        raise ProviderResponseError(f"{url} answered HTTP {response.status}, a redirect to {location}; GenSandbox "
                                    "does not follow redirects from model endpoints: set the model's base_url to the "
                                    "address that answers")


def never_sent(error: BaseException) -> bool:
    """aiohttp's error for a request whose body could not be written to the connection (the connection was gone)."""
    return isinstance(error, aiohttp.ClientOSError) and "Can not write request body" in str(error)


@functools.lru_cache(maxsize=64)
def _total_timeout(timeout_s: float) -> aiohttp.ClientTimeout:
    """One (immutable) ClientTimeout per distinct timeout, not one per call."""
    return aiohttp.ClientTimeout(total=timeout_s)


async def post_events(session: aiohttp.ClientSession, url: str, payload: dict, headers: dict[str, str],
                      timeout_s: float) -> AsyncIterator[dict]:
    """POST and read server-sent events: yields each `data:` JSON object until `[DONE]` or the end.

    `timeout_s` bounds the wait for each piece, not the whole stream, so long answers are not cut.
    A failure before the first byte or in the middle is raised as a RunError, never left hanging."""
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout_s, sock_read=timeout_s)
    try:
        async with await send(session, url, json_bytes(payload),
                              {"content-type": "application/json", "accept": "text/event-stream", **headers},
                              timeout) as response:
            refuse_redirect(response, url)
            if response.status >= 400:
                text = (await response.read()).decode("utf-8", errors="replace")
                raise ProviderHTTPError(f"{url} answered HTTP {response.status}: {error_message(text)}",
                                        status=response.status, body=text[:2000],
                                        retry_after=parse_retry_after(response.headers.get("retry-after")))
            async for line in response.content:
                data = line.strip()
                if not data.startswith(b"data:"):
                    continue
                data = data[5:].strip()
                if data == b"[DONE]":
                    return
                try:
                    yield json.loads(data)
                except ValueError:
                    raise ProviderResponseError(f"{url} sent an event that is not JSON") from None
    except (aiohttp.ClientError, TimeoutError) as error:
        raise translate(error, url, timeout_s) from None


def json_bytes(payload: dict) -> bytes:
    """UTF-8 JSON (orjson: the hot path of every call); text holding half a surrogate pair, which UTF-8
    cannot carry, goes \\u-escaped instead."""
    try:
        return orjson.dumps(payload)
    except TypeError:
        return json.dumps(payload).encode("ascii")


def translate(error: BaseException, url: str, timeout_s: float) -> RunError:
    """Every transport failure, in GenSandbox's terms (a test checks no aiohttp error is left out)."""
    if isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
        return ProviderTimeoutError(f"{url} did not answer within {timeout_s:g} s")
    if isinstance(error, aiohttp.ClientResponseError | aiohttp.ClientPayloadError | aiohttp.InvalidURL):
        return ProviderResponseError(f"{url}: {_reason(error)}")
    return ProviderConnectionError(f"cannot reach {url}: {_reason(error)}")


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_message(text: str) -> str:
    """Providers put the human message in error.message (OpenAI, Anthropic) or return plain text."""
    try:
        body = json.loads(text)
    except ValueError:
        return text[:200] or "(empty body)"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:300]
    if isinstance(error, str):
        return error[:300]
    return text[:200]


def _reason(error: BaseException) -> str:
    try:
        text = str(error)
    except Exception:  # some exception types cannot describe themselves without their arguments
        text = ""
    return (text or type(error).__name__).splitlines()[0][:200]
