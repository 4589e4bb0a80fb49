"""The gateway's OpenAPI document, built from the same pydantic model that validates requests."""

from __future__ import annotations

from functools import cache

from gensandbox.gateway.embeddings_api import EmbeddingsRequest
from gensandbox.gateway.messages_api import MessagesRequest
from gensandbox.gateway.responses_wire import ResponsesRequest
from gensandbox.gateway.wire import ChatCompletionRequest

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "object", "required": ["message", "type"], "properties": {
        "message": {"type": "string"}, "type": {"type": "string"},
        "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}}}},
    "required": ["error"],
}
_COMPLETION = {
    "type": "object",
    "required": ["id", "object", "created", "model", "choices", "usage"],
    "properties": {"id": {"type": "string"}, "object": {"type": "string"}, "created": {"type": "integer"},
                   "model": {"type": "string"}, "choices": {"type": "array"},
                   "usage": {"$ref": "#/components/schemas/Usage"}},
}

_USAGE = {"type": "object", "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
          "properties": {"prompt_tokens": {"type": "integer"}, "completion_tokens": {"type": "integer"},
                         "total_tokens": {"type": "integer"}}}
_CHUNK = {
    "type": "object",
    "required": ["id", "object", "created", "model", "choices"],
    "properties": {
        "id": {"type": "string"}, "object": {"const": "chat.completion.chunk"}, "created": {"type": "integer"},
        "model": {"type": "string"},
        "choices": {"type": "array", "maxItems": 1, "items": {
            "type": "object", "required": ["index", "delta", "finish_reason"],
            "properties": {"index": {"type": "integer"},
                           "delta": {"type": "object", "properties": {"role": {"const": "assistant"},
                                                                       "content": {"type": "string"}}},
                           "finish_reason": {"type": ["string", "null"]},
                           "logprobs": {"type": ["object", "null"]}}}},
        "usage": {"$ref": "#/components/schemas/Usage"},
        "gensandbox_receipt": {"type": "string", "description": "The signed usage receipt, on the last chunk"},
    },
}
# One server-sent event of a streamed completion, as OpenAPI 3.1 describes an event stream: `schema` is one event
# (OpenAPI 3.2 names it `itemSchema`), its `data` a chunk as JSON, a mid-stream error, or the closing [DONE].
_STREAM_EVENT = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "data": {"anyOf": [
            {"const": "[DONE]", "description": "The last event"},
            {"type": "string", "contentMediaType": "application/json", "contentSchema": {"anyOf": [
                {"$ref": "#/components/schemas/ChatCompletionChunk"}, {"$ref": "#/components/schemas/Error"}]}},
        ]},
        "event": {"type": "string"}, "id": {"type": "string"}, "retry": {"type": "integer"},
    },
}


def _error_responses(*statuses: int) -> dict:
    descriptions = {400: "Malformed JSON or an invalid parameter", 401: "Missing or invalid API key",
                    404: "Unknown model", 429: "Rate limit or budget reached",
                    502: "No model could answer, after every fallback",
                    503: "The model cannot be used here (e.g. its file or API key is missing)"}
    return {str(status): {"description": descriptions[status],
                          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            for status in statuses}


_RESPONSE = {
    "type": "object",
    "required": ["id", "object", "created_at", "model", "status", "output"],
    "properties": {"id": {"type": "string"}, "object": {"const": "response"}, "created_at": {"type": "integer"},
                   "model": {"type": "string"}, "status": {"type": "string"}, "output": {"type": "array"}},
}
_RESPONSE_EVENT = {
    "type": "object", "required": ["data"],
    "properties": {"event": {"type": "string"}, "data": {"type": "string", "contentMediaType": "application/json"}},
}


# Anthropic's message object, and one event of a streamed message (its `event` names the type of its `data`).
_MESSAGE = {
    "type": "object",
    "required": ["id", "type", "role", "model", "content", "stop_reason", "usage"],
    "properties": {"id": {"type": "string"}, "type": {"const": "message"}, "role": {"const": "assistant"},
                   "model": {"type": "string"}, "content": {"type": "array", "items": {"type": "object"}},
                   "stop_reason": {"type": ["string", "null"]}, "stop_sequence": {"type": ["string", "null"]},
                   "usage": {"type": "object", "required": ["input_tokens", "output_tokens"],
                             "properties": {"input_tokens": {"type": "integer"}, "output_tokens": {"type": "integer"},
                                            "cache_read_input_tokens": {"type": "integer"}}}},
}
_MESSAGE_STREAM_EVENT = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"enum": ["message_start", "content_block_start", "content_block_delta", "content_block_stop",
                           "message_delta", "message_stop", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": {
            "type": "object", "required": ["type"], "properties": {"type": {"type": "string"}}}},
        "id": {"type": "string"}, "retry": {"type": "integer"},
    },
}


_EMBEDDINGS = {"type": "object", "required": ["object", "data", "model", "usage"],
               "properties": {"object": {"const": "list"}, "data": {"type": "array"}, "model": {"type": "string"},
                              "usage": {"type": "object"}}}


def _request_schema(model, model_names: tuple[str, ...], definitions: dict) -> dict:
    """The request body's schema, its `model` one of those served; its parts go into `definitions`, each name once
    (two wire formats defining one name differently would make the document lie about one of them)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        assert definitions.setdefault(name, definition) == definition, f"two definitions of {name}"
    schema["properties"]["model"] = {"type": "string", "enum": list(model_names),
                                     "description": "A model or route:NAME this gateway serves"}
    return schema


def _post(operation: str, request: str, answer: str, stream_event: str, description: str) -> dict:
    return {"post": {
        "operationId": operation,
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{request}"}}}},
        "responses": {"200": {"description": description, "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{answer}"}},
            "text/event-stream": {"schema": {"$ref": f"#/components/schemas/{stream_event}"}}}},
            **_error_responses(400, 401, 404, 429, 502, 503)},
    }}


@cache
def openapi_document(model_names: tuple[str, ...]) -> dict:
    """The document for a gateway serving `model_names` (listed as the values `model` may take)."""
    definitions: dict = {}
    request_schema = _request_schema(ChatCompletionRequest, model_names, definitions)
    responses_schema = _request_schema(ResponsesRequest, model_names, definitions)
    embeddings_schema = _request_schema(EmbeddingsRequest, model_names, definitions)
    messages_schema = _request_schema(MessagesRequest, model_names, definitions)
    return {
        "openapi": "3.1.0",
        "info": {"title": "GenSandbox gateway", "version": "1",
                 "description": "OpenAI's chat completions and Responses APIs, Anthropic's Messages API and "
                                "embeddings, on any model, with routing, keys, budgets and records."},
        "paths": {
            "/v1/chat/completions": {"post": {
                "operationId": "createChatCompletion",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/ChatCompletionRequest"}}}},
                "responses": {"200": {"description": "A completion; or, when stream is true, server-sent events: "
                                                     "`data: <ChatCompletionChunk>` each, ending with `data: [DONE]`",
                                      "content": {"application/json": {
                                          "schema": {"$ref": "#/components/schemas/ChatCompletion"}},
                                          "text/event-stream": {
                                              "schema": {"$ref": "#/components/schemas/ChatCompletionStreamEvent"}}}},
                              **_error_responses(400, 401, 404, 429, 502, 503)},
            }},
            "/v1/responses": _post("createResponse", "ResponsesRequest", "Response", "ResponseStreamEvent",
                                   "A response; or, when stream is true, server-sent events (response.created, "
                                   "output deltas, response.completed)"),
            "/v1/messages": _post("createMessage", "MessagesRequest", "AnthropicMessage", "MessageStreamEvent",
                                  "Anthropic's Messages API: a message; or, when stream is true, Anthropic's "
                                  "server-sent events, the last (message_stop) carrying gensandbox_receipt"),
            "/v1/embeddings": {"post": {
                "operationId": "createEmbeddings",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/EmbeddingsRequest"}}}},
                "responses": {"200": {"description": "One embedding per input, in order", "content": {
                    "application/json": {"schema": _EMBEDDINGS}}}, **_error_responses(400, 401, 404, 429, 502, 503)},
            }},
            "/v1/models": {"get": {"operationId": "listModels", "responses": {"200": {
                "description": "Models and routes this gateway serves",
                "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/healthz": {"get": {"operationId": "health", "responses": {"200": {
                "description": "The gateway is up", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/metrics": {"get": {"operationId": "metrics", "responses": {"200": {
                "description": "Prometheus metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        },
        "components": {"schemas": {**definitions, "ChatCompletionRequest": request_schema,
                                   "ChatCompletion": _COMPLETION, "ChatCompletionChunk": _CHUNK,
                                   "ChatCompletionStreamEvent": _STREAM_EVENT, "Usage": _USAGE, "Error": _ERROR,
                                   "ResponsesRequest": responses_schema, "Response": _RESPONSE,
                                   "ResponseStreamEvent": _RESPONSE_EVENT, "EmbeddingsRequest": embeddings_schema,
                                   "MessagesRequest": messages_schema, "AnthropicMessage": _MESSAGE,
                                   "MessageStreamEvent": _MESSAGE_STREAM_EVENT}},
    }
