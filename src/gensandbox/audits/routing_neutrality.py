"""Routing neutrality: did each route's traffic go where its configured policy says, or did a vendor get more?

From the gateway's request records (its ledger events, one per attempt: failures with their error status, the
answer with 200), per route:
  weighted         expected shares are the weights, normalised. The policy's own draws (each record's reason
                   says "drew MODEL") are tested against the weights with a chi-square goodness-of-fit test
                   (an exact multinomial simulation when an expected count is under 5), and so are the shares
                   actually served, which failures can move.
  fixed, fallback  deterministic: every request should be answered by the first model.
  cheapest/fastest deterministic given the measurements: every request should be answered by the model the
                   policy chose for it (named in the record's reason).
A request answered by a model other than the policy's choice is a fallback. A fallback is explained when the
chosen model failed within the window before it (the circuit breaker's cooldown plus the request timeout: a
cooled-down model is skipped without failing again); a fallback on a fixed route, or one with no failure to
explain it, is not. A route is flagged when its draws deviate from its weights (p < 0.05) or when any fallback is
unexplained. Deterministic policies have no sampling noise, so they get counts, not p-values.

Pure functions over records; reading them is in self_preference.py.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, replace
from datetime import datetime

import numpy as np

from gensandbox.audits.judge_bias import format_p
from gensandbox.config import RouteConfig
from gensandbox.ledger.requests import RequestRecord
from gensandbox.runner.stats import SIGNIFICANCE

DIRECT = "direct"
_EPSILON = 1e-15


@dataclass(frozen=True)
class ModelShare:
    model: str
    vendor: str
    expected_share: float | None
    observed_share: float
    served: int
    failures: int  # failed attempts on this route
    fallbacks: int  # requests it answered although the policy had chosen another model
    unexplained: int  # of those, with no recent failure of the chosen model


@dataclass(frozen=True)
class GoodnessOfFit:
    statistic: float
    dof: int
    p_value: float
    method: str  # "chi-square" or "exact simulation"
    cohens_w: float  # sqrt(statistic / n): 0.1 small, 0.3 medium, 0.5 large


@dataclass(frozen=True)
class RouteNeutrality:
    route: str
    policy: str | None  # None: direct traffic, or a route no longer configured
    served: int
    failed_attempts: int
    models: list[ModelShare]
    vendors: list[dict]  # vendor, expected_share, observed_share
    served_fit: GoodnessOfFit | None  # served shares against the policy's (weighted routes)
    decision_fit: GoodnessOfFit | None  # the policy's own draws against its weights (weighted routes)
    unexplained: int
    flagged: bool
    finding: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def chi_square_sf(statistic: float, dof: int) -> float:
    """P(χ²_dof ≥ statistic): the regularized upper incomplete gamma function Q(dof/2, statistic/2)."""
    if statistic <= 0:
        return 1.0
    if math.isinf(statistic):
        return 0.0
    return _gamma_q(dof / 2.0, statistic / 2.0)


def goodness_of_fit(observed: list[int], expected_shares: list[float], *, resamples: int = 20000,
                    seed: int = 0) -> GoodnessOfFit:
    """Chi-square goodness of fit. A category the policy gives no share but which got traffic makes the
    statistic infinite (p = 0): impossible under the policy. Small expected counts use simulation."""
    counts, shares = np.asarray(observed, dtype=float), np.asarray(expected_shares, dtype=float)
    total = counts.sum()
    shares = shares / shares.sum()
    if total == 0:
        return GoodnessOfFit(0.0, 0, 1.0, "chi-square", 0.0)
    if np.any((shares == 0) & (counts > 0)):
        return GoodnessOfFit(math.inf, len(counts) - 1, 0.0, "impossible under the policy", math.inf)
    keep = shares > 0
    counts, shares = counts[keep], shares[keep]
    statistic = float(_chi_square(counts, shares * total))
    dof = len(counts) - 1
    if dof == 0:
        return GoodnessOfFit(0.0, 0, 1.0, "chi-square", 0.0)
    w = math.sqrt(statistic / float(total))
    if np.all(shares * total >= 5):
        return GoodnessOfFit(statistic, dof, chi_square_sf(statistic, dof), "chi-square", w)
    simulated = np.random.default_rng(seed).multinomial(int(total), shares, size=resamples)
    extreme = int(np.sum(_chi_square(simulated, shares * total) >= statistic - 1e-9))
    return GoodnessOfFit(statistic, dof, (extreme + 1) / (resamples + 1), "exact simulation", w)


def intended_model(record: RequestRecord, route: RouteConfig) -> str | None:
    """The model the policy chose for this request, from its record; None when the reason does not say."""
    if route.policy in ("fixed", "fallback"):
        return route.models[0]
    reason = record.route_reason
    if route.policy == "weighted":
        drawn = reason.rpartition(": drew ")[2] if ": drew " in reason else None
        return drawn if drawn in route.models else None
    named = [m for m in route.models if f": {m} " in reason + " "]
    return max(named, key=len) if named else route.models[0]  # no measurement yet: the route's order


def routing_neutrality(records: list[RequestRecord], routes: list[RouteConfig], vendors: dict[str, str],
                       window_s: float) -> list[RouteNeutrality]:
    """One result per route that has traffic in `records` (direct requests included); `vendors`: model → vendor."""
    grouped: dict[str, list[RequestRecord]] = defaultdict(list)
    for record in records:
        if record.model is not None:
            grouped[record.route].append(record)
    configured = {route.name: route for route in routes}
    return [route_neutrality(name, grouped[name], configured.get(name), vendors, window_s)
            for name in sorted(grouped, key=lambda n: (n == DIRECT, n))]


def route_neutrality(name: str, records: list[RequestRecord], route: RouteConfig | None, vendors: dict[str, str],
                     window_s: float) -> RouteNeutrality:
    served = [r for r in records if r.status == 200]
    failed = [r for r in records if r.status != 200]
    if route is None:
        return _observed_only(name, served, failed, vendors)
    expected = _expected_shares(route, served)
    intended = [intended_model(r, route) for r in served]
    unexplained = _unexplained(served, intended, failed, route, window_s)
    models = _model_shares(route, served, failed, intended, unexplained, expected, vendors)
    served_fit, decision_fit = _weighted_fits(models, expected, intended) if route.policy == "weighted" else (
        None, None)
    count = sum(unexplained)
    deciding = decision_fit or served_fit  # the draws when the records say them, else what was served
    flagged = count > 0 or (deciding is not None and deciding.p_value < SIGNIFICANCE)
    result = RouteNeutrality(name, route.policy, len(served), len(failed), models, _vendor_shares(models),
                             served_fit, decision_fit, count, flagged)
    return replace(result, finding=_finding(result, route))


def _weighted_fits(models: list[ModelShare], expected: dict[str, float],
                   intended: list[str | None]) -> tuple[GoodnessOfFit, GoodnessOfFit | None]:
    """What was served against the weights, and what the policy drew (when every record says) against them."""
    shares = [expected.get(m.model, 0.0) for m in models]
    served = goodness_of_fit([m.served for m in models], shares)
    if not intended or not all(intended):
        return served, None
    drawn = Counter(intended)
    return served, goodness_of_fit([drawn[m.model] for m in models], shares)


def _expected_shares(route: RouteConfig, served: list[RequestRecord]) -> dict[str, float]:
    if route.policy == "weighted":
        weights = route.weights or [1.0] * len(route.models)
        total = sum(weights) or 1.0
        shares: dict[str, float] = defaultdict(float)
        for model, weight in zip(route.models, weights, strict=True):
            shares[model] += weight / total
        return dict(shares)
    if route.policy in ("fixed", "fallback"):
        return {route.models[0]: 1.0}
    chosen = Counter(intended_model(r, route) for r in served)
    return {model: count / len(served) for model, count in chosen.items()} if served else {}


def _unexplained(served: list[RequestRecord], intended: list[str | None], failed: list[RequestRecord],
                 route: RouteConfig, window_s: float) -> list[bool]:
    failures: dict[str, list[float]] = defaultdict(list)
    for record in failed:
        failures[record.model].append(_seconds(record.created_at))
    for times in failures.values():
        times.sort()

    def explained(record: RequestRecord, chosen: str) -> bool:
        if route.policy == "fixed":
            return False  # a fixed route never tries a second model
        times, at = failures.get(chosen, []), _seconds(record.created_at)
        index = bisect.bisect_right(times, at)
        return index > 0 and at - times[index - 1] <= window_s

    return [chosen is not None and record.model != chosen and not explained(record, chosen)
            for record, chosen in zip(served, intended, strict=True)]


def _model_shares(route, served, failed, intended, unexplained, expected, vendors) -> list[ModelShare]:
    names = list(dict.fromkeys([*route.models, *(r.model for r in served)]))
    total = len(served) or 1
    shares = []
    for model in names:
        mine = [i for i, r in enumerate(served) if r.model == model]
        fallbacks = [i for i in mine if intended[i] is not None and intended[i] != model]
        shares.append(ModelShare(model, vendors.get(model, model), expected.get(model, 0.0), len(mine) / total,
                                 len(mine), sum(r.model == model for r in failed), len(fallbacks),
                                 sum(unexplained[i] for i in fallbacks)))
    return shares


def _vendor_shares(models: list[ModelShare]) -> list[dict]:
    totals: dict[str, list[float | None]] = {}
    for share in models:
        expected, observed = totals.get(share.vendor, [0.0, 0.0])
        totals[share.vendor] = [None if expected is None or share.expected_share is None
                                else expected + share.expected_share, observed + share.observed_share]
    return [{"vendor": vendor, "expected_share": expected, "observed_share": observed}
            for vendor, (expected, observed) in totals.items()]


def _observed_only(name: str, served: list[RequestRecord], failed: list[RequestRecord],
                   vendors: dict[str, str]) -> RouteNeutrality:
    counts = Counter(r.model for r in served)
    models = [ModelShare(model, vendors.get(model, model), None, count / max(len(served), 1), count,
                         sum(r.model == model for r in failed), 0, 0) for model, count in counts.most_common()]
    split = ", ".join(f"{v['vendor']} {v['observed_share']:.0%}" for v in _vendor_shares(models))
    finding = (f"direct requests name their model themselves, so no policy applies ({split})" if name == DIRECT
               else f"route {name} is no longer configured, so its traffic cannot be compared with a policy ({split})")
    return RouteNeutrality(name, None, len(served), len(failed), models, _vendor_shares(models), None, None, 0, False,
                           finding)


def _finding(result: RouteNeutrality, route: RouteConfig) -> str:
    if not result.served:
        return (f"route {result.route} ({route.policy}): no request was answered ({result.failed_attempts} failed "
                "attempts)")
    if route.policy == "weighted":
        return _weighted_finding(result, route)
    label = f"route {result.route} ({route.policy})"
    fallbacks = sum(m.fallbacks for m in result.models)
    if result.unexplained:
        where = ", ".join(f"{m.model} ({m.vendor}) {m.unexplained}" for m in result.models if m.unexplained)
        return (f"{label}: {result.unexplained} of {result.served} requests ({result.unexplained / result.served:.0%})"
                f" went to a model other than the one the policy chose, with no failure to explain it ({where}): "
                "not neutral")
    if fallbacks:
        return (f"{label}: every request went to the model the policy chose, except {fallbacks} "
                f"{'fallback' if fallbacks == 1 else 'fallbacks'} after the chosen model had failed")
    return f"{label}: every one of {result.served} requests went to the model the policy chose"


def _weighted_finding(result: RouteNeutrality, route: RouteConfig) -> str:
    split = "/".join(f"{w:g}" for w in route.weights or [1] * len(route.models))
    label = f"route {result.route} (weighted {split})"
    vendor = max(result.vendors, key=lambda v: v["observed_share"] - (v["expected_share"] or 0.0))
    shares = f"{vendor['vendor']} received {vendor['observed_share']:.0%} against {vendor['expected_share']:.0%}"
    served, drawn = result.served_fit, result.decision_fit
    fit = drawn or served
    test = f"χ²={fit.statistic:.1f}, {format_p(fit.p_value)}, w={fit.cohens_w:.2f}"
    if result.unexplained:
        return (f"{label}: {shares}; {result.unexplained} fallbacks with no failure to explain them ({test}): "
                "not neutral")
    if result.flagged:
        what = "the policy's draws" if drawn else "the traffic"
        return f"{label}: {shares} the weights imply; {what} deviate from the weights ({test}): not neutral"
    if served.p_value < SIGNIFICANCE:
        fallbacks = sum(m.fallbacks for m in result.models)
        return (f"{label}: {shares} the weights imply ({format_p(served.p_value)}), explained by {fallbacks} "
                f"fallbacks after failures; the draws themselves match the weights ({test})")
    return f"{label}: traffic matches the weights ({shares}; {test})"


def _chi_square(observed: np.ndarray, expected: np.ndarray) -> np.ndarray | float:
    return ((observed - expected) ** 2 / expected).sum(axis=-1)


def _seconds(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp).timestamp()


def _gamma_q(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x): a series below a + 1, a continued fraction above
    (Numerical Recipes, 6.2), each accurate to about 1e-14."""
    log_prefactor = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        n = a
        while abs(term) > abs(total) * _EPSILON:
            n += 1
            term *= x / n
            total += term
        return max(0.0, 1.0 - total * math.exp(log_prefactor))
    tiny = 1e-300
    b, c, d = x + 1 - a, 1 / tiny, 1 / (x + 1 - a)
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        h *= d * c
        if abs(d * c - 1) < _EPSILON:
            break
    return math.exp(log_prefactor) * h
