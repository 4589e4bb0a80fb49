"""The one boundary every model sits behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from gensandbox.types import ChatRequest, ChatResponse, StreamDelta


@runtime_checkable
class Provider(Protocol):
    """A model that answers chat requests.

    `endpoint` names what limits concurrency: a base URL for remote APIs, the machine's CPU for
    in-process models (so two local models never fight over the same cores). `capabilities` says which parts of
    a request beyond its text it honours; a request needing another is refused before it reaches the model.
    """

    endpoint: str
    capabilities: frozenset[str]  # what of a request it can honour (providers.capabilities)

    async def complete(self, request: ChatRequest) -> ChatResponse:
        """Answer one request; raise a RunError subclass on failure."""
        ...

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamDelta]:
        """Answer one request piece by piece; the last delta carries finish_reason and usage."""
        ...

    async def aclose(self) -> None:
        """Release connections or other resources."""
        ...
