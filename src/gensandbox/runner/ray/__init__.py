"""Evaluations spread over a Ray cluster: a pool of model-serving workers (pool.py) and the executor that sends
a run's calls to them (executor.py)."""

__all__: list[str] = []  # import the modules themselves
