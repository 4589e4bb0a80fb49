"""`gensandbox ui`: the web dashboard, on this machine only unless told otherwise."""

from __future__ import annotations

from typing import Annotated

import typer

from gensandbox.cli.output import ConfigOption

HOST_HELP = "Address to listen on. The dashboard has no login: anyone who can reach it sees runs and the ledger."


def ui(
    config_path: ConfigOption = None,
    host: Annotated[str, typer.Option("--host", help=HOST_HELP)] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8765,
) -> None:
    """Open the web dashboard: runs, side-by-side comparisons, gateway traffic, the ledger and traces."""
    import uvicorn

    from gensandbox.cli.output import console, errors, load
    from gensandbox.gateway.server import LOOPBACK, check_port_free
    from gensandbox.ui import create_ui_app
    from gensandbox.ui.app import LOOPBACK_HOSTS

    config, store = load(config_path)
    check_port_free(host, port)  # a clear one-line error instead of uvicorn's exit
    shown = f"[{host}]" if ":" in host else host  # how the address appears in a URL and a Host header
    # Listening on every address, the dashboard cannot know the names it will be reached by.
    allowed = ["*"] if host in ("0.0.0.0", "::") else [*LOOPBACK_HOSTS, shown]
    app = create_ui_app(config, store, allowed_hosts=allowed)
    console.print(f"GenSandbox dashboard: http://{shown}:{port}/  (Ctrl+C stops it)", markup=False)
    if host not in LOOPBACK:
        errors.print(f"note: listening on {host}: the dashboard has no login, so anyone who can reach this "
                     "address can read your runs, traffic and ledger", markup=False)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False)
