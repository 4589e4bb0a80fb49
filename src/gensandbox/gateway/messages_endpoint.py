"""POST /v1/messages: Anthropic's Messages API served by the same core as chat completions (keys, routing, budgets,
fallback, records and receipts); only the wire format differs (gateway.messages_api)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

from gensandbox.errors import GatewayError, RunError
from gensandbox.gateway.answers import Asking, EventStreamAnswer, answer_headers, guarded, receipted
from gensandbox.gateway.messages_api import (
    MessagesRequest,
    MessageStream,
    error_body,
    error_event,
    message_body,
    to_asked,
)
from gensandbox.gateway.service import Gateway, Streamed
from gensandbox.gateway.sessions import PARENT_HEADER, SESSION_HEADER, trace_context
from gensandbox.gateway.wire import parse_request
from gensandbox.types import ToolCallDelta, join_tool_calls


async def answer_messages(gateway: Gateway, raw: bytes, headers: Headers) -> Response:
    authorization = authorization_of(headers)

    async def handle(asking: Asking) -> Response:
        body = parse_request(raw, MessagesRequest)
        asking.model, asking.stream = body.model, body.stream
        admitted = gateway.admit(authorization, to_asked(body))
        await gateway.screen(admitted)
        trace = trace_context(headers.get(SESSION_HEADER), headers.get(PARENT_HEADER), None)
        if body.stream:
            return _stream_response(gateway, await gateway.open_stream(admitted, trace))
        return receipted(await gateway.complete(admitted, trace, message_body))

    return await guarded(gateway, authorization, handle, error_response)


def authorization_of(headers: Headers) -> str | None:
    """The key as the gateway's key gate reads it. The anthropic SDK sends it in x-api-key, OpenAI's in
    Authorization: either is taken, Authorization first."""
    if headers.get("authorization"):
        return headers["authorization"]
    key = headers.get("x-api-key")
    return f"Bearer {key}" if key else None


def error_response(error: GatewayError) -> JSONResponse:
    """Errors in Anthropic's shape, which the anthropic SDK reads its message from."""
    return JSONResponse(error_body(error.status, str(error), error.code, error.param), status_code=error.status,
                        headers=error.headers)


def _stream_response(gateway: Gateway, streamed: Streamed) -> EventStreamAnswer:
    """The answer as Anthropic's events. Like a chat stream it is settled and recorded on every way out: finished,
    broken mid-way (an error event ends it), or left by the client."""
    stream = MessageStream(streamed.attempt.name)

    async def events():
        usage, finish, tool_pieces = None, None, []
        try:
            yield stream.start()
            piece = streamed.first
            while piece is not None:
                usage, finish = piece.usage or usage, piece.finish_reason or finish
                tool_pieces.extend(piece.tool_calls)
                for event in stream.piece(piece):
                    yield event
                piece = await anext(streamed.rest, None)
            if finish is None:  # the upstream closed without saying the answer was complete: it was cut short
                raise RunError("the upstream ended the stream without a finish reason: the answer may be incomplete")
        except RunError as error:
            await _finish(gateway, streamed, usage, stream, finish, tool_pieces, error)
            yield error_event(f"the model stopped answering mid-stream: {error}")
            return
        except BaseException:  # the client went away: stop the model, still settle and record the spend
            left = RunError("the client closed the stream")
            await _finish(gateway, streamed, usage, stream, finish, tool_pieces, left, client_left=True)
            await streamed.rest.aclose()
            raise
        receipt = await _finish(gateway, streamed, usage, stream, finish, tool_pieces, None)
        for event in stream.finish(finish, usage, receipt):
            yield event

    attempt = streamed.attempt
    headers = answer_headers(attempt.name, attempt.decision, attempt.trace, None)
    return EventStreamAnswer(events(), headers)


async def _finish(gateway: Gateway, streamed: Streamed, usage, stream: MessageStream, finish: str | None,
                  tool_pieces: list[ToolCallDelta], error: RunError | None, client_left: bool = False) -> str | None:
    return await gateway.finish_stream(streamed, usage, "".join(stream.texts), finish, error, client_left=client_left,
                                       tool_calls=join_tool_calls(tool_pieces))
