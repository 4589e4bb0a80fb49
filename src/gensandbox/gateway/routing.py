"""Which model answers: a model name, or `route:NAME` with a policy. Every decision carries a reason.

Policies: fixed (the first model), fallback (in order), weighted (a random split for A/B tests),
cheapest (the cheapest model whose score on a named suite, in the newest evaluation run that has it,
meets a threshold: GenSandbox's own results drive routing), fastest (lowest measured p50 latency).
Whatever the policy, the route's other models follow as fallbacks, and a model that keeps failing is
cooled down for a while (a circuit breaker) unless nothing else is left.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gensandbox.config import ROUTE_PREFIX, RouteConfig
from gensandbox.errors import NotFoundError
from gensandbox.ledger.base import LedgerBackend
from gensandbox.ledger.requests import recent_attempts, recent_latencies
from gensandbox.store.gateway import GatewayStore

MEASUREMENT_TTL_S = 30.0  # how long a cheapest/fastest decision is reused before the store is read again


@dataclass(frozen=True)
class Decision:
    route: str  # "direct" or the route's name
    reason: str
    models: list[str]  # to try, in order


@dataclass
class Breaker:
    """Consecutive failures open the circuit for `cooldown_s`; one success closes it."""

    failures_to_open: int = 3
    cooldown_s: float = 30.0
    failures: dict[str, int] = field(default_factory=dict)
    open_until: dict[str, float] = field(default_factory=dict)

    def is_open(self, model: str) -> bool:
        return self.open_until.get(model, 0.0) > time.monotonic()

    def failed(self, model: str) -> None:
        self.failures[model] = self.failures.get(model, 0) + 1
        if self.failures[model] >= self.failures_to_open:
            self.open_until[model] = time.monotonic() + self.cooldown_s

    def succeeded(self, model: str) -> None:
        self.failures.pop(model, None)
        self.open_until.pop(model, None)

    def cool(self, model: str, seconds: float) -> None:
        """Open the circuit for `seconds` from now, as a serving gateway would have after its failures."""
        self.failures[model] = max(self.failures.get(model, 0), self.failures_to_open)
        self.open_until[model] = time.monotonic() + seconds


@dataclass(frozen=True)
class Cooling:
    """A model the gateway's ledger events say is cooling down."""

    model: str
    failures: int  # the latest tries that all failed (counted up to RECORDS_READ)
    until: datetime


RECORDS_READ = 100
LATENCIES_READ = 200


def recorded_cooling(ledger: LedgerBackend, models: list[str], failures_to_open: int, cooldown_s: float,
                     now: datetime) -> dict[str, Cooling]:
    """The models whose latest `failures_to_open` tries through the gateway all failed, the last one less than
    `cooldown_s` ago: what a gateway's breaker holds open. Read from the ledger, not from a serving process, so
    a gateway restarted since (which starts with every circuit closed) may already try them again."""
    cooling = {}
    for model, attempts in recent_attempts(ledger, models, max(RECORDS_READ, failures_to_open)).items():
        failed = next((n for n, attempt in enumerate(attempts) if attempt.status == 200), len(attempts))
        if failed < failures_to_open:
            continue
        latest = attempts[0]
        until = datetime.fromisoformat(latest.created_at) + timedelta(seconds=(latest.latency_s or 0.0) + cooldown_s)
        if until > now:
            cooling[model] = Cooling(model, failed, until)
    return cooling


class Router:
    def __init__(self, models: list[str], routes: list[RouteConfig], store: GatewayStore, ledger: LedgerBackend,
                 breaker: Breaker | None = None, variant_routes: dict[str, str] | None = None):
        self.models = models
        self.variant_routes = variant_routes or {}  # `variant:NAME` → the `route:R` it is based on
        self.routes = {route.name: route for route in routes}
        self.store, self.ledger = store, ledger  # evaluations' results and latencies; the gateway's own requests
        self.breaker = breaker or Breaker()
        self._measured: dict[str, tuple[float, Decision]] = {}

    def names(self) -> list[str]:
        return self.models + [ROUTE_PREFIX + name for name in self.routes]

    def decide(self, requested: str) -> Decision:
        if requested in self.variant_routes:
            return self._variant_on_route(requested)
        if requested in self.models:
            return Decision("direct", "the model named in the request", [requested])
        name = requested.removeprefix(ROUTE_PREFIX)
        if requested.startswith(ROUTE_PREFIX) and name in self.routes:
            decision = self._policy(self.routes[name])
            return Decision(decision.route, decision.reason, self._without_cooled(decision.models))
        raise NotFoundError(f"model `{requested}` does not exist; available: {', '.join(self.names())}")

    def _variant_on_route(self, requested: str) -> Decision:
        """The route picks the models; the variant is applied to each (`variant:NAME@MODEL`)."""
        decision = self.decide(self.variant_routes[requested])
        return Decision(decision.route, decision.reason, [f"{requested}@{model}" for model in decision.models])

    def _policy(self, route: RouteConfig) -> Decision:
        if route.policy == "fixed":
            return Decision(route.name, "fixed route", route.models[:1])
        if route.policy == "fallback":
            return Decision(route.name, "fallback chain, in order", list(route.models))
        if route.policy == "weighted":
            chosen = random.choices(route.models, weights=route.weights or None)[0]
            split = "/".join(f"{w:g}" for w in route.weights or [1] * len(route.models))
            return self._first(route, chosen, f"weighted split {split}: drew {chosen}")
        return self._measured_decision(route)

    def _measured_decision(self, route: RouteConfig) -> Decision:
        cached = self._measured.get(route.name)
        if cached and time.monotonic() - cached[0] < MEASUREMENT_TTL_S:
            return cached[1]
        decision = self._cheapest(route) if route.policy == "cheapest" else self._fastest(route)
        self._measured[route.name] = (time.monotonic(), decision)
        return decision

    def _cheapest(self, route: RouteConfig) -> Decision:
        results = self.store.latest_suite_results(route.suite or "", route.models)
        good = {m: r for m, r in results.items() if r[1] >= (route.min_score or 0.0)}
        if not good:
            return Decision(route.name, f"no model has scored ≥ {route.min_score:.0%} on {route.suite} yet "
                            "(run `gensandbox run` on that suite); using the route's order", list(route.models))
        chosen = min(good, key=lambda m: (good[m][2], -good[m][1]))
        run_id, score, cost, _ = good[chosen]
        return self._first(route, chosen, f"cheapest with {route.suite} ≥ {route.min_score:.0%}: {chosen} "
                           f"scored {score:.1%} at ${cost:.6f}/item in run {run_id}")

    def _fastest(self, route: RouteConfig) -> Decision:
        medians = {m: statistics.median(lat) for m, lat in self._latencies(route.models).items() if lat}
        if not medians:
            return Decision(route.name, "no latency measured yet; using the route's order", list(route.models))
        chosen = min(medians, key=medians.get)
        return self._first(route, chosen, f"fastest by measured p50 latency: {chosen} ({medians[chosen]:.3f} s)")

    def _latencies(self, models: list[str]) -> dict[str, list[float]]:
        """Each model's latest latencies through the gateway; evaluations' too, while it has fewer than 5."""
        measured = recent_latencies(self.ledger, models, LATENCIES_READ)
        for model, latencies in measured.items():
            if len(latencies) < 5:
                latencies += self.store.sample_latencies(model, LATENCIES_READ)
        return measured

    def _first(self, route: RouteConfig, chosen: str, reason: str) -> Decision:
        return Decision(route.name, reason, [chosen] + [m for m in route.models if m != chosen])

    def _without_cooled(self, models: list[str]) -> list[str]:
        """Cooled-down models go last rather than away: if all are failing, still try."""
        return [m for m in models if not self.breaker.is_open(m)] + [m for m in models if self.breaker.is_open(m)]
