"""Prometheus metrics for the gateway, in a registry of its own (so several apps can share a process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from gensandbox.types import Usage

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
FLUSH_EVERY = 256  # observations noted before they are added to the series (the gateway's hot path only appends)


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
        self._pending: list[tuple[str, int, int, int, float, float]] = []
        self._seen: set[tuple[str, int]] = set()

    def observe(self, model: str, status: int, usage: Usage, cost: float, latency: float) -> None:
        """Noted now, added to the series in bulk: before every scrape, and every FLUSH_EVERY calls."""
        if (model, status) not in self._seen:
            self._start_series(model, status)
        self._pending.append((model, status, usage.input_tokens, usage.output_tokens, cost, latency))
        if len(self._pending) >= FLUSH_EVERY:
            self.flush()

    def _start_series(self, model: str, status: int) -> None:
        """A series starts (its _created time) when first observed, as it did when each observation was added at
        once, and in the same order."""
        self._seen.add((model, status))
        self._series(self.requests, model, str(status))
        if status == 200:
            self._series(self.tokens, model, "input")
            self._series(self.tokens, model, "output")
            self._series(self.cost, model)
            self._series(self.latency, model)

    def flush(self) -> None:
        """What observe() noted, in the order it came: the same totals as adding each at once (costs and latencies
        one by one, so the float sums come out bit for bit the same), with one Prometheus call per series for
        the counts and tokens."""
        pending, self._pending = self._pending, []
        counts: dict[tuple[str, int], int] = {}
        answered: dict[str, list] = {}  # model: [input tokens, output tokens, its cost series, its latency series]
        for model, status, input_tokens, output_tokens, cost, latency in pending:
            counts[model, status] = counts.get((model, status), 0) + 1
            if status == 200:
                totals = answered.get(model)
                if totals is None:
                    totals = answered[model] = [0, 0, self._series(self.cost, model), self._series(self.latency, model)]
                totals[0] += input_tokens
                totals[1] += output_tokens
                totals[2].inc(cost)
                totals[3].observe(latency)
        for (model, status), count in counts.items():
            self._series(self.requests, model, str(status)).inc(count)
        for model, (input_tokens, output_tokens, _, _) in answered.items():
            self._series(self.tokens, model, "input").inc(input_tokens)
            self._series(self.tokens, model, "output").inc(output_tokens)

    def _series(self, metric, *labels: str):
        """The labelled child, looked up once per label set: `labels()` takes a lock on every call."""
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def render(self) -> bytes:
        self.flush()
        return generate_latest(self.registry)
