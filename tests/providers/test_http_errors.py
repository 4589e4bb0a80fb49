"""Every exception aiohttp can raise on a request must become a GenSandbox RunError at the choke point."""

import asyncio

import aiohttp
import pytest

from gensandbox.errors import ProviderHTTPError, ProviderTimeoutError, RunError
from gensandbox.providers._http import HTTPEndpoint, parse_retry_after, translate


def _client_exception_types() -> list[type[BaseException]]:
    found, pending = [], [aiohttp.ClientError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(set(found), key=lambda c: c.__name__)


@pytest.mark.parametrize("exception_type", [*_client_exception_types(), TimeoutError], ids=lambda t: t.__name__)
def test_every_transport_exception_is_mapped(exception_type):
    error = exception_type.__new__(exception_type)  # no arguments needed: only the type matters here
    translated = translate(error, "http://127.0.0.1:9/v1/x", 1.0)
    assert isinstance(translated, RunError)
    assert "http://127.0.0.1:9/v1/x" in str(translated)


def test_timeouts_are_timeouts():
    assert isinstance(translate(TimeoutError(), "u", 2.0), ProviderTimeoutError)
    assert isinstance(translate(aiohttp.ServerTimeoutError(), "u", 2.0), ProviderTimeoutError)


@pytest.mark.parametrize("model, status", [("error-500", 500), ("rate-limited", 429), ("bad-request", 400)])
async def test_error_statuses_are_mapped_with_the_providers_message(upstream, model, status):
    endpoint = HTTPEndpoint(f"{upstream.url}/v1")
    with pytest.raises(ProviderHTTPError, match=f"HTTP {status}: upstream exploded") as caught:
        await endpoint.post("/chat/completions", {"model": model, "messages": []}, {})
    await endpoint.aclose()
    assert caught.value.status == status


def test_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


class _Session:
    """Stands in for aiohttp's session in the retry logic alone: fails its first `failures` posts."""

    def __init__(self, failures: int, error: Exception):
        self.failures, self.error, self.calls = failures, error, 0

    async def post(self, url, **options):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "the response"


UNSENT = aiohttp.ClientOSError(None, "Can not write request body for http://127.0.0.1:1/v1/chat/completions")


def test_a_request_that_never_left_goes_again_on_another_connection():
    from gensandbox.providers._http import UNSENT_RETRIES, send

    session = _Session(2, UNSENT)
    assert asyncio.run(send(session, "u", b"{}", {}, None)) == "the response" and session.calls == 3
    session = _Session(UNSENT_RETRIES + 1, UNSENT)  # every pooled connection stale, and no fresh one works
    with pytest.raises(aiohttp.ClientOSError, match="Can not write request body"):
        asyncio.run(send(session, "u", b"{}", {}, None))
    assert session.calls == UNSENT_RETRIES + 1


def test_a_request_that_may_have_reached_the_endpoint_is_not_sent_twice():
    from gensandbox.providers._http import send

    session = _Session(1, aiohttp.ClientOSError(104, "Connection reset by peer"))
    with pytest.raises(aiohttp.ClientOSError, match="reset"):
        asyncio.run(send(session, "u", b"{}", {}, None))
    assert session.calls == 1
