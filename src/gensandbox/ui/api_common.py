"""What the management API's handlers share: reading a JSON body into a pydantic model (a 400 naming the field
when it does not fit) and answering JSON."""

from __future__ import annotations

from typing import TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from gensandbox.errors import GatewayError

M = TypeVar("M", bound=BaseModel)
MAX_JSON_BYTES = 64_000  # management requests are small; a suite upload has its own endpoint and limit


class Body(BaseModel):
    """A management request: unknown fields are refused by name, not ignored."""

    model_config = ConfigDict(extra="forbid")


async def body_of(request: Request, model: type[M]) -> M:
    raw = await request.body()
    if len(raw) > MAX_JSON_BYTES:
        raise GatewayError(413, f"the request body is {len(raw):,} bytes; the most this endpoint takes is "
                           f"{MAX_JSON_BYTES:,}", "invalid_request_error", "body_too_large")
    try:
        data = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError:
        raise GatewayError(400, "the request body is not JSON", "invalid_request_error", "invalid_json") from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise GatewayError(400, f"`{field}`: {first['msg']}", "invalid_request_error", "invalid_value",
                           field) from None


def json_response(data, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")
