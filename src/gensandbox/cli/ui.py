"""`gensandbox ui`: the web dashboard, on this machine only unless told otherwise."""

from __future__ import annotations

from typing import Annotated

import typer

from gensandbox.cli.output import ConfigOption

HOST_HELP = ("Address to listen on. Any address but this machine's needs keys first (`gensandbox keys create`): "
             "everyone then signs in with their key.")


def ui(
    config_path: ConfigOption = None,
    host: Annotated[str, typer.Option("--host", help=HOST_HELP)] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8765,
) -> None:
    """Open the web dashboard: runs, side-by-side comparisons, gateway traffic, the ledger and traces."""
    import uvicorn

    from gensandbox.cli.output import console, errors, load
    from gensandbox.errors import UserError
    from gensandbox.gateway.server import LOOPBACK, check_port_free
    from gensandbox.store.gateway import GatewayStore
    from gensandbox.ui import create_ui_app
    from gensandbox.ui.app import LOOPBACK_HOSTS

    config, store = load(config_path)
    served_to_others = host not in LOOPBACK
    if served_to_others and not GatewayStore(store).keys():
        raise UserError(f"the dashboard can listen on {host} only once keys exist, so that everyone signs in: create "
                        "an admin key first with `gensandbox keys create --role admin`")
    check_port_free(host, port)  # a clear one-line error instead of uvicorn's exit
    shown = f"[{host}]" if ":" in host else host  # how the address appears in a URL and a Host header
    # Listening on every address, the dashboard cannot know the names it will be reached by.
    allowed = ["*"] if host in ("0.0.0.0", "::") else [*LOOPBACK_HOSTS, shown]
    app = create_ui_app(config, store, allowed_hosts=allowed)
    console.print(f"GenSandbox dashboard: http://{shown}:{port}/  (Ctrl+C stops it)", markup=False)
    if served_to_others:
        errors.print(f"note: listening on {host}: keys travel over plain HTTP here; put a TLS proxy (e.g. Caddy or "
                     "nginx with a certificate) in front before others sign in from another machine", markup=False)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False)
