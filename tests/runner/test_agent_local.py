"""Agent tasks on the embedded Qwen model, through llama.cpp (slow: seconds per step on the CPU)."""

import pytest

import gensandbox
from gensandbox.config import load_config
from gensandbox.runner.session import QuietObserver
from gensandbox.store.opening import open_store
from tests.helpers import write_suite

QWEN, GEMMA = "local/qwen2.5-coder-0.5b-instruct", "local/gemma-3-270m"
WEATHER = {"name": "get_weather", "description": "Current weather in a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}},
                          "required": ["city"]}}
ITEMS = [
    {"id": "seoul", "language": "en", "category": "single", "tools": [WEATHER], "max_tokens": 120, "max_steps": 3,
     "messages": [{"role": "user", "content": "What is the weather in Seoul right now?"}],
     "environment": {"results": [{"tool": "get_weather", "arguments": {"city": "Seoul"},
                                  "result": {"sky": "clear", "celsius": 3}}]},
     "scorer": {"name": "tool-calls", "args": {"calls": [{"name": "get_weather", "arguments": {"city": "Seoul"}}]}}},
    {"id": "joke", "language": "ko", "category": "irrelevance", "tools": [WEATHER], "max_tokens": 60,
     "messages": [{"role": "user", "content": "2 더하기 3은 얼마인가요? 숫자로만 답하세요."}], "scorer": "no-tool"},
]


@pytest.mark.slow
def test_the_embedded_model_runs_an_agent_loop_and_gemma_is_left_out_with_a_warning(home, tmp_path):
    warnings = []

    class Watcher(QuietObserver):
        def warn(self, message):
            warnings.append(message)

    suite = write_suite(tmp_path, "agent-mini", ITEMS)
    result = gensandbox.evaluate([QWEN, GEMMA], [str(suite)], run_id="local-agent", observer=Watcher())
    assert result.status == "finished"
    assert any("not run on local/gemma-3-270m" in w and "call tools" in w for w in warnings)
    store = open_store(load_config(None))
    try:
        samples = {s.item_id: s for s in store.samples("local-agent")}
    finally:
        store.close()
    assert {s.model for s in samples.values()} == {QWEN}  # Gemma cannot call tools: not planned, and said so
    seoul = samples["seoul"]
    assert seoul.error is None, seoul.error
    assert seoul.score == 1, seoul.reason  # the embedded model makes this one call right
    kinds = [step["kind"] for step in seoul.episode["steps"]]
    assert kinds[:2] == ["model", "tool"] and kinds[-1] == "model"  # it read the result and answered
    assert seoul.episode["steps"][1]["status"] == "ok"
    assert samples["joke"].score is not None
