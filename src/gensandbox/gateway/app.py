"""The gateway as an ASGI app: OpenAI's chat-completions API, plus models, health, metrics, OpenAPI.

Bad input never reaches a model and never causes a 500: unreadable JSON and schema errors are 400s
naming the parameter, unknown models 404 with the list of what exists, keys 401/429, upstream failures
after every fallback 502. A stream that breaks after it has started ends with an error event.
"""

from __future__ import annotations

import json
import time
from contextlib import asynccontextmanager

import orjson
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from gensandbox.config import ROUTE_PREFIX, VARIANT_PREFIX, Config
from gensandbox.errors import GatewayError, NotRecorded, RunError
from gensandbox.gateway.keys import KeyGate
from gensandbox.gateway.metrics import Metrics
from gensandbox.gateway.openapi import openapi_document
from gensandbox.gateway.recorder import Recorder
from gensandbox.gateway.routing import Breaker, Router
from gensandbox.gateway.service import Asked, Gateway, Streamed
from gensandbox.gateway.sessions import PARENT_HEADER, SESSION_HEADER, SPAN_HEADER, TraceContext, trace_context
from gensandbox.gateway.wire import (
    DONE_EVENT,
    ChatCompletionRequest,
    chunk_event,
    completion_id,
    error_body,
    error_event,
    to_chat_request,
    tool_call_delta_body,
)
from gensandbox.ledger.writer import Ledger, open_ledger
from gensandbox.providers import load_price_table
from gensandbox.store import SQLStore
from gensandbox.store.gateway import GatewayStore
from gensandbox.types import StreamDelta, ToolCallDelta, join_tool_calls


def create_app(config: Config, store: SQLStore, *, allow_anonymous: bool = True, ledger: Ledger | None = None):
    """`ledger`: by default the one `config` names, opened here and closed (with a signed checkpoint) at shutdown."""
    ledger = ledger or open_ledger(config)
    gateway_store = GatewayStore(store)
    serve = config.file.serve
    models = serve.models or list(config.models) + [VARIANT_PREFIX + name for name in config.variants]
    router = Router(models, config.file.routes, gateway_store, ledger.backend,
                    Breaker(serve.failures_to_cool, serve.cooldown_s), _variant_routes(config, models))
    metrics = Metrics()
    keys = KeyGate(gateway_store, allow_anonymous)
    gateway = Gateway(config, load_price_table(config.price_file), keys, router,
                      Recorder(gateway_store, ledger, keys), metrics, ledger)

    @asynccontextmanager
    async def lifespan(app):
        gateway.recorder.start()
        try:
            yield
        finally:
            await gateway.recorder.stop()
            keys.release()  # after the last spending was recorded: give back the rest of this process's leases
            ledger.close()
            await gateway.aclose()

    async def chat_completions(request: Request) -> Response:
        headers = request.headers
        return await answer_chat(await request.body(), headers.get("authorization"), headers.get(SESSION_HEADER),
                                 headers.get(PARENT_HEADER))

    async def answer_chat(raw: bytes, authorization: str | None, session: str | None, parent: str | None) -> Response:
        body = None
        try:
            body = _parse(raw)
            admitted = gateway.admit(authorization, Asked(body.model, to_chat_request(body, ""), body.stream,
                                                          body.metadata))
            trace = trace_context(session, parent, body.metadata)
            if body.stream:
                streamed = await gateway.open_stream(admitted, trace)
                return _stream_response(gateway, streamed, body)
            answer = await gateway.complete(admitted, trace)
        except NotRecorded as error:
            metrics.rejected.labels("503").inc()
            return _error_of(error)
        except GatewayError as error:  # Denied too: 401 and 429
            response = _error_of(error)
            if error.status == 502:  # every model was tried, and each try is on the record already
                metrics.rejected.labels("502").inc()
                return response
            return await _refused(response, error.status, error.code, str(error), authorization, body)
        attempt = answer.attempt
        headers = _headers(attempt.name, attempt.decision, attempt.trace, answer.cost_usd)
        headers["x-gensandbox-receipt"] = answer.receipt
        return _JSONAnswer(answer.payload, headers)

    async def _refused(response: Response, status: int, code: str | None, message: str, authorization: str | None,
                       body: ChatCompletionRequest | None) -> Response:
        try:
            await gateway.refused(status, code, message, authorization, body.model if body else None,
                                  bool(body and body.stream))
        except NotRecorded as error:
            return _error_of(error)
        return response

    async def list_models(request: Request) -> Response:
        created = int(time.time())
        data = [{"id": name, "object": "model", "created": created, "owned_by": _owner(config, name)}
                for name in router.names()]
        return JSONResponse({"object": "list", "data": data})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "models": len(router.names()), "open_access": gateway.keys.open})

    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document(tuple(router.names())))

    routed = Starlette(routes=[
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ], lifespan=lifespan, exception_handlers={404: _not_found, 405: _not_allowed, 500: _server_error})

    async def app(scope, receive, send) -> None:
        """The hot path, POST /v1/chat/completions, skips the router and its middleware (measured: 4,500 →
        5,500 requests/s); everything else goes through Starlette."""
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/v1/chat/completions":
            try:
                response = await answer_chat(await _read_body(receive), _header(scope, b"authorization"),
                                             _header(scope, SESSION_HEADER_BYTES), _header(scope, PARENT_HEADER_BYTES))
            except Exception as error:  # a bug: still an OpenAI-shaped answer, never a dropped connection
                response = _error(500, f"internal error: {type(error).__name__}; please report it", "server_error",
                                  "internal_error")
            return await response(scope, receive, send)
        await routed(scope, receive, send)

    return app


SESSION_HEADER_BYTES, PARENT_HEADER_BYTES = SESSION_HEADER.encode(), PARENT_HEADER.encode()


async def _read_body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _header(scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _parse(raw: bytes) -> ChatCompletionRequest:
    try:
        decoded = orjson.loads(raw)  # also refuses unpaired surrogate escapes (\\ud800), which no model can take
    except orjson.JSONDecodeError as error:
        raise GatewayError(400, f"the request body is not valid JSON: {error}", "invalid_request_error",
                           "invalid_json") from None
    if not isinstance(decoded, dict):
        raise GatewayError(400, "the request body must be a JSON object", "invalid_request_error", "invalid_json")
    try:
        return ChatCompletionRequest.model_validate(decoded)
    except ValidationError as error:
        first = error.errors()[0]
        loc = list(first["loc"])
        if first["type"] in ("union_tag_invalid", "union_tag_not_found"):  # a message's role, a part's type
            loc.append(str(first["ctx"]["discriminator"]).strip("'"))
        param = ".".join(str(part) for part in loc) or None
        message = first["msg"].removeprefix("Value error, ")
        raise GatewayError(400, f"invalid parameter `{param}`: {message}", "invalid_request_error",
                           "invalid_parameter", param) from None


def _stream_response(gateway: Gateway, streamed: Streamed, body: ChatCompletionRequest) -> StreamingResponse:
    attempt = streamed.attempt
    request_id, created, model = completion_id(), int(time.time()), attempt.name
    include_usage = bool(body.stream_options and body.stream_options.include_usage)

    async def events():
        usage, finish, texts, tool_pieces = None, None, [], []
        try:
            yield chunk_event(request_id, model, created, {"role": "assistant", "content": ""})
            piece = streamed.first
            while piece is not None:
                usage, finish = piece.usage or usage, piece.finish_reason or finish
                if piece.text or piece.tool_calls or piece.logprobs:
                    yield chunk_event(request_id, model, created, _delta(piece, texts, tool_pieces),
                                      logprobs=piece.logprobs)
                piece = await anext(streamed.rest, None)
            if finish is None:  # the upstream closed without saying the answer was complete: it was cut short
                raise RunError("the upstream ended the stream without a finish reason: the answer may be incomplete")
        except RunError as error:
            await gateway.finish_stream(streamed, usage, "".join(texts), finish, error,
                                        tool_calls=join_tool_calls(tool_pieces))
            yield error_event(f"the model stopped answering mid-stream: {error}")
            yield DONE_EVENT
            return
        except BaseException:  # the client went away: stop the model, still settle and record the spend
            await gateway.finish_stream(streamed, usage, "".join(texts), finish,
                                        RunError("the client closed the stream"), client_left=True,
                                        tool_calls=join_tool_calls(tool_pieces))
            await streamed.rest.aclose()
            raise
        # A streamed answer's receipt cannot be a header (they left first): it rides on the last chunk before
        # [DONE], sent once the answer is on the record.
        receipt = await gateway.finish_stream(streamed, usage, "".join(texts), finish, None,
                                              tool_calls=join_tool_calls(tool_pieces))
        if include_usage and usage is not None:
            yield chunk_event(request_id, model, created, {}, finish_reason=finish)
            yield chunk_event(request_id, model, created, {}, usage=usage, with_choice=False, receipt=receipt)
        else:
            yield chunk_event(request_id, model, created, {}, finish_reason=finish, receipt=receipt)
        yield DONE_EVENT

    headers = _headers(model, attempt.decision, attempt.trace, None)
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def _delta(piece: StreamDelta, texts: list[str], tool_pieces: list[ToolCallDelta]) -> dict:
    """The chunk's delta for one piece, noting its text and tool-call pieces for the record."""
    delta = {}
    if piece.text:
        texts.append(piece.text)
        delta["content"] = piece.text
    if piece.tool_calls:
        tool_pieces.extend(piece.tool_calls)
        delta["tool_calls"] = [tool_call_delta_body(call) for call in piece.tool_calls]
    return delta


class _JSONAnswer:
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


def _headers(model: str, decision, trace: TraceContext, cost: float | None) -> dict:
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


def _variant_routes(config: Config, offered: list[str]) -> dict[str, str]:
    """The offered variants whose base is a route (the router applies them to the model the route picks)."""
    return {VARIANT_PREFIX + v.name: v.base for v in config.variants.values()
            if v.base.startswith(ROUTE_PREFIX) and VARIANT_PREFIX + v.name in offered}


def _owner(config: Config, name: str) -> str:
    if name.startswith(VARIANT_PREFIX):
        return "gensandbox-variant"
    model = config.models.get(name)
    return (model.vendor if model and model.vendor else "gensandbox") if model else "gensandbox-route"


def _error(status: int, message: str, error_type: str, code: str | None = None, param: str | None = None,
           headers: dict | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, error_type, code, param), status_code=status, headers=headers)


def _error_of(error: GatewayError) -> JSONResponse:
    return _error(error.status, str(error), error.error_type, error.code, error.param, error.headers)


async def _not_found(request: Request, exc) -> Response:
    return _error(404, f"no such endpoint: {request.method} {request.url.path}; this gateway serves "
                  "/v1/chat/completions, /v1/models, /healthz, /metrics and /openapi.json", "invalid_request_error",
                  "not_found")


async def _not_allowed(request: Request, exc) -> Response:
    """405 with the path's methods in `Allow` (RFC 9110 requires it): Starlette's route hands them over."""
    allowed = sorted(m.strip() for m in (getattr(exc, "headers", None) or {}).get("Allow", "").split(",") if m.strip())
    use = f"; use {' or '.join(allowed)}" if allowed else ""
    return _error(405, f"{request.method} is not allowed on {request.url.path}{use}", "invalid_request_error",
                  "method_not_allowed", headers={"Allow": ", ".join(allowed)} if allowed else None)


async def _server_error(request: Request, exc) -> Response:
    return _error(500, f"internal error: {type(exc).__name__}; please report it", "server_error", "internal_error")
