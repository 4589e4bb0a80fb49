"""Small builders shared by tests: a config pointing at the loopback upstream, a tiny suite."""

from __future__ import annotations

import json
from pathlib import Path

ITEMS = [
    # The echo model repeats the question, so the score of each item is known in advance.
    {"id": "e1", "language": "en", "category": "knowledge", "target": "Paris", "scorer": "includes",
     "messages": [{"role": "user", "content": "Paris"}]},
    {"id": "e2", "language": "en", "category": "arithmetic", "target": "8", "scorer": "numeric",
     "messages": [{"role": "user", "content": "3 + 5 = 8"}]},
    {"id": "k1", "language": "ko", "category": "knowledge", "target": "서울", "scorer": "includes",
     "messages": [{"role": "user", "content": "부산"}]},
    {"id": "k2", "language": "ko", "category": "reading", "target": "B", "scorer": "choice",
     "messages": [{"role": "user", "content": "정답은 B입니다"}]},
]


def write_suite(directory: Path, name: str = "echo-suite", items: list[dict] | None = None) -> Path:
    path = directory / f"{name}.jsonl"
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items or ITEMS), encoding="utf-8")
    return path


def write_config(directory: Path, upstream_url: str, models: dict[str, str], extra: str = "",
                 model_options: str = "") -> Path:
    """models: config name -> upstream model id (which picks the upstream's behaviour);
    model_options: TOML lines added to every model (e.g. 'timeout_s = 0.3'); extra: more TOML at the top."""
    blocks = [extra] if extra else []
    for name, upstream_model in models.items():
        provider = "anthropic" if name.startswith("anthropic") else "openai"
        base_url = upstream_url if provider == "anthropic" else f"{upstream_url}/v1"
        blocks.append(
            f'[[models]]\nname = "{name}"\nprovider = "{provider}"\nmodel = "{upstream_model}"\n'
            f'base_url = "{base_url}"\nprice_per_million_input_tokens = 1.0\n'
            f'price_per_million_output_tokens = 2.0\norigin = "domestic"\nweights = "closed"\n{model_options}\n'
        )
    path = directory / "gensandbox.toml"
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path
