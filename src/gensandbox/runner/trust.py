"""What a suite from a caller who is not an admin may hold, checked before the suite is opened.

Opening a suite runs code and reads files: an agent item's Python environment (`environment.class`) is imported
when the suite is opened, and a suite named by path is read from wherever the path points. A suite also names
models (a judge in a scorer's args, a simulated user's model). So for an untrusted caller: the suite is a
configured or built-in one, or a file inside the caller's uploads folder whose rows carry no Python environment
and name no `local:PATH` model. Items' messages are text only (no image URLs), and no suite format names a remote
file: GenSandbox never downloads a suite.
"""

from __future__ import annotations

from pathlib import Path

from gensandbox.config import Config, data_path
from gensandbox.config.untrusted import check_model_name
from gensandbox.errors import UserError
from gensandbox.runner import benchmarks, formats


def check_suite_spec(spec: str, config: Config, *, trusted: bool, uploads_root: Path | None = None) -> str:
    """Refuse (UserError) a suite an untrusted caller may not run, before it is opened; the spec to open
    (resolve_suite): as given, or for an uploaded file its absolute path inside `uploads_root` (a relative path
    is relative to it). `spec` as --suites takes it; `uploads_root`: the caller's uploads folder (None: none)."""
    if trusted or _admin_chosen(spec, config):
        return spec
    layout, _, rest = spec.partition(":")
    benchmark = bool(rest) and layout in benchmarks.LAYOUTS
    path = _inside_uploads(Path(rest if benchmark else spec), uploads_root, spec)
    file_format = formats.format_of(path)
    if file_format is not None and path.is_file():
        check_suite_rows(path, file_format, config)
    return f"{layout}:{path}" if benchmark else str(path)


def check_suite_rows(path: Path, file_format: str, config: Config) -> None:
    """Every row (and a YAML suite's defaults): no Python environment, no `local:PATH` model."""
    defaults = formats.read_yaml_header(path).get("defaults") if file_format == "yaml" else None
    rows = [(f"{path.name} defaults", defaults)] if isinstance(defaults, dict) else []
    for where, row in [*rows, *formats.read_rows(path, file_format)]:
        if _python_environment(row.get("environment")):
            raise UserError(f"{where}: a Python environment (environment.class) runs code on the server, which "
                            "only an admin may add; use a declarative environment (results, default)")
        for name, what in _model_names(row):
            check_model_name(name, config, trusted=False, where=f"{where}: {what}")
        if (reference := _outside_reference(row)) is not None:
            raise UserError(f"{where}: the JSON Schema reference `{reference}` points outside the row (a file or a "
                            "URL the server would fetch); only references within the schema (`#/…`) are allowed")


def _outside_reference(value: object) -> str | None:
    """The first `$ref` anywhere in a row (tool parameters, a json-schema scorer's schema) that is not a pointer
    into its own schema: JSON Schema validators resolve other references by fetching them."""
    if isinstance(value, dict):
        reference = value.get("$ref")
        if isinstance(reference, str) and not reference.startswith("#"):
            return reference
        return next((found for item in value.values() if (found := _outside_reference(item)) is not None), None)
    if isinstance(value, list):
        return next((found for item in value if (found := _outside_reference(item)) is not None), None)
    return None


def _admin_chosen(spec: str, config: Config) -> bool:
    """A [[suites]] entry of gensandbox.toml or a built-in suite: chosen by whoever runs the server."""
    return any(entry.name == spec for entry in config.file.suites) or (
        "/" not in spec and (data_path("suites") / f"{spec}.jsonl").is_file())


def _inside_uploads(path: Path, uploads_root: Path | None, spec: str) -> Path:
    if uploads_root is None:
        raise UserError(f"suite `{spec}`: only an admin may run a suite from a path on the server; pick a "
                        "configured or built-in suite, or upload the suite file")
    root = uploads_root.resolve()
    resolved = (root / path.expanduser()).resolve()
    if not resolved.is_relative_to(root):
        raise UserError(f"suite `{spec}` is outside your uploaded suites; name an uploaded file")
    return resolved


def _python_environment(environment: object) -> bool:
    return isinstance(environment, str) or (isinstance(environment, dict) and "class" in environment)


def _model_names(row: dict) -> list[tuple[str, str]]:
    found = []
    scorer, user = row.get("scorer"), row.get("user")
    if isinstance(scorer, dict) and isinstance(scorer.get("args"), dict) and isinstance(scorer["args"].get("judge"),
                                                                                         str):
        found.append((scorer["args"]["judge"], "scorer.args.judge"))
    if isinstance(user, dict) and isinstance(user.get("model"), str):
        found.append((user["model"], "user.model"))
    return found
