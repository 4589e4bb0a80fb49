"""Prometheus metrics for the gateway, in a registry of its own (so several apps can share a process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from gensandbox.types import Usage

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._children: dict[tuple, object] = {}
        self.requests = Counter("gensandbox_requests", "Chat completion calls by model and HTTP status",
                                ["model", "status"], registry=self.registry)
        self.tokens = Counter("gensandbox_tokens", "Tokens by model and direction", ["model", "direction"],
                              registry=self.registry)
        self.cost = Counter("gensandbox_cost_usd", "Money spent, by model", ["model"], registry=self.registry)
        self.latency = Histogram("gensandbox_latency_seconds", "Model call latency", ["model"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.rejected = Counter("gensandbox_rejected", "Requests refused before any model was called",
                                ["status"], registry=self.registry)

    def observe(self, model: str, status: int, usage: Usage, cost: float, latency: float) -> None:
        self._series(self.requests, model, str(status)).inc()
        if status == 200:
            self._series(self.tokens, model, "input").inc(usage.input_tokens)
            self._series(self.tokens, model, "output").inc(usage.output_tokens)
            self._series(self.cost, model).inc(cost)
            self._series(self.latency, model).observe(latency)

    def _series(self, metric, *labels: str):
        """The labelled child, looked up once per label set: `labels()` takes a lock on every call."""
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def render(self) -> bytes:
        return generate_latest(self.registry)
