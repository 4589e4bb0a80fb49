"""The Ray executor (`gensandbox run --executor ray`): a run's model calls go to a Ray cluster.

Only the model calls leave this process. The driver keeps running `execute()` unchanged, so every
single-machine guarantee holds by construction: the budget reserves before each call (the cost cap holds
across the cluster), the per-endpoint limits bound calls in flight cluster-wide, the response cache, the
retries and the scoring stay here, and the one writer commits samples and ledger events in order, so a
resume after the driver dies is the ordinary resume. Each target's provider is swapped for a
`RayProvider`; its identity (and with it every cache key and result) is unchanged.

In-process models are the exception to "the limits stay as they are": their limit is the CPU of the
machine running them, so on the cluster they get one call at a time per worker.

Without an address a local instance is started, bound to 127.0.0.1, and shut down at the end; an instance
already started in this process (a notebook, a test) is used and left running.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from gensandbox.calls.targets import Target
from gensandbox.config import Config, ModelConfig, api_key_from_env
from gensandbox.errors import MissingDependencyError, UserError
from gensandbox.providers.local import LOCAL_ENDPOINT
from gensandbox.runner.execute import RunPlan
from gensandbox.runner.ray.pool import RayProvider, WorkerPool
from gensandbox.runner.scoring import ScoringContext

LOCAL_INSTANCE_WORKERS = 2
LOCAL_OBJECT_STORE_BYTES = 128 * 2**20  # answers are small and travel inline; no need for Ray's 30% of RAM
RAY_MISSING = "the Ray executor needs ray: pip install 'gensandbox[ray]'"


@dataclass(frozen=True)
class RayOptions:
    address: str | None = None  # an existing cluster (`ray.init(address=...)`); None: a local instance
    workers: int | None = None  # default: 2 on a local instance, one per node on a cluster

    @classmethod
    def from_cli(cls, executor: str, address: str | None, workers: int | None) -> RayOptions | None:
        """None for the in-process executor."""
        if executor != "ray":
            if address or workers:
                raise UserError("--ray-address and --ray-workers go with --executor ray")
            return None
        return cls(address, workers)

    def record(self) -> dict:
        """What the run's settings keep about where it ran (never a result-changing setting)."""
        return {"name": "ray", "address": self.address or "local", "workers": self.default_workers()}

    def default_workers(self) -> int | None:
        """None: one per node of the cluster, known once connected."""
        return self.workers or (LOCAL_INSTANCE_WORKERS if self.address is None else None)


@dataclass(frozen=True)
class RayRun:
    plan: RunPlan  # the same plan, its calls going to the pool
    scoring: ScoringContext  # the same, judges included
    pool: WorkerPool

    def describe(self, options: RayOptions) -> str:
        return f"executor: Ray, {self.pool.size} workers on {options.address or 'a local instance (127.0.0.1)'}"


@contextmanager
def on_ray(plan: RunPlan, scoring: ScoringContext, config: Config, options: RayOptions) -> Iterator[RayRun]:
    """Connect (or start Ray), start the workers, and yield the plan and judges rewired to them."""
    started_here = connect(options)
    import ray

    try:
        models = _definitions([*plan.targets, *scoring.judges.values()])
        pool = WorkerPool.start(config, models, _worker_count(options), _api_keys(models, options))
        try:
            judges = {name: _on_pool(target, pool) for name, target in scoring.judges.items()}
            yield RayRun(replace(plan, targets=[_on_pool(t, pool) for t in plan.targets]),
                         replace(scoring, judges=judges), pool)
        finally:
            pool.close()
    finally:
        if started_here:
            ray.shutdown()


def connect(options: RayOptions) -> bool:
    """Join the cluster at `options.address`, or start a local instance; True when this call did either
    (the caller then calls `ray.shutdown()`), False when Ray was already initialised in this process."""
    ray = import_ray(local_instance=options.address is None)
    if ray.is_initialized():
        return False
    quiet = dict(log_to_driver=False, logging_level=logging.ERROR)  # progress bars, not Ray's start-up notes
    if options.address:
        try:
            ray.init(address=options.address, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise UserError(f"could not join the Ray cluster at {options.address}: {error}") from None
        return True
    ray.init(address="local", num_cpus=options.default_workers(), num_gpus=0, include_dashboard=False,
             _node_ip_address="127.0.0.1", object_store_memory=LOCAL_OBJECT_STORE_BYTES, **quiet)
    return True


def import_ray(*, local_instance: bool):
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    if local_instance:
        # Ray maps 127.0.0.1 to the machine's outward address and binds its servers there (and to 0.0.0.0)
        # unless it believes it runs as a single machine; read once, when ray is first imported.
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    try:
        import ray
    except ImportError:
        raise MissingDependencyError(RAY_MISSING) from None
    return ray


def _worker_count(options: RayOptions) -> int:
    """One worker per node by default on a cluster: an in-process model already uses every core of its machine."""
    if workers := options.default_workers():
        return workers
    import ray

    return max(1, sum(1 for node in ray.nodes() if node["Alive"] and node["Resources"].get("CPU", 0) >= 1))


def _definitions(targets: list[Target]) -> dict[str, ModelConfig]:
    models: dict[str, ModelConfig] = {}
    for target in targets:
        models.setdefault(target.model.name, target.model)
    return models


def _api_keys(models: dict[str, ModelConfig], options: RayOptions) -> dict[str, str]:
    """The keys the models read from the environment. A local instance's workers inherit this process's
    environment; a cluster's do not, so the keys travel with the actors (in Ray's runtime_env)."""
    if options.address is None:
        return {}
    names = {model.api_key_env for model in models.values() if model.api_key_env}
    return {name: value for name in sorted(names) if (value := api_key_from_env(name))}


def _on_pool(target: Target, pool: WorkerPool) -> Target:
    if target.provider.endpoint == LOCAL_ENDPOINT:
        lane = f"{LOCAL_ENDPOINT}@ray"
        return replace(target, provider=RayProvider(pool, target.model.name, lane, target.provider.capabilities),
                       concurrency=target.concurrency * pool.size)
    return replace(target, provider=RayProvider(pool, target.model.name, target.provider.endpoint,
                                                target.provider.capabilities))
