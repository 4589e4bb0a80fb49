"""`gensandbox serve` and `gensandbox keys`: the OpenAI-compatible gateway and who may use it."""

from __future__ import annotations

from typing import Annotated

import typer

from gensandbox.cli.output import ConfigOption, finite_usd

SINCE_HELP = "Only requests from this time on (ISO 8601, UTC, e.g. 2026-11-29T00:00)."
BUDGET_HELP = "The most this key may spend, in USD."
keys_app = typer.Typer(help="API keys for the gateway: create, list, revoke.", no_args_is_help=True)


def serve(
    config_path: ConfigOption = None,
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port to listen on (default 8000).")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes (budgets and the ledger are "
                                         "shared through the store).")] = 1,
) -> None:
    """Serve an OpenAI-compatible API (/v1/chat/completions, /v1/models) in front of every configured model."""
    from gensandbox.cli.serving import run_gateway

    run_gateway(config_path, host, port, workers)


@keys_app.command("create")
def create_key(
    role: Annotated[str, typer.Option("--role", help="developer, tester, regulator or admin.")] = "developer",
    budget_usd: Annotated[float | None, typer.Option("--budget-usd", min=0.0, help=BUDGET_HELP,
                                                     callback=finite_usd)] = None,
    rpm: Annotated[int | None, typer.Option("--rpm", min=1, help="Requests per minute allowed.")] = None,
    label: Annotated[str | None, typer.Option("--label", help="A note to recognise the key by.")] = None,
    config_path: ConfigOption = None,
) -> None:
    """Create a key; it is shown once, only its hash is stored."""
    from gensandbox.cli.serving import create

    create(role, budget_usd, rpm, label, config_path)


@keys_app.command("list")
def list_keys(config_path: ConfigOption = None) -> None:
    """List keys with their role, budget, spending and rate limit (never the key itself)."""
    from gensandbox.cli.serving import show_keys

    show_keys(config_path)


@keys_app.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key's id, as `gensandbox keys list` shows it.")],
    config_path: ConfigOption = None,
) -> None:
    """Revoke a key: the gateway refuses it within a second."""
    from gensandbox.cli.serving import revoke

    revoke(key_id, config_path)



def traffic(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    since: Annotated[str | None, typer.Option("--since", help=SINCE_HELP)] = None,
    config_path: ConfigOption = None,
) -> None:
    """What went through the gateway: requests, errors, tokens, spend and p50 latency per key and model."""
    from gensandbox.canonical import parse_since, stored_form
    from gensandbox.cli.serving import show_traffic

    moment = parse_since(since)  # a bad date is refused here, not compared as text against every record
    show_traffic(as_json, None if moment is None else stored_form(moment), config_path)


def routes(config_path: ConfigOption = None) -> None:
    """Each route, its policy and models, and which model it would choose now, and why."""
    from gensandbox.cli.serving import show_routes

    show_routes(config_path)
