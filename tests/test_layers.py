"""Imports point one way. Each package may import only the packages below it (DESIGN.md's layers), nothing
imports the CLI, and the gateway, reports and dashboard reach models through calls/, never the runner's
internals. Imports inside functions and under TYPE_CHECKING count too: they are dependencies all the same."""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "src" / "gensandbox"
BASE = {"errors", "redaction", "types", "canonical", "collector"}  # pure definitions and settings every layer may use
STORAGE = BASE | {"db", "config", "store", "ledger"}
MODELS = BASE | {"config", "providers", "variants"}
# What each package may import, besides itself.
ALLOWED: dict[str, set[str]] = {
    "redaction": set(),
    "collector": set(),
    "errors": {"redaction"},
    "types": {"errors"},
    "canonical": {"errors"},
    "db": BASE,
    "config": BASE | {"db"},
    "store": BASE | {"db", "config"},
    "ledger": BASE | {"db", "config"},
    "access": STORAGE,
    "providers": BASE | {"config"},
    "variants": MODELS,
    "calls": STORAGE | MODELS,
    "runner": STORAGE | MODELS | {"calls"},
    "gateway": STORAGE | MODELS | {"calls", "access"},
    "audits": STORAGE | MODELS | {"calls", "runner", "access"},
    "reports": STORAGE | MODELS | {"calls", "runner"},
    "ui": STORAGE | MODELS | {"calls", "runner", "reports", "audits", "access"},
    "api": STORAGE | MODELS | {"calls", "runner", "reports", "audits", "gateway", "ui", "access"},
    "cli": STORAGE | MODELS | {"calls", "runner", "reports", "audits", "gateway", "ui", "api", "data", "access"},
    "__main__": {"cli"},
}


# The runner's engine room: how items are executed and scored. Only the runner itself and the CLI (which parses
# the executor's options) reach into it; everyone else goes through its session, plan, results and statistics.
RUNNER_INTERNALS = ("gensandbox.runner.execute", "gensandbox.runner.scoring", "gensandbox.runner.scorers",
                    "gensandbox.runner.extraction", "gensandbox.runner.ray", "gensandbox.runner.templates",
                    "gensandbox.runner.mutators")


def package_of(module: str) -> str:
    """`gensandbox.runner.execute` → "runner"; the package's own `__init__` is the library API ("api")."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "api"


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names if node.module == "gensandbox")
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "gensandbox" or name.startswith("gensandbox.")}


def module_of(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_package_has_a_layer():
    # data/ holds files, not code: a suite's Python environments there are loaded from the suite's folder by path
    packages = {package_of(module_of(path)) for path in SOURCE.rglob("*.py")
                if path.relative_to(SOURCE).parts[0] != "data"}
    assert packages <= set(ALLOWED), f"add these to ALLOWED in {Path(__file__).name}: {packages - set(ALLOWED)}"


def test_imports_point_down():
    wrong = []
    for path in sorted(SOURCE.rglob("*.py")):
        module = module_of(path)
        package = package_of(module)
        for imported in sorted(imports_of(path)):
            target = package_of(imported)
            if imported != "gensandbox" and target != package and target not in ALLOWED[package]:
                wrong.append(f"{module} imports {imported}")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_only_the_runner_reaches_into_its_engine():
    wrong = []
    for path in sorted(SOURCE.rglob("*.py")):
        module = module_of(path)
        if package_of(module) in ("runner", "cli"):
            continue
        wrong += [f"{module} imports {name}" for name in sorted(imports_of(path)) if name.startswith(RUNNER_INTERNALS)]
    assert not wrong, "imports of the runner's internals:\n" + "\n".join(wrong)


def test_the_checker_sees_a_wrong_import(tmp_path):
    """The test above can fail: an upward import, written as any form of import, is found."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from gensandbox.cli.app import app\n    import gensandbox.runner.execute\n")
    assert imports_of(probe) == {"gensandbox.cli.app", "gensandbox.runner.execute"}
    assert "cli" not in ALLOWED["gateway"] and "runner" not in ALLOWED["gateway"]
    assert all("cli" not in allowed for package, allowed in ALLOWED.items() if package != "__main__")
