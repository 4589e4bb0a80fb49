"""The LiteLLM proxy as a peer for benchmarks/gateway_overhead.py: its own virtual environment
(benchmarks/.venv-litellm, filled from benchmarks/peers/litellm-requirements.txt when missing or changed) and the
command line and environment that start it in its fastest configuration measured on this machine."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from peers_env import HERE, PEERS_DIR, PROJECT, tail

LITELLM_VENV = HERE / ".venv-litellm"
LITELLM_REQUIREMENTS = PEERS_DIR / "litellm-requirements.txt"
LITELLM_CONFIG = PEERS_DIR / "litellm_config.yaml"
# LiteLLM refuses to start without a master key, and wants it to start with "sk-". Loopback only, so not a secret.
LITELLM_MASTER_KEY = "sk-gensandbox-bench"
INSTALL_TIMEOUT_S = 1200


def litellm_executable() -> Path:
    return LITELLM_VENV / "bin" / "litellm"


def create_litellm_venv() -> None:
    subprocess.run([sys.executable, "-m", "venv", str(LITELLM_VENV)], check=True)
    # Self-ignoring, like benchmarks/.venv-peers: git and ruff skip it whatever the project's .gitignore says.
    (LITELLM_VENV / ".gitignore").write_text("*\n")


def ensure_litellm_venv() -> str:
    """Installs LiteLLM when the requirements changed since the last install; '' when ready, else why not."""
    if not (LITELLM_VENV / "bin" / "python").exists():
        create_litellm_venv()
    marker = LITELLM_VENV / ".installed-requirements"
    requirements = LITELLM_REQUIREMENTS.read_text()
    if marker.exists() and marker.read_text() == requirements:
        return ""
    started = time.monotonic()
    try:
        result = subprocess.run([str(LITELLM_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
                                 "--disable-pip-version-check", "-r", str(LITELLM_REQUIREMENTS)],
                                capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"pip install of LiteLLM took over {INSTALL_TIMEOUT_S} s"
    if result.returncode != 0:
        return f"pip install of LiteLLM failed:\n{tail(result.stdout + result.stderr)}"
    marker.write_text(requirements)
    print(f"installed LiteLLM into {LITELLM_VENV.relative_to(PROJECT)} in {time.monotonic() - started:.1f} s",
          flush=True)
    return ""


def litellm_command(port: int, workers: int = 2) -> list[str]:
    """Granian with one worker per core: the fastest of uvicorn, gunicorn and granian that FACTS.md records."""
    return [str(litellm_executable()), "--config", str(LITELLM_CONFIG), "--host", "127.0.0.1", "--port", str(port),
            "--run_granian", "--num_workers", str(workers)]


def litellm_env(upstream_base_url: str) -> dict[str, str]:
    """Read by litellm_config.yaml (os.environ/...) and by LiteLLM itself."""
    return {
        "BENCH_UPSTREAM_BASE_URL": upstream_base_url,
        "BENCH_UPSTREAM_API_KEY": "unused",
        "LITELLM_MASTER_KEY": LITELLM_MASTER_KEY,
        # Otherwise it downloads its model price map at start-up, which cannot work here and slows the start.
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_LOG": "ERROR",
    }
