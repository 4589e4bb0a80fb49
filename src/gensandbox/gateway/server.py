"""Serving the gateway: one uvicorn process, or several workers that share budgets through leases in the store
and append to one ledger chain. What `gensandbox serve` and `gensandbox.serve()` both run."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

from gensandbox.config import Config, load_config
from gensandbox.config.loading import SERVE_CONFIG_VARIABLE, SERVE_OPEN_VARIABLE
from gensandbox.errors import UserError
from gensandbox.store import open_store
from gensandbox.store.gateway import GatewayStore

__all__ = ["LOOPBACK", "check_port_free", "serve"]

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def serve(config_path: Path | None = None, host: str | None = None, port: int | None = None, workers: int = 1,
          announce: Callable[[str], None] = print, warn: Callable[[str], None] = print) -> None:
    """Serve until stopped. Refuses a non-loopback address while no API key exists (anyone could spend)."""
    import uvicorn

    from gensandbox.gateway import create_app

    config: Config = load_config(config_path)
    store = open_store(config)
    host, port = host or config.file.serve.host, port or config.file.serve.port
    loopback = host in LOOPBACK
    has_keys = bool(GatewayStore(store).keys())
    if not has_keys and not loopback:
        raise UserError(f"refusing to serve on {host} with no API keys: create one with `gensandbox keys create`, "
                        "or serve on 127.0.0.1")
    check_port_free(host, port)
    announce(f"GenSandbox gateway: http://{host}:{port}/v1  (OpenAPI at /openapi.json, metrics at /metrics)"
             + (f"; {workers} worker processes" if workers > 1 else ""))
    if not has_keys:
        warn("note: no API keys yet, so anyone on this machine may call the gateway; "
             "`gensandbox keys create` turns keys on")
    options = dict(host=host, port=port, log_level="warning", access_log=False, proxy_headers=False,
                   server_header=False, **_fast_server())
    if workers == 1:
        from gensandbox.collector import tune_gc_after_start_up

        app = create_app(config, store, allow_anonymous=loopback)
        tune_gc_after_start_up()
        uvicorn.run(app, **options)
        return
    # Each worker builds its own gateway from the same settings; budgets hold across them through leases in the
    # store, and all of them append to the one ledger chain.
    os.environ[SERVE_CONFIG_VARIABLE] = str(config_path.resolve()) if config_path else ""
    os.environ[SERVE_OPEN_VARIABLE] = "1" if loopback else "0"
    store.close()
    uvicorn.run("gensandbox.gateway.workers:app_from_environment", factory=True, workers=workers, **options)


def _fast_server() -> dict:
    """uvloop and httptools where installed: the same server, several times the requests per second."""
    options = {}
    try:
        import uvloop  # noqa: F401

        options["loop"] = "uvloop"
    except ImportError:
        pass
    try:
        import httptools  # noqa: F401

        options["http"] = "httptools"
    except ImportError:
        pass
    return options


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise UserError(f"cannot listen on {host}:{port}: {error.strerror}; choose another with --port") from None
