"""What `gensandbox serve` and `gensandbox keys` do once their options are parsed."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from gensandbox.cli.output import console, errors, load
from gensandbox.errors import UserError
from gensandbox.gateway.keys import ROLES, new_key
from gensandbox.store.gateway import GatewayStore


def run_gateway(config_path: Path | None, host: str | None, port: int | None, workers: int = 1) -> None:
    from gensandbox.gateway.server import serve

    serve(config_path, host, port, workers, announce=console.print, warn=errors.print)


def create(role: str, budget_usd: float | None, rpm: int | None, label: str | None, config_path: Path | None) -> None:
    if role not in ROLES:
        raise UserError(f"unknown role `{role}`; choose one of {', '.join(ROLES)}")
    _, store = load(config_path)
    secret, record = new_key(role, budget_usd, rpm, label)
    GatewayStore(store).add_key(record)
    console.print(f"key id: {record.key_id}  role: {role}"
                  + (f"  budget: ${budget_usd:g}" if budget_usd is not None else "")
                  + (f"  rpm: {rpm}" if rpm else ""))
    console.print("the key (shown only now; only its hash is stored):")
    print(secret)


def show_keys(config_path: Path | None) -> None:
    _, store = load(config_path)
    keys = GatewayStore(store).keys()
    if not keys:
        console.print("No keys yet. Create one with: gensandbox keys create --role developer")
        return
    table = Table("key id", "role", "label", "budget (USD)", "spent (USD)", "rpm", "created", "status")
    for key in keys:
        table.add_row(key.key_id, key.role, key.label or "–",
                      "–" if key.budget_usd is None else f"{key.budget_usd:g}", f"{key.spent_usd:.6f}",
                      str(key.rpm or "–"), key.created_at, f"revoked {key.revoked_at}" if key.revoked_at else "active")
    console.print(table)


def revoke(key_id: str, config_path: Path | None) -> None:
    _, store = load(config_path)
    GatewayStore(store).revoke_key(key_id)
    console.print(f"revoked {key_id}")


def show_traffic(as_json: bool, since: str | None, config_path: Path | None) -> None:
    import json

    from gensandbox.ledger.requests import traffic_summary
    from gensandbox.ledger.writer import open_backend

    config, _ = load(config_path)
    backend = open_backend(config.ledger_url)  # each request's one record is its ledger event
    try:
        rows = traffic_summary(backend, since)
    finally:
        backend.close()
    if as_json:
        print(json.dumps({"since": since, "traffic": rows}, ensure_ascii=False, indent=2))
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


def show_routes(config_path: Path | None) -> None:
    from gensandbox.gateway.routing import Router
    from gensandbox.ledger.writer import open_backend

    config, store = load(config_path)
    if not config.file.routes:
        console.print("No routes yet: add [[routes]] to gensandbox.toml (see gensandbox.example.toml)", markup=False)
        return
    serve, ledger = config.file.serve, open_backend(config.ledger_url)
    try:
        cooling, breaker = _recorded_breaker(config, ledger)
        router = Router(list(config.models), config.file.routes, GatewayStore(store), ledger, breaker)
        _print_routes(config, router, cooling)
    finally:
        ledger.close()
    # The breaker lives in each serving process; this command reads what the gateway recorded in the ledger.
    console.print(f"cooling down: from the gateway's records in the ledger, a model whose last "
                  f"{serve.failures_to_cool} tries failed, the last less than {serve.cooldown_s:g} s ago; a gateway "
                  "restarted since then tries every model again")


def _print_routes(config, router, cooling) -> None:
    from gensandbox.gateway.routing import ROUTE_PREFIX

    table = Table("route", "policy", "models", "would choose now", "why", "cooling down")
    for route in config.file.routes:
        decision = router.decide(ROUTE_PREFIX + route.name)
        chosen = decision.models[0]
        if chosen in cooling:  # the gateway still tries a cooled model when every other one is cooled too
            chosen += " (cooling down too: nothing else left)"
        cooled = [f"{c.model} until {c.until:%H:%M:%S}Z ({c.failures} failed in a row)"
                  for m in route.models if (c := cooling.get(m))]
        table.add_row(ROUTE_PREFIX + route.name, route.policy, ", ".join(route.models), chosen, decision.reason,
                      "; ".join(cooled) or "none")
    console.print(table)


def _recorded_breaker(config, ledger):
    """The circuits the gateway's records say are open now, and a breaker holding them open for the router."""
    from datetime import UTC, datetime

    from gensandbox.gateway.routing import Breaker, recorded_cooling

    serve, now = config.file.serve, datetime.now(UTC)
    models = sorted({model for route in config.file.routes for model in route.models})
    cooling = recorded_cooling(ledger, models, serve.failures_to_cool, serve.cooldown_s, now)
    breaker = Breaker(serve.failures_to_cool, serve.cooldown_s)
    for model, cooled in cooling.items():
        breaker.cool(model, (cooled.until - now).total_seconds())
    return cooling, breaker
