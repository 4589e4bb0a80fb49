"""Managing the gateway from outside a serving process: API keys, what went through it, and what each route
would choose now. What `gensandbox keys`, `traffic` and `routes` print, and what a dashboard may show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from gensandbox.access import OPERATOR, Principal
from gensandbox.access.keys import KeyAdmin
from gensandbox.access.record import AdminRecorder
from gensandbox.config import ROUTE_PREFIX, Config
from gensandbox.gateway.routing import Breaker, Cooling, Router, recorded_cooling
from gensandbox.ledger.requests import traffic_summary
from gensandbox.ledger.writer import open_backend
from gensandbox.store import SQLStore
from gensandbox.store.gateway import GatewayStore, KeyRecord

__all__ = ["RouteNow", "create_key", "route_status", "traffic"]


def create_key(config: Config, store: SQLStore, role: str, budget_usd: float | None = None, rpm: int | None = None,
               label: str | None = None, project_id: str = "default",
               actor: Principal = OPERATOR) -> tuple[str, KeyRecord]:
    """A new key: (the secret, to show once; its record, of which the store keeps the hash). On the record."""
    return KeyAdmin(store, AdminRecorder(config)).create(actor, role, project_id, budget_usd=budget_usd, rpm=rpm,
                                                         label=label)


def traffic(config: Config, since: str | None = None) -> list[dict]:
    """Requests, errors, tokens, spend and median latency per key and model, read from the ledger's gateway
    events (each request's one record); `since`: the store's time form (canonical.stored_form)."""
    backend = open_backend(config.ledger_url)
    try:
        return traffic_summary(backend, since)
    finally:
        backend.close()


@dataclass(frozen=True)
class RouteNow:
    name: str  # route:NAME
    policy: str
    models: list[str]
    chosen: str
    reason: str
    chosen_is_cooling: bool  # every other model is cooling down too
    cooling: list[Cooling]  # the route's models cooling down now


def route_status(config: Config, store: SQLStore) -> list[RouteNow]:
    """What each route would choose now, from the gateway's records in the ledger: a model whose last tries
    failed recently is cooling down, as in the serving processes (each has its own breaker)."""
    ledger = open_backend(config.ledger_url)
    try:
        cooling, breaker = _recorded_breaker(config, ledger)
        router = Router(list(config.models), config.file.routes, GatewayStore(store), ledger, breaker)
        found = []
        for route in config.file.routes:
            decision = router.decide(ROUTE_PREFIX + route.name)
            chosen = decision.models[0]
            found.append(RouteNow(ROUTE_PREFIX + route.name, route.policy, list(route.models), chosen,
                                  decision.reason, chosen in cooling,
                                  [cooled for model in route.models if (cooled := cooling.get(model))]))
        return found
    finally:
        ledger.close()


def _recorded_breaker(config: Config, ledger) -> tuple[dict[str, Cooling], Breaker]:
    """The circuits the gateway's records say are open now, and a breaker holding them open for the router."""
    serve, now = config.file.serve, datetime.now(UTC)
    models = sorted({model for route in config.file.routes for model in route.models})
    cooling = recorded_cooling(ledger, models, serve.failures_to_cool, serve.cooldown_s, now)
    breaker = Breaker(serve.failures_to_cool, serve.cooldown_s)
    for model, cooled in cooling.items():
        breaker.cool(model, (cooled.until - now).total_seconds())
    return cooling, breaker
