"""Sweeps: the same suites run under several settings of one dimension, each setting a model of its own.

`--sweep reasoning=direct,step,vote-3` turns every model M into `M@reasoning=direct`, `M@reasoning=step` and
`M@reasoning=vote-3` (see providers/regimes.py for what each setting does). The setting is part of the model's
name, so results, the cache key (through the model identity) and the manifest keep settings apart, and a
resumed or repeated run rebuilds them from the stored definitions.
"""

from __future__ import annotations

from gensandbox.errors import UserError
from gensandbox.providers.regimes import SWEEP_MARK, parse_setting, split_sweep_name

DIMENSIONS = ("reasoning",)


def parse_sweep(text: str) -> list[str]:
    """`reasoning=direct,step,vote-3` -> its settings, each checked; a UserError says what is wrong."""
    dimension, equals, values = text.partition("=")
    if not equals or dimension.strip() not in DIMENSIONS:
        raise UserError(f"--sweep takes DIMENSION=SETTING,SETTING,… with DIMENSION one of {', '.join(DIMENSIONS)} "
                        f"(e.g. reasoning=direct,step,vote-3), not `{text}`")
    settings = [value.strip() for value in values.split(",") if value.strip()]
    if not settings:
        raise UserError("--sweep reasoning= needs at least one setting, e.g. reasoning=direct,step,vote-3")
    for setting in settings:
        parse_setting(setting)
    return list(dict.fromkeys(settings))


def sweep_name(model: str, setting: str) -> str:
    return f"{model}{SWEEP_MARK}{setting}"


def expand_models(models: list[str], settings: list[str]) -> list[str]:
    """Every model under every setting, model by model; a model already under a setting is refused."""
    for model in models:
        if split_sweep_name(model)[1] is not None:
            raise UserError(f"`{model}` already names a reasoning setting; drop it or drop --sweep")
    return [sweep_name(model, setting) for model in models for setting in settings]


def sweep_settings(names: list[str]) -> dict[str, list[str]]:
    """Base model -> its settings in order of appearance, for the names that carry one."""
    found: dict[str, list[str]] = {}
    for name in names:
        base, setting = split_sweep_name(name)
        if setting is not None:
            found.setdefault(base, []).append(setting)
    return found
