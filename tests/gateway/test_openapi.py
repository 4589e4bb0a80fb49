"""The gateway's /openapi.json and its answers agree: what the document allows is taken, what it does not is a
400 naming the parameter, streamed answers match the event schema, and 405s say which methods a path takes."""

from __future__ import annotations

import json

import httpx
import jsonschema
import pytest

ASK = [{"role": "user", "content": "hello there"}]


def post(gateway, raw: bytes) -> httpx.Response:
    return httpx.post(f"{gateway.base_url}/chat/completions", content=raw,
                      headers={"content-type": "application/json"}, timeout=10)


def with_fields(fields: str) -> bytes:
    """A request whose extra `fields` are JSON text as sent (so 1e30 or 64.0 reach the gateway as written)."""
    return ('{"model": "echo", "messages": ' + json.dumps(ASK) + ", " + fields + "}").encode()


def document(gateway) -> dict:
    return httpx.get(f"{gateway.url}/openapi.json").json()


def request_schema(gateway) -> dict:
    return document(gateway)["components"]["schemas"]["ChatCompletionRequest"]["properties"]


@pytest.mark.parametrize("fields, param, message", [
    ('"stream": true, "stream_options": {"include_usage": 0}', "stream_options.include_usage",
     "Input should be a valid boolean"),
    ('"stream": true, "stream_options": {"include_usage": "true"}', "stream_options.include_usage",
     "Input should be a valid boolean"),
    ('"stream": "yes"', "stream", "Input should be a valid boolean"),
    ('"max_tokens": "64"', "max_tokens", "Input should be a valid integer"),
    ('"max_tokens": 2.5', "max_tokens", "Input should be a valid integer"),
    ('"max_tokens": 2147483648', "max_tokens", "Input should be less than or equal to 2147483647"),
    ('"max_completion_tokens": 10000000000', "max_completion_tokens",
     "Input should be less than or equal to 2147483647"),
    ('"max_tokens": 1e30', "max_tokens", "Input should be an integer within 64 bits"),
    ('"seed": -9223372036854775809', "seed", "Input should be an integer within 64 bits"),
    ('"temperature": "0.5"', "temperature", "Input should be a valid number"),
    ('"stop": ["a", "b", "c", "d", "e"]', "stop", "at most 4 stop sequences"),
])
def test_a_value_the_document_does_not_allow_is_a_400(gateway, fields, param, message):
    response = post(gateway, with_fields(fields))
    assert response.status_code == 400, response.text
    assert response.json()["error"] == {"message": f"invalid parameter `{param}`: {message}",
                                        "type": "invalid_request_error", "param": param,
                                        "code": "invalid_parameter"}


@pytest.mark.parametrize("fields", [
    '"max_tokens": 2147483647', '"max_completion_tokens": 2147483647', '"max_tokens": 64.0', '"n": 1.0',
    '"seed": -9223372036854775808', '"seed": 9223372036854775807', '"temperature": 1',
    '"stop": ["a", "b", "c", "d"]', '"stream": false, "stream_options": {"include_usage": true}',
])
def test_a_value_the_document_allows_is_answered(gateway, fields):
    response = post(gateway, with_fields(fields))
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "hello there"


def test_the_document_declares_the_limits_it_enforces(gateway):
    properties = request_schema(gateway)
    assert properties["max_tokens"]["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
    assert properties["max_completion_tokens"]["anyOf"][0] == {"type": "integer", "minimum": 1,
                                                               "maximum": 2**31 - 1}
    assert properties["seed"]["anyOf"][0] == {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1}
    assert {"type": "array", "items": {"type": "string"}, "maxItems": 4} in properties["stop"]["anyOf"]
    assert properties["stream"]["type"] == "boolean"


@pytest.mark.parametrize("include_usage", [False, True])
def test_every_streamed_event_matches_the_documented_event_schema(gateway, include_usage):
    spec = document(gateway)
    content = spec["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]
    assert content["text/event-stream"]["schema"] == {"$ref": "#/components/schemas/ChatCompletionStreamEvent"}
    event_schema = {**spec["components"]["schemas"]["ChatCompletionStreamEvent"],
                    "components": spec["components"]}  # so its $refs resolve
    data_schemas = event_schema["properties"]["data"]["anyOf"]
    assert data_schemas[0]["const"] == "[DONE]" and data_schemas[1]["contentMediaType"] == "application/json"
    assert {"$ref": "#/components/schemas/ChatCompletionChunk"} in data_schemas[1]["contentSchema"]["anyOf"]
    chunk_schema = {**spec["components"]["schemas"]["ChatCompletionChunk"], "components": spec["components"]}

    response = post(gateway, json.dumps({"model": "echo", "messages": ASK, "stream": True,
                                         "stream_options": {"include_usage": include_usage}}).encode())
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = [block.removeprefix("data: ") for block in response.text.split("\n\n") if block]
    assert events[-1] == "[DONE]" and len(events) >= 4
    for data in events:
        jsonschema.validate({"data": data, "event": "message"}, event_schema)
    for data in events[:-1]:
        jsonschema.validate(json.loads(data), chunk_schema)
    assert ("usage" in json.loads(events[-2])) == include_usage
    with pytest.raises(jsonschema.ValidationError):  # the chunk schema does say something
        jsonschema.validate({"id": "x", "object": "chat.completion"}, chunk_schema)


@pytest.mark.parametrize("method, path, allowed", [
    ("GET", "/v1/chat/completions", "POST"),
    ("PUT", "/v1/chat/completions", "POST"),
    ("TRACE", "/healthz", "GET, HEAD"),
    ("POST", "/v1/models", "GET, HEAD"),
    ("DELETE", "/openapi.json", "GET, HEAD"),
])
def test_a_405_says_which_methods_the_path_takes(gateway, method, path, allowed):
    response = httpx.request(method, f"{gateway.url}{path}")
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    use = " or ".join(allowed.split(", "))
    assert response.json()["error"] == {"message": f"{method} is not allowed on {path}; use {use}",
                                        "type": "invalid_request_error", "param": None,
                                        "code": "method_not_allowed"}
