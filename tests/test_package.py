"""Each public package says exactly what it exports."""

import importlib
import types

import pytest

PACKAGES = ["gensandbox", "gensandbox.config", "gensandbox.providers", "gensandbox.runner", "gensandbox.store",
            "gensandbox.reports"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_exact(name):
    package = importlib.import_module(name)
    exported = package.__all__
    assert len(set(exported)) == len(exported) == len(sorted(exported))
    assert all(hasattr(package, symbol) for symbol in exported)
    public = {symbol for symbol, value in vars(package).items()
              if not symbol.startswith("_") and not isinstance(value, types.ModuleType)}
    assert public == set(exported) - {"__version__"}


def test_every_error_is_in_one_tree():
    from gensandbox import errors

    classes = [v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, Exception)]
    assert all(issubclass(c, errors.GenSandboxError) for c in classes)
    assert all(issubclass(c, (errors.UserError, errors.RunError)) for c in classes
               if c not in (errors.GenSandboxError, errors.UserError, errors.RunError))
