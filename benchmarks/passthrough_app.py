"""The floor under any Python gateway on this stack: an ASGI app that forwards each request body to the upstream
and returns its answer, with nothing else (no keys, budgets, routing, records or metrics).

gateway_overhead.py serves it with uvicorn (uvloop + httptools, the stack `gensandbox serve` uses) and aiohttp's
pooled client, so the difference between it and direct is what the server stack alone costs on this machine, and
the difference between GenSandbox and it is what GenSandbox's own work costs.

    UPSTREAM_URL=http://127.0.0.1:PORT/v1/chat/completions uvicorn passthrough_app:app
"""

from __future__ import annotations

import os

import aiohttp

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
_session: aiohttp.ClientSession | None = None


async def _forward(body: bytes) -> tuple[int, bytes]:
    global _session
    if _session is None:  # created inside the server's event loop, once
        _session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))
    async with _session.post(UPSTREAM_URL, data=body, headers={"content-type": "application/json"}) as response:
        return response.status, await response.read()


async def _read_body(receive) -> bytes:
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["path"] == "/healthz":
        status, answer = 200, b"{}"
    else:
        status, answer = await _forward(await _read_body(receive))
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": answer})
