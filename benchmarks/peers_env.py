"""The peers' own virtual environment (benchmarks/.venv-peers): created and filled from
benchmarks/peers/requirements.txt when missing, never mixed with the project's .venv."""

from __future__ import annotations

import subprocess
import sys
import time
from importlib.util import find_spec
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
PEERS_DIR = HERE / "peers"
PEERS_VENV = HERE / ".venv-peers"
PEERS_REQUIREMENTS = PEERS_DIR / "requirements.txt"


def tail(text: str, lines: int = 25) -> str:
    return "\n".join("    " + line for line in text.strip().splitlines()[-lines:])


def peers_python() -> Path:
    return PEERS_VENV / "bin" / "python"


def create_peers_venv() -> None:
    subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    # Self-ignoring, like the venvs Python 3.13 creates: git and ruff skip it whatever the project's .gitignore says.
    (PEERS_VENV / ".gitignore").write_text("*\n")


def pip_install(arguments: list[str], what: str) -> bool:
    """pip install into the peers venv; prints how long it took, or pip's output tail when it fails."""
    started = time.monotonic()
    result = subprocess.run([str(peers_python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                             *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        print(f"pip install {what} failed:\n{tail(result.stdout + result.stderr)}")
        return False
    print(f"installed {what} into {PEERS_VENV.relative_to(PROJECT)} in {time.monotonic() - started:.1f} s")
    return True


def ensure_peers_venv(with_peers: bool) -> bool:
    """The peers when they are wanted, else only httptools (for the server); installs only what changed."""
    if not peers_python().exists():
        create_peers_venv()
    marker = PEERS_VENV / ".installed-requirements"
    requirements = PEERS_REQUIREMENTS.read_text()
    if with_peers:
        if marker.exists() and marker.read_text() == requirements:
            return True
        if not pip_install(["-r", str(PEERS_REQUIREMENTS)], "the peers"):
            return False
        marker.write_text(requirements)
        return True
    if has_module(peers_python(), "httptools"):
        return True
    return pip_install([pinned("httptools", requirements)], "httptools")


def pinned(package: str, requirements: str) -> str:
    return next(line.strip() for line in requirements.splitlines() if line.startswith(f"{package}=="))


def has_module(python: Path, module: str) -> bool:
    return subprocess.run([str(python), "-c", f"import {module}"], capture_output=True).returncode == 0


def server_python() -> Path:
    """This interpreter when it has httptools (e.g. the project venv with uvicorn[standard]), else the peers venv."""
    return Path(sys.executable) if find_spec("httptools") else peers_python()
