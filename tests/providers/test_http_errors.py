"""Every exception httpx can raise on a request must become a GenSandbox RunError at the choke point."""

import httpx
import pytest

from gensandbox.errors import RunError
from gensandbox.providers._http import parse_retry_after, post_json


def _transport_exception_types() -> list[type[Exception]]:
    found = []
    for name in dir(httpx):
        value = getattr(httpx, name)
        if isinstance(value, type) and issubclass(value, httpx.TransportError):
            found.append(value)
    return found


@pytest.mark.parametrize("exception_type", _transport_exception_types(), ids=lambda t: t.__name__)
async def test_transport_exceptions_are_mapped(exception_type):
    def fail(request: httpx.Request):
        raise exception_type("boom", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(fail)) as client:
        with pytest.raises(RunError):
            await post_json(client, "http://127.0.0.1:9/v1/x", {}, {}, 1.0)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 429, 500, 502, 503])
async def test_error_statuses_are_mapped(status):
    def answer(request: httpx.Request):
        return httpx.Response(status, json={"error": {"message": f"status {status}"}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(RunError, match=f"status {status}"):
            await post_json(client, "http://127.0.0.1:9/v1/x", {}, {}, 1.0)


def test_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
