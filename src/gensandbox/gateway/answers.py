"""What every gateway endpoint answers with, whichever API it speaks: the x-gensandbox headers, a JSON answer
sent without Starlette's general set-up, and OpenAI-shaped errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from starlette.responses import JSONResponse, Response

from gensandbox.errors import GatewayError, NotRecorded
from gensandbox.gateway.service import Answer, Gateway
from gensandbox.gateway.sessions import SPAN_HEADER, TraceContext
from gensandbox.gateway.wire import error_body


class JSONAnswer:
    """An answer as Starlette's Response(body, media_type="application/json", headers=headers) sends it, the same
    messages and headers in the same order, without its general-purpose set-up on the hot path."""

    __slots__ = ("body", "raw_headers")
    status_code = 200

    def __init__(self, body: bytes, headers: dict[str, str]):
        self.body = body
        self.raw_headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
        self.raw_headers += ((b"content-length", str(len(body)).encode("latin-1")),
                             (b"content-type", b"application/json"))

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body})


def answer_headers(model: str, decision, trace: TraceContext, cost: float | None) -> dict:
    route = header_text(f"{decision.route}: {decision.reason}")
    headers = {"x-gensandbox-model": header_text(model), "x-gensandbox-route": route, SPAN_HEADER: trace.span_id}
    if cost is not None:
        headers["x-gensandbox-cost-usd"] = f"{cost:.8f}"
    return headers


# Symbols the routing reasons use, in the ASCII a reader expects.
_ASCII_SPELLING = str.maketrans({"≥": ">=", "≤": "<=", "–": "-", "—": "--", "…": "...", "×": "x", "→": "->"})


def header_text(text: str) -> str:
    """A header value in ASCII, with nothing lost. Clients decode header bytes differently (Latin-1, UTF-8, or
    not at all), so a character beyond ASCII would arrive garbled or as "?": the usual symbols get their ASCII
    spelling, and anything else (a Korean route name, a control character) a JSON string escape (\\uXXXX), so
    json.loads('"' + value + '"') gives the text back. ASCII text without quotes or backslashes is sent unchanged."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return text  # what json.dumps would give back between its quotes, without the encoder's setup (~1 µs)
    return json.dumps(text.translate(_ASCII_SPELLING), ensure_ascii=True)[1:-1]


def error_json(status: int, message: str, error_type: str, code: str | None = None, param: str | None = None,
           headers: dict | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, error_type, code, param), status_code=status, headers=headers)


def error_response(error: GatewayError) -> JSONResponse:
    return error_json(error.status, str(error), error.error_type, error.code, error.param, error.headers)


def receipted(answer: Answer) -> JSONAnswer:
    """A plain answer with its headers and the receipt that covers its body."""
    attempt = answer.attempt
    headers = answer_headers(attempt.name, attempt.decision, attempt.trace, answer.cost_usd)
    headers["x-gensandbox-receipt"] = answer.receipt
    return JSONAnswer(answer.payload, headers)


@dataclass(slots=True)
class Asking:
    """What is known of a request so far: the record of its refusal says it."""

    model: str | None = None
    stream: bool = False


async def guarded(gateway: Gateway, authorization: str | None, handle: Callable[[Asking], Awaitable[Response]],
                  render_error: Callable[[GatewayError], Response] = error_response) -> Response:
    """`handle`'s answer; a GatewayError becomes an error answer (in the API's own shape, by `render_error`), and a
    request refused before any model answered is on the record too (a 502 is: each model's try was recorded)."""
    asking = Asking()
    try:
        return await handle(asking)
    except NotRecorded as error:
        gateway.metrics.rejected.labels("503").inc()
        return render_error(error)
    except GatewayError as error:  # Denied too: 401 and 429
        response = render_error(error)
        if error.status == 502:
            gateway.metrics.rejected.labels("502").inc()
            return response
        try:
            await gateway.refused(error.status, error.code, str(error), authorization, asking.model, asking.stream)
        except NotRecorded as unrecorded:
            return render_error(unrecorded)
        return response


class EventStreamAnswer:
    """Server-sent events, sent as each is made: Starlette's StreamingResponse without its per-response task group
    (on an ASGI 2.3 server it starts two anyio tasks to notice a client that leaves; measured ~0.15 ms before the
    first event). A client that leaves is noticed the same way, by one watcher task that cancels the stream; the
    events' generator then sees GeneratorExit/CancelledError and settles what was spent."""

    __slots__ = ("events", "raw_headers")
    status_code = 200

    def __init__(self, events: AsyncIterator[bytes], headers: dict[str, str]):
        self.events = events
        self.raw_headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
        self.raw_headers.append((b"content-type", b"text/event-stream; charset=utf-8"))

    async def __call__(self, scope, receive, send) -> None:
        streaming, left = asyncio.current_task(), False

        async def watch() -> None:
            nonlocal left
            while (await receive())["type"] != "http.disconnect":
                pass
            if not finished:
                left = True
                streaming.cancel()

        finished = False
        watcher = asyncio.get_running_loop().create_task(watch())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async for event in self.events:
                await send({"type": "http.response.body", "body": event, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if not left:
                raise
            streaming.uncancel()
            await self.events.aclose()  # the client left: the generator settles and records, then we are done
        finally:
            finished = True
            watcher.cancel()
