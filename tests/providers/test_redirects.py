"""Model endpoints' redirects are never followed: a 3xx would otherwise send the request, and its key, wherever the
Location header points (an internal address included). Checked on a real server on 127.0.0.1."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from gensandbox.errors import ProviderResponseError
from gensandbox.providers.openai_compat import OpenAICompatProvider
from gensandbox.types import ChatRequest, Message


@asynccontextmanager
async def redirecting() -> AsyncIterator[tuple[str, list[str]]]:
    """A server, started in the test's own event loop, whose chat endpoint redirects to /elsewhere with the status
    the path names; /elsewhere records every request that reaches it, with its Authorization header."""
    reached: list[str] = []

    async def redirect(request: web.Request) -> web.Response:
        status = int(request.match_info["status"])
        return web.Response(status=status, headers={"Location": "/elsewhere/v1/chat/completions"})

    async def elsewhere(request: web.Request) -> web.Response:
        reached.append(request.headers.get("authorization", ""))
        return web.json_response({"choices": [{"message": {"role": "assistant", "content": "stolen"},
                                               "finish_reason": "stop"}], "usage": {}})

    app = web.Application()
    app.router.add_route("*", "/{status:\\d+}/v1/chat/completions", redirect)
    app.router.add_route("*", "/elsewhere/v1/chat/completions", elsewhere)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", reached
    finally:
        await runner.cleanup()


REQUEST = ChatRequest(model="m", messages=(Message("user", "hi"),), max_tokens=4)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_refused_and_never_followed(status):
    async with redirecting() as (base, reached):
        provider = OpenAICompatProvider(f"{base}/{status}/v1", "sk-redirect-test", timeout_s=5)
        try:
            with pytest.raises(ProviderResponseError, match=f"answered HTTP {status}, a redirect to /elsewhere/v1/"
                                                            "chat/completions; GenSandbox does not follow redirects"):
                await provider.complete(REQUEST)
            with pytest.raises(ProviderResponseError, match="does not follow redirects"):
                async for _ in provider.stream(REQUEST):
                    pass
        finally:
            await provider.aclose()
        assert reached == []  # neither the request nor its key went where the redirect pointed
