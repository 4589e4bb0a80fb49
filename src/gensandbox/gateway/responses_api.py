"""POST /v1/responses: OpenAI's Responses API (the default of OpenAI's Agents SDK) on the gateway's one core, so
its requests take the same routes, keys, budgets, ledger events and receipts as chat completions, to a model of
any API. A response is stored (unless `store` is false) so a later request can continue it by
previous_response_id, with the same key only."""

from __future__ import annotations

from starlette.responses import Response

from gensandbox.errors import GatewayError, RunError
from gensandbox.gateway.answers import Asking, EventStreamAnswer, answer_headers, guarded, receipted
from gensandbox.gateway.responses_wire import (
    EventStream,
    ResponsesRequest,
    answered_messages,
    conversation_json,
    conversation_of,
    function_call_item,
    message_item,
    now,
    output_items,
    response_body,
    response_id,
    to_chat_request,
    to_messages,
)
from gensandbox.gateway.service import Asked, Gateway, Streamed
from gensandbox.gateway.sessions import trace_context
from gensandbox.gateway.wire import parse_request
from gensandbox.ledger.events import ANONYMOUS
from gensandbox.store.gateway import GatewayStore
from gensandbox.types import ChatResponse, ToolCall, ToolCallDelta, Usage, join_tool_calls


async def answer_responses(gateway: Gateway, store: GatewayStore, raw: bytes, authorization: str | None,
                           session: str | None, parent: str | None) -> Response:
    async def handle(asking: Asking) -> Response:
        body = parse_request(raw, ResponsesRequest)
        asking.model, asking.stream = body.model, body.stream
        key = gateway.keys.authenticate(authorization)
        key_id = key.record.key_id if key else ANONYMOUS
        earlier = _earlier(store, body.previous_response_id, key_id)
        request = to_chat_request(body, earlier)
        admitted = gateway.admit(authorization, Asked(body.model, request, body.stream, body.metadata))
        await gateway.screen(admitted)
        trace = trace_context(session, parent, body.metadata)
        rid, created = response_id(), now()
        conversation = earlier + to_messages(body)

        def keep(response: ChatResponse) -> None:
            if body.store is not False:
                store.store_response(rid, key_id, conversation_json(conversation + answered_messages(response)))

        if body.stream:
            streamed = await gateway.open_stream(admitted, trace)
            return _stream(gateway, streamed, body, rid, created, keep)

        def render(response: ChatResponse, model: str) -> dict:
            return response_body(body, rid, model, created, output_items(response, f"msg_{rid[5:]}"),
                                 response.usage, response.finish_reason)

        answer = await gateway.complete(admitted, trace, render)
        keep(answer.response)
        return receipted(answer)

    return await guarded(gateway, authorization, handle)


def _earlier(store: GatewayStore, previous_response_id: str | None, key_id: str) -> list:
    if previous_response_id is None:
        return []
    stored = store.stored_response(previous_response_id, key_id)
    if stored is None:  # another key's response is as absent as one never made: nothing tells them apart
        raise GatewayError(404, f"no stored response `{previous_response_id}` for this key (responses made with "
                           "`store: false` are not kept)", "invalid_request_error", "response_not_found",
                           "previous_response_id")
    return conversation_of(stored)


def _stream(gateway: Gateway, streamed: Streamed, body: ResponsesRequest, rid: str, created: int,
            keep) -> EventStreamAnswer:
    """The Responses stream: the response created, its text as output_text deltas of one message item, each
    function call as an item of its own with its arguments' deltas, then the completed response."""
    attempt = streamed.attempt
    model, events = attempt.name, EventStream()
    state = _StreamState(f"msg_{rid[5:]}")

    async def generate():
        yield events.event("response.created", response=response_body(body, rid, model, created, [], None, None,
                                                                      "in_progress"))
        usage, finish = None, None
        try:
            piece = streamed.first
            while piece is not None:
                usage, finish = piece.usage or usage, piece.finish_reason or finish
                for event in state.text(events, piece.text) + state.calls(events, piece.tool_calls):
                    yield event
                piece = await anext(streamed.rest, None)
            if finish is None:
                raise RunError("the upstream ended the stream without a finish reason: the answer may be incomplete")
        except RunError as error:
            await gateway.finish_stream(streamed, usage, state.answer(), finish, error, tool_calls=state.tool_calls())
            yield events.event("response.failed", response=response_body(
                body, rid, model, created, state.items(), usage, finish, "failed") | {
                    "error": {"code": "server_error", "message": f"the model stopped answering mid-stream: {error}"}})
            return
        except BaseException:  # the client went away: stop the model, still settle and record the spend
            await gateway.finish_stream(streamed, usage, state.answer(), finish,
                                        RunError("the client closed the stream"), client_left=True,
                                        tool_calls=state.tool_calls())
            await streamed.rest.aclose()
            raise
        receipt = await gateway.finish_stream(streamed, usage, state.answer(), finish, None,
                                              tool_calls=state.tool_calls())
        for event in state.close(events):
            yield event
        keep(ChatResponse(state.answer(), finish or "stop", usage or Usage(), 0.0, tool_calls=state.tool_calls()))
        completed = response_body(body, rid, model, created, state.items(), usage, finish)
        yield events.event("response.completed", response=completed | {"gensandbox_receipt": receipt})

    return EventStreamAnswer(generate(), answer_headers(model, attempt.decision, attempt.trace, None))


class _StreamState:
    """The output items of a streamed response as they grow: the message (while text comes) and the calls."""

    def __init__(self, message_id: str):
        self.message_id, self.texts, self.pieces = message_id, [], []
        self.message_index: int | None = None
        self.call_indexes: dict[int, int] = {}  # tool call index → output index
        self.open_items = 0

    def answer(self) -> str:
        return "".join(self.texts)

    def tool_calls(self) -> tuple[ToolCall, ...]:
        return join_tool_calls(self.pieces)

    def text(self, events: EventStream, text: str) -> list[bytes]:
        if not text:
            return []
        out = []
        if self.message_index is None:
            self.message_index = self.open_items
            self.open_items += 1
            out.append(events.event("response.output_item.added", output_index=self.message_index,
                                    item=message_item(self.message_id, None, "in_progress")))
            out.append(events.event("response.content_part.added", item_id=self.message_id,
                                    output_index=self.message_index, content_index=0,
                                    part={"type": "output_text", "text": "", "annotations": []}))
        self.texts.append(text)
        out.append(events.event("response.output_text.delta", item_id=self.message_id, output_index=self.message_index,
                                content_index=0, delta=text, logprobs=[]))
        return out

    def calls(self, events: EventStream, pieces: tuple[ToolCallDelta, ...]) -> list[bytes]:
        out = []
        for piece in pieces:
            self.pieces.append(piece)
            if piece.index not in self.call_indexes:
                self.call_indexes[piece.index] = self.open_items
                self.open_items += 1
                call = ToolCall(piece.id or "", piece.name or "", "")
                out.append(events.event("response.output_item.added", output_index=self.call_indexes[piece.index],
                                        item=function_call_item(call, "in_progress")))
            if piece.arguments:
                out.append(events.event("response.function_call_arguments.delta", item_id=f"fc_{self._id(piece)}",
                                        output_index=self.call_indexes[piece.index], delta=piece.arguments))
        return out

    def _id(self, piece: ToolCallDelta) -> str:
        return next(p.id for p in self.pieces if p.index == piece.index and p.id)

    def close(self, events: EventStream) -> list[bytes]:
        out = []
        if self.message_index is not None:
            text = self.answer()
            part = {"type": "output_text", "text": text, "annotations": []}
            out += [events.event("response.output_text.done", item_id=self.message_id,
                                 output_index=self.message_index, content_index=0, text=text, logprobs=[]),
                    events.event("response.content_part.done", item_id=self.message_id,
                                 output_index=self.message_index, content_index=0, part=part),
                    events.event("response.output_item.done", output_index=self.message_index,
                                 item=message_item(self.message_id, text, "completed"))]
        for index, call in zip(sorted(self.call_indexes), self.tool_calls(), strict=True):
            output_index = self.call_indexes[index]
            out += [events.event("response.function_call_arguments.done", item_id=f"fc_{call.id}",
                                 output_index=output_index, arguments=call.arguments, name=call.name),
                    events.event("response.output_item.done", output_index=output_index,
                                 item=function_call_item(call, "completed"))]
        return out

    def items(self) -> list[dict]:
        items = [message_item(self.message_id, self.answer(), "completed")] if self.message_index is not None else []
        return items + [function_call_item(call, "completed") for call in self.tool_calls()]
