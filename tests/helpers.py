"""Small builders shared by tests: a config pointing at the loopback upstream, a tiny suite, a gateway event."""

from __future__ import annotations

import json
from pathlib import Path

from gensandbox.ledger.events import ANONYMOUS, CallFacts, call_event, refusal_event
from gensandbox.ledger.requests import RequestRecord

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
        # Anthropic's API requires max_tokens: the gateway sends the model's declared maximum when an app sends none.
        limit = "max_output_tokens = 4096\n" if provider == "anthropic" and "max_output_tokens" not in model_options \
            else ""
        blocks.append(
            f'[[models]]\nname = "{name}"\nprovider = "{provider}"\nmodel = "{upstream_model}"\n'
            f'base_url = "{base_url}"\nprice_per_million_input_tokens = 1.0\n'
            f'price_per_million_output_tokens = 2.0\norigin = "domestic"\nweights = "closed"\n{limit}{model_options}\n'
        )
    path = directory / "gensandbox.toml"
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def request_event(record: RequestRecord) -> dict:
    """The ledger event the gateway writes for an attempt that these records describe: a call when a model was
    tried, else a refusal. Its one record: `request_record` reads `record` back from it."""
    if record.model is None:
        return refusal_event(record.created_at, record.status, record.route_reason, record.error or "",
                             None if record.key_id == ANONYMOUS else record.key_id, record.requested_model or None,
                             record.stream)
    ok = record.status == 200
    return call_event(CallFacts(
        source="gateway", provider="openai", requested_model=record.requested_model, model=record.model,
        started_at=record.created_at, latency_s=record.latency_s, input_tokens=record.input_tokens,
        output_tokens=record.output_tokens, cost_usd=record.cost_usd, price_table="p",
        prompt=[{"role": "user", "content": "hi"}], response_text="hi" if ok else None,
        status="ok" if ok else "error", error=record.error, key_id=record.key_id, route=record.route,
        route_reason=record.route_reason, features=("stream",) if record.stream else (),
        http_status=None if ok else record.status), "hashes")


# Three questions the embedded Qwen answers right at temperature 0 (Paris, 서울, 8): the suite of the tests that run
# the real local models.
SMALL_ITEMS = [
    {"id": "en", "language": "en", "category": "knowledge", "target": "Paris", "scorer": "includes",
     "messages": [{"role": "user", "content": "What is the capital of France? Answer with the city name only."}]},
    {"id": "ko", "language": "ko", "category": "knowledge", "target": "서울", "scorer": "includes",
     "messages": [{"role": "user", "content": "대한민국의 수도는 어디입니까? 도시 이름만 답하세요."}]},
    {"id": "math", "language": "en", "category": "arithmetic", "target": "8", "scorer": "numeric",
     "messages": [{"role": "user", "content": "What is 3 + 5? Answer with a number only."}]},
]
