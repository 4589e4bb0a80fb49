"""`gensandbox serve`, `keys`, `traffic` and `routes`: the OpenAI-compatible gateway (gateway/server.py), who may
use it and what went through it (gateway/admin.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from gensandbox.cli.output import ConfigOption, console, errors, finite_usd, load

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
    from gensandbox.gateway.server import serve as serve_gateway

    serve_gateway(config_path, host, port, workers, announce=console.print, warn=errors.print)


@keys_app.command("create")
def create_key(
    role: Annotated[str, typer.Option("--role", help="developer, tester, regulator or admin.")] = "developer",
    budget_usd: Annotated[float | None, typer.Option("--budget-usd", min=0.0, help=BUDGET_HELP,
                                                     callback=finite_usd)] = None,
    rpm: Annotated[int | None, typer.Option("--rpm", min=1, help="Requests per minute allowed.")] = None,
    label: Annotated[str | None, typer.Option("--label", help="A note to recognise the key by.")] = None,
    project: Annotated[str, typer.Option("--project", help="The project the key belongs to.")] = "default",
    config_path: ConfigOption = None,
) -> None:
    """Create a key; it is shown once, only its hash is stored. The act is recorded on the ledger."""
    from gensandbox.gateway.admin import create_key as create

    config, store = load(config_path)
    secret, record = create(config, store, role, budget_usd, rpm, label, project)
    console.print(f"key id: {record.key_id}  role: {role}  project: {project}"
                  + (f"  budget: ${budget_usd:g}" if budget_usd is not None else "")
                  + (f"  rpm: {rpm}" if rpm else ""))
    console.print("the key (shown only now; only its hash is stored):")
    print(secret)


@keys_app.command("list")
def list_keys(config_path: ConfigOption = None) -> None:
    """List keys with their role, budget, spending and rate limit (never the key itself)."""
    from rich.table import Table

    from gensandbox.store.gateway import GatewayStore

    _, store = load(config_path)
    keys = GatewayStore(store).keys()
    if not keys:
        console.print("No keys yet. Create one with: gensandbox keys create --role developer")
        return
    table = Table("key id", "project", "role", "label", "spent / budget (USD)", "rpm", "status")
    for key in keys:
        budget = "no limit" if key.budget_usd is None else f"{key.budget_usd:g}"
        table.add_row(key.key_id, key.project_id, key.role, key.label or "–", f"{key.spent_usd:.4f} / {budget}",
                      str(key.rpm or "–"), f"revoked {key.revoked_at[:10]}" if key.revoked_at else "active")
    console.print(table)


@keys_app.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key's id, as `gensandbox keys list` shows it.")],
    config_path: ConfigOption = None,
) -> None:
    """Revoke a key: the gateway and the dashboard refuse it within a second. The act is recorded on the ledger."""
    from gensandbox.access import OPERATOR
    from gensandbox.access.keys import KeyAdmin
    from gensandbox.access.record import AdminRecorder

    config, store = load(config_path)
    KeyAdmin(store, AdminRecorder(config)).revoke(OPERATOR, key_id)
    console.print(f"revoked {key_id}")


@keys_app.command("set")
def set_key(
    key_id: Annotated[str, typer.Argument(help="The key's id, as `gensandbox keys list` shows it.")],
    role: Annotated[str | None, typer.Option("--role", help="developer, tester, regulator or admin.")] = None,
    budget_usd: Annotated[float | None, typer.Option("--budget-usd", min=0.0, help=BUDGET_HELP,
                                                     callback=finite_usd)] = None,
    rpm: Annotated[int | None, typer.Option("--rpm", min=1, help="Requests per minute allowed.")] = None,
    config_path: ConfigOption = None,
) -> None:
    """Change a key's role, budget or rate limit. The change is recorded on the ledger."""
    from gensandbox.access import OPERATOR
    from gensandbox.access.keys import KeyAdmin
    from gensandbox.access.record import AdminRecorder

    changes = {name: value for name, value in (("role", role), ("budget_usd", budget_usd), ("rpm", rpm))
               if value is not None}
    if not changes:
        raise typer.BadParameter("say what to change: --role, --budget-usd or --rpm")
    config, store = load(config_path)
    record = KeyAdmin(store, AdminRecorder(config)).change(OPERATOR, key_id, changes)
    console.print(f"{record.key_id}: role {record.role}, budget "
                  f"{'none' if record.budget_usd is None else f'${record.budget_usd:g}'}, rpm {record.rpm or '–'}")



def traffic(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    since: Annotated[str | None, typer.Option("--since", help=SINCE_HELP)] = None,
    config_path: ConfigOption = None,
) -> None:
    """What went through the gateway: requests, errors, tokens, spend and p50 latency per key and model."""
    import json

    from rich.table import Table

    from gensandbox.canonical import parse_since, stored_form
    from gensandbox.config import load_config
    from gensandbox.gateway.admin import traffic as read_traffic

    moment = parse_since(since)  # a bad date is refused here, not compared as text against every record
    rows = read_traffic(load_config(config_path), None if moment is None else stored_form(moment))
    if as_json:
        print(json.dumps({"since": None if moment is None else stored_form(moment), "traffic": rows},
                         ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print("No gateway traffic yet. Start the gateway with: gensandbox serve")
        return
    table = Table("key", "model", "requests", "errors", "tokens in/out", "cost (USD)", "p50 latency")
    for row in rows:
        p50 = "–" if row["latency_p50_s"] is None else f"{row['latency_p50_s']:.3f} s"
        table.add_row(row["key_id"], row["model"], f"{row['requests']:,}", str(row["errors"]),
                      f"{row['input_tokens']:,} / {row['output_tokens']:,}", f"{row['cost_usd']:.6f}", p50)
    console.print(table)


def routes(config_path: ConfigOption = None) -> None:
    """Each route, its policy and models, and which model it would choose now, and why."""
    from rich.table import Table

    from gensandbox.gateway.admin import route_status

    config, store = load(config_path)
    if not config.file.routes:
        console.print("No routes yet: add [[routes]] to gensandbox.toml (see gensandbox.example.toml)", markup=False)
        return
    table = Table("route", "policy", "models", "would choose now", "why", "cooling down")
    for route in route_status(config, store):
        # the gateway still tries a cooled model when every other one is cooled too
        chosen = route.chosen + (" (cooling down too: nothing else left)" if route.chosen_is_cooling else "")
        cooled = [f"{c.model} until {c.until:%H:%M:%S}Z ({c.failures} failed in a row)" for c in route.cooling]
        table.add_row(route.name, route.policy, ", ".join(route.models), chosen, route.reason,
                      "; ".join(cooled) or "none")
    console.print(table)
    # The breaker lives in each serving process; this command reads what the gateway recorded in the ledger.
    serve = config.file.serve
    console.print(f"cooling down: from the gateway's records in the ledger, a model whose last "
                  f"{serve.failures_to_cool} tries failed, the last less than {serve.cooldown_s:g} s ago; a gateway "
                  "restarted since then tries every model again")
