"""Model weights that ship inside PyPI packages, assembled once into the model cache.

A file is trusted after one full sha256 check; later runs compare size and mtime with the note
written then, so a 500 MB file is not re-hashed on every start.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from gensandbox.config import WeightsPackage
from gensandbox.errors import ConfigError, MissingDependencyError

_BLOCK = 4 * 1024 * 1024


def ensure_weights(package: WeightsPackage, models_dir: Path) -> Path:
    """Return the path of the verified GGUF, assembling it first if needed."""
    target = models_dir / package.file
    if _verified_before(target, package.sha256):
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    if target.exists():
        check_sha256(target, package.sha256)  # a file someone placed there by hand
    elif package.slices:
        concatenate_verified(slice_paths(package), target, package.sha256)
    else:
        _run_assembler(package, target)
    _remember_verified(target, package.sha256)
    return target


def slice_paths(package: WeightsPackage) -> list[Path]:
    paths = []
    for spec in package.slices:
        module, _, relative = spec.partition(":")
        try:
            root = resources.files(module)
        except ModuleNotFoundError:
            raise MissingDependencyError(
                f"the weights for {package.file} are not installed (package {module} missing); "
                f"run: {package.install_hint}"
            ) from None
        paths.append(Path(str(root / relative)))
    return paths


def concatenate_verified(parts: Iterable[Path], target: Path, sha256: str) -> None:
    """Write parts end to end into `target`, atomically, only if the result hashes to `sha256`."""
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as source:
                while block := source.read(_BLOCK):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != sha256:
        partial.unlink()
        raise ConfigError(
            f"assembled {target.name} has sha256 {digest.hexdigest()}, expected {sha256}: "
            "the weight packages are corrupt or the wrong version; reinstall them"
        )
    os.replace(partial, target)


def check_sha256(path: Path, expected: str) -> None:
    actual = sha256_of(path)
    if actual != expected:
        raise ConfigError(
            f"{path} has sha256 {actual}, expected {expected}: delete the file and run again to rebuild it"
        )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _run_assembler(package: WeightsPackage, target: Path) -> None:
    try:
        assembler = importlib.import_module(package.assembler or "")
    except ModuleNotFoundError:
        raise MissingDependencyError(
            f"the weights for {package.file} are not installed (package {package.assembler} missing); "
            f"run: {package.install_hint}"
        ) from None
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    assembler.assemble(partial)
    check_sha256(partial, package.sha256)
    os.replace(partial, target)


def _note_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _verified_before(target: Path, sha256: str) -> bool:
    try:
        note = json.loads(_note_path(target).read_text())
        stat = target.stat()
    except (OSError, ValueError):
        return False
    return note == {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _remember_verified(target: Path, sha256: str) -> None:
    stat = target.stat()
    note = {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    _note_path(target).write_text(json.dumps(note))


def known_sha256(path: Path, notes_dir: Path) -> str:
    """sha256 of any file, hashed once and remembered by path, size and mtime (for a user's own GGUF)."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    notes_file = notes_dir / "file-hashes.json"
    try:
        notes = json.loads(notes_file.read_text())
    except (OSError, ValueError):
        notes = {}
    if key not in notes:
        notes[key] = sha256_of(path)
        notes_dir.mkdir(parents=True, exist_ok=True)
        notes_file.write_text(json.dumps(notes, indent=0))
    return notes[key]
