"""The one place where httpx exceptions and HTTP error statuses become GenSandbox errors."""

from __future__ import annotations

import email.utils
import time

import httpx

from gensandbox.errors import (
    ProviderConnectionError,
    ProviderHTTPError,
    ProviderResponseError,
    ProviderTimeoutError,
)


async def post_json(
    client: httpx.AsyncClient, url: str, payload: dict, headers: dict[str, str], timeout_s: float
) -> tuple[dict, float]:
    """POST `payload` as JSON; return (decoded body, seconds taken) or raise a RunError."""
    started = time.perf_counter()
    try:
        response = await client.post(url, json=payload, headers=headers, timeout=timeout_s)
    except httpx.TimeoutException:
        raise ProviderTimeoutError(f"{url} did not answer within {timeout_s:g} s") from None
    except httpx.HTTPError as error:
        raise ProviderConnectionError(f"cannot reach {url}: {_reason(error)}") from None
    latency_s = time.perf_counter() - started
    if response.status_code >= 400:
        raise ProviderHTTPError(
            f"{url} answered HTTP {response.status_code}: {_error_message(response)}",
            status=response.status_code,
            body=response.text[:2000],
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
    try:
        body = response.json()
    except ValueError:
        raise ProviderResponseError(f"{url} answered with something that is not JSON") from None
    if not isinstance(body, dict):
        raise ProviderResponseError(f"{url} answered JSON that is not an object")
    return body, latency_s


class HTTPEndpoint:
    """Where and how to connect (base URL, key, timeout, client lifecycle), apart from any wire format.

    Adapters subclass it and add `complete()`; pass `client` to share a pool or to test in-process.
    """

    def __init__(self, base_url: str, api_key: str | None = None, *, timeout_s: float = 120.0,
                 client: httpx.AsyncClient | None = None):
        self.base_url = base_url.rstrip("/")
        self.endpoint = self.base_url
        self.api_key = api_key
        self.timeout_s = timeout_s
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient()

    async def post(self, path: str, payload: dict, headers: dict[str, str]) -> tuple[dict, float]:
        return await post_json(self._client, f"{self.base_url}{path}", payload, headers, self.timeout_s)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


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


def _reason(error: httpx.HTTPError) -> str:
    text = str(error) or type(error).__name__
    return text.splitlines()[0][:200]


def _error_message(response: httpx.Response) -> str:
    """Providers put the human message in error.message (OpenAI, Anthropic) or return plain text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:300]
    if isinstance(error, str):
        return error[:300]
    return response.text[:200]
