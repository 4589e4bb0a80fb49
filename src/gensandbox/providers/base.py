"""The one boundary every model sits behind."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from gensandbox.types import ChatRequest, ChatResponse


@runtime_checkable
class Provider(Protocol):
    """A model that answers chat requests.

    `endpoint` names what limits concurrency: a base URL for remote APIs, the machine's CPU for
    in-process models (so two local models never fight over the same cores).
    """

    endpoint: str

    async def complete(self, request: ChatRequest) -> ChatResponse:
        """Answer one request; raise a RunError subclass on failure."""
        ...

    async def aclose(self) -> None:
        """Release connections or other resources."""
        ...
