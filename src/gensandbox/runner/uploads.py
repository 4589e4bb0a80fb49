"""Suites uploaded through the workbench: stored each in a folder of its own, and opened only after the checks an
untrusted suite must pass (runner/trust.py: no Python environment, no model file, nothing outside the upload).

Errors name the file as the person uploaded it, never where the server keeps it.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from gensandbox.config import Config
from gensandbox.errors import UserError
from gensandbox.runner.suite import Suite, resolve_suite
from gensandbox.runner.trust import check_suite_spec

SUITE_SUFFIXES = (".jsonl", ".csv", ".yaml", ".yml")
_SAFE_NAME = re.compile(r"[^\w.-]+")


def save_upload(filename: str, data: bytes, uploads_dir: Path, *, max_bytes: int = 5_000_000) -> Path:
    """Store one uploaded suite file in a fresh folder under `uploads_dir`; its path there."""
    name = safe_name(filename)
    if not data:
        raise UserError(f"{name} is empty: upload a suite file with at least one item")
    if len(data) > max_bytes:
        raise UserError(f"{name} is {len(data):,} bytes; an uploaded suite may be at most {max_bytes:,} bytes: split "
                        "it, or ask an admin to add it to gensandbox.toml")
    folder = uploads_dir / secrets.token_hex(8)
    folder.mkdir(parents=True, exist_ok=False)
    path = folder / name
    path.write_bytes(data)
    return path


def safe_name(filename: str) -> str:
    """A plain file name with a suite's suffix: no folders, no "..", no leading dot, nothing but letters, digits,
    dots, dashes and underscores."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    if "\x00" in base or not base.lower().endswith(SUITE_SUFFIXES):
        raise UserError(f"`{filename}` is not a suite file: upload a .jsonl, .csv or .yaml file")
    name = _SAFE_NAME.sub("_", base).lstrip(".") or "suite.jsonl"
    return name if ".." not in name else name.replace("..", "_")


def open_uploaded_suite(path: Path, config: Config) -> Suite:
    """The uploaded suite, opened with the CLI's own checks after the untrusted suite's. A problem is told with
    the file's name rather than the server's path."""
    try:
        spec = check_suite_spec(str(path), config, trusted=False, uploads_root=path.parent)
        return resolve_suite(spec, config)
    except UserError as error:
        raise UserError(str(error).replace(str(path.parent) + "/", "").replace(str(path), path.name)) from None
