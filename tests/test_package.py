"""Each package says exactly what it exports."""

import importlib
import types
from pathlib import Path

import pytest

import gensandbox

SOURCE = Path(gensandbox.__file__).parent
PACKAGES = sorted(".".join(("gensandbox", *init.parent.relative_to(SOURCE).parts))
                  for init in SOURCE.rglob("__init__.py"))


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_exact(name):
    package = importlib.import_module(name)
    exported = package.__all__
    assert len(set(exported)) == len(exported) == len(sorted(exported))
    assert all(hasattr(package, symbol) for symbol in exported)
    public = {symbol for symbol, value in vars(package).items()
              if not symbol.startswith("_") and not isinstance(value, types.ModuleType)}
    public |= getattr(package, "_API", set())  # the library API, imported on first use
    assert public == set(exported) - {"__version__"}


def test_every_package_is_checked():
    assert len(PACKAGES) >= 17 and {"gensandbox.calls", "gensandbox.db", "gensandbox.variants"} <= set(PACKAGES)


def test_every_error_is_in_one_tree():
    from gensandbox import errors

    classes = [v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, Exception)]
    assert all(issubclass(c, errors.GenSandboxError) for c in classes)
    branches = (errors.UserError, errors.RunError, errors.GatewayError)
    assert all(issubclass(c, branches) for c in classes if c not in (errors.GenSandboxError, *branches))


def test_no_error_class_outside_the_tree():
    """An exception class defined anywhere in the package (bar private control flow) is a GenSandboxError."""
    import ast
    from pathlib import Path

    import gensandbox

    roots = {"Exception", "RuntimeError", "ValueError", "KeyError", "OSError"}
    outside = []
    for path in Path(gensandbox.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_") and path.name != "errors.py":
                if any(isinstance(base, ast.Name) and base.id in roots for base in node.bases):
                    outside.append(f"{path.name}: {node.name}")
    assert not outside
