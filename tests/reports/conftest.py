"""One real run for the report tests, made once per module through the CLI against the loopback upstream.

Four models whose scores are known in advance: `echo` repeats the prompt (right on half the items),
`echo-twin` does the same at a higher price (a tie on score, so cheaper must rank first), `grader`
never answers the question (0%, but the cheapest), and `broken` fails every call (HTTP 500).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from gensandbox.cli.app import main
from gensandbox.store import SQLiteStore
from tests.helpers import write_suite

HOSTILE = "</script><script>alert(1)</script><!-- & yes"  # echoed back as an answer


def items(count: int) -> list[dict]:
    """Right for the echo models on odd items (the prompt contains the target `yes`), wrong on even ones."""
    return [{"id": f"i{n:03d}", "language": "ko" if n % 4 < 2 else "en", "category": "knowledge" if n < 20 else
             "reading", "target": "yes" if n % 2 else "no", "scorer": "includes",
             "messages": [{"role": "user", "content": HOSTILE if n == 1 else f"item {n} says yes"}]}
            for n in range(count)]


MODELS = {  # name: (upstream behaviour, $ per 1M input tokens, origin, weights, prompt style)
    "echo": ("echo", 1.0, "foreign", "open", "chat"),
    "echo-twin": ("echo-slow-50ms", 3.0, "domestic", "closed", "chat"),
    "grader": ("grader", 0.01, "domestic", "open", "completion"),
    "broken": ("error-500", 0.5, None, None, "chat"),
}


def write_config(directory: Path, upstream_url: str) -> Path:
    blocks = ["[run]\nretries = 0\n"]
    for name, (behaviour, price, origin, weights, style) in MODELS.items():
        lines = [f'name = "{name}"', 'provider = "openai"', f'model = "{behaviour}"',
                 f'base_url = "{upstream_url}/v1"', f"price_per_million_input_tokens = {price}",
                 f"price_per_million_output_tokens = {price * 2}", f'prompt_style = "{style}"',
                 'license = "test-license"', f'vendor = "vendor of {name}"']
        lines += [f'origin = "{origin}"'] if origin else []
        lines += [f'weights = "{weights}"'] if weights else []
        blocks.append("[[models]]\n" + "\n".join(lines) + "\n")
    path = directory / "gensandbox.toml"
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


@dataclass(frozen=True)
class MadeRun:
    home: Path
    config: Path
    suite: Path
    run_id: str

    def store(self) -> SQLiteStore:
        return SQLiteStore(self.home / "gensandbox.db")

    def cli(self, capsys, *args: str) -> tuple[int, str, str]:
        code = main([*args, "-c", str(self.config)])
        captured = capsys.readouterr()
        return code, captured.out, captured.err


@pytest.fixture(scope="module")
def made_run(tmp_path_factory, upstream) -> MadeRun:
    root = tmp_path_factory.mktemp("report-run")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GENSANDBOX_HOME", str(root / "home"))
        patch.chdir(root)
        config = write_config(root, upstream.url)
        suite = write_suite(root, "mixed", items(40))
        code = main(["run", "-c", str(config), "-m", ",".join(MODELS), "-s", str(suite), "--run-id", "r1",
                     "--no-cache"])
        assert code == 0
        yield MadeRun(home=root / "home", config=config, suite=suite, run_id="r1")


def embedded_json(html: str, element_id: str):
    start = html.index(f'<script type="application/json" id="{element_id}">') + len(
        f'<script type="application/json" id="{element_id}">')
    return json.loads(html[start:html.index("</script>", start)])
