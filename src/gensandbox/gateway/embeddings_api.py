"""POST /v1/embeddings: OpenAI's embeddings API on the gateway's keys, budgets, ledger and receipts, answered by
the embedded embedder (`local`, or any local model) or an OpenAI-compatible endpoint's /v1/embeddings."""

from __future__ import annotations

import base64
import time
from typing import Annotated

import numpy as np
import orjson
from pydantic import BaseModel, Field
from starlette.responses import Response

from gensandbox.access import DEFAULT_PROJECT
from gensandbox.calls.budget import estimate_tokens, worst_case_cost
from gensandbox.calls.models import embedder_for
from gensandbox.calls.records import call_facts
from gensandbox.calls.targets import ModelFacts
from gensandbox.canonical import now_utc, sha256_hex
from gensandbox.errors import GatewayError, GenSandboxError, RunError
from gensandbox.gateway.answers import Asking, JSONAnswer, guarded
from gensandbox.gateway.service import Gateway
from gensandbox.gateway.sessions import SPAN_HEADER, trace_context
from gensandbox.gateway.wire import STRICT, parse_request
from gensandbox.ledger.events import ANONYMOUS
from gensandbox.types import Usage
from gensandbox.variants.embeddings import Embedder

MAX_INPUTS = 2048  # OpenAI's own limit of inputs per request


class EmbeddingsRequest(BaseModel):
    """What the gateway honours. Token-id input and `dimensions` are refused: neither embedder behind it takes them
    (the schema says so, and the 400 names them)."""

    model_config = STRICT
    model: str = Field(min_length=1)
    input: str | Annotated[list[str], Field(min_length=1, max_length=MAX_INPUTS)] = Field(
        description="A text, or 1 to 2048 texts")
    encoding_format: str = Field(default="float", pattern="^(float|base64)$")

    def texts(self) -> list[str]:
        texts = [self.input] if isinstance(self.input, str) else self.input
        if not texts or len(texts) > MAX_INPUTS:
            raise GatewayError(400, f"invalid parameter `input`: send 1 to {MAX_INPUTS} texts, not {len(texts)}",
                               "invalid_request_error", "invalid_parameter", "input")
        return texts


def embeddings_body(vectors: np.ndarray, model: str, encoding_format: str, input_tokens: int) -> dict:
    """OpenAI's answer: one entry per input, in order; base64 is the little-endian float32 bytes, as OpenAI sends."""
    def encoded(row: np.ndarray):
        if encoding_format == "base64":
            return base64.b64encode(row.astype("<f4").tobytes()).decode("ascii")
        return row.astype(float).tolist()

    return {"object": "list", "model": model,
            "data": [{"object": "embedding", "index": i, "embedding": encoded(row)} for i, row in enumerate(vectors)],
            "usage": {"prompt_tokens": input_tokens, "total_tokens": input_tokens}}


class Embeddings:
    """The gateway's embedders, built on first use (one broken model cannot stop the gateway starting)."""

    def __init__(self, gateway: Gateway):
        self.gateway = gateway
        self._embedders: dict[str, Embedder] = {}

    def embedder(self, name: str) -> Embedder:
        if name not in self.gateway.router.models:
            raise GatewayError(404, f"model `{name}` is not served here; available: "
                               f"{', '.join(self.gateway.router.models)}", "invalid_request_error",
                               "model_not_found", "model")
        if name not in self._embedders:
            try:
                self._embedders[name] = embedder_for(name, self.gateway.config)
            except GenSandboxError as error:  # an Anthropic model or a variant: no embeddings there
                raise GatewayError(400, f"model `{name}` cannot make embeddings: {error}", "invalid_request_error",
                                   "unsupported_model", "model") from None
        return self._embedders[name]

    async def aclose(self) -> None:
        for embedder in self._embedders.values():
            await embedder.aclose()

    async def answer(self, raw: bytes, authorization: str | None, session: str | None,
                     parent: str | None) -> Response:
        async def handle(asking: Asking) -> Response:
            body = parse_request(raw, EmbeddingsRequest)
            asking.model = body.model
            return await self._embed(body, authorization, trace_context(session, parent, None))

        return await guarded(self.gateway, authorization, handle)

    async def _embed(self, body: EmbeddingsRequest, authorization: str | None, trace) -> Response:
        gateway, texts = self.gateway, body.texts()
        key = gateway.keys.authenticate(authorization)
        gateway.keys.check_model(key, body.model)
        embedder = self.embedder(body.model)
        gateway.keys.admit(key)
        target = gateway.target(body.model)
        # Counted by the generous estimate on both sides: the embedders do not report their tokenizers' counts.
        input_tokens = sum(estimate_tokens(text) for text in texts)
        reserved = 0.0
        if key is not None and key.record.budget_usd is not None:
            reserved = worst_case_cost(target.price, input_tokens, 0, gateway.config.file.serve.request_timeout_s)
            gateway.keys.reserve(key, reserved)
        started_at, started = now_utc(), time.perf_counter()
        try:
            vectors = await embedder.embed(texts)
        except RunError as error:
            gateway.keys.settle(key, reserved, 0.0)
            await self._record(key, body, target, trace, started_at, started, 0, 0.0, None, str(error))
            raise GatewayError(502, f"`{body.model}` could not embed: {error}", "upstream_error",
                               "upstream_failed") from None
        cost = target.price.cost_usd(Usage(input_tokens, 0), time.perf_counter() - started)
        gateway.keys.settle(key, reserved, cost)
        payload = orjson.dumps(embeddings_body(vectors, body.model, body.encoding_format, input_tokens))
        summary = f"{len(vectors)} embeddings of {vectors.shape[1]} dimensions"
        body_sha256 = sha256_hex(payload)
        event = await self._record(key, body, target, trace, started_at, started, input_tokens, cost, body_sha256,
                                   None, summary=summary)
        headers = {"x-gensandbox-model": body.model, SPAN_HEADER: trace.span_id,
                   "x-gensandbox-cost-usd": f"{cost:.8f}",
                   "x-gensandbox-receipt": gateway.ledger.event_receipt(event, body.model, summary, body_sha256)}
        return JSONAnswer(payload, headers)

    async def _record(self, key, body: EmbeddingsRequest, target, trace, started_at: str, started: float,
                      input_tokens: int, cost: float, body_sha256: str | None, error: str | None,
                      summary: str | None = None) -> dict:
        """The call's ledger event, durable before the answer goes out (its receipt names it)."""
        gateway, latency = self.gateway, time.perf_counter() - started
        key_id = key.record.key_id if key else ANONYMOUS
        gateway.metrics.observe(body.model, 200 if error is None else 502, Usage(input_tokens, 0), cost, latency)
        texts = [body.input] if isinstance(body.input, str) else body.input
        event = gateway.ledger.call_event(call_facts(
            "gateway", ModelFacts.of(target), requested_model=body.model, served_model=body.model,
            started_at=started_at, prompt=[{"role": "user", "content": text} for text in texts], max_tokens=None,
            temperature=None, latency_s=latency, input_tokens=input_tokens, output_tokens=0, reasoning_tokens=0,
            cost_usd=cost, response_text=summary, finish_reason=None, ok=error is None, error=error, key_id=key_id,
            route="direct", route_reason="the model named in the request", project=_project(key),
            body_sha256=body_sha256, session=trace.session,
            trace_id=trace.trace_id, span_id=trace.span_id, parent_span_id=trace.parent_span_id,
            http_status=None if error is None else 502, operation="embeddings"))
        await gateway.recorder.commit(key_id, cost if key else None, event)
        return event


def _project(key) -> str:
    return key.record.project_id if key else DEFAULT_PROJECT
