"""Throughput of GenSandbox's local provider against a plain llama-cpp-python loop.

Same GGUF, same prompts, same settings (temperature 0, same max_tokens). Each side runs in its own
fresh process (llama.cpp's OpenMP thread teams would otherwise compete inside one process), in
alternating rounds so both see the same machine state; model loading is not timed. Prints output
tokens/s for each side and the ratio (target >= 0.95).

    .venv/bin/python benchmarks/local_throughput.py [--model NAME] [--rounds 3] [--prompts 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time

MAX_TOKENS = 64


def chats(count: int) -> list[list[dict]]:
    from gensandbox.config import load_config
    from gensandbox.runner import resolve_suite

    config = load_config()
    items = [i for name in ("basics-en", "basics-ko") for i in resolve_suite(name, config).iter_items()]
    step = max(1, len(items) // count)
    return [[{"role": m.role, "content": m.content} for m in item.messages] for item in items[::step][:count]]


def local_provider(model: str):
    from gensandbox.calls.models import build_provider, resolve_model
    from gensandbox.config import load_config

    config = load_config()
    return build_provider(resolve_model(model, config), config)


def run_plain(model: str, conversations: list[list[dict]]) -> tuple[int, float]:
    from llama_cpp import Llama

    llama = Llama(model_path=str(local_provider(model).path), n_ctx=4096, n_threads=os.cpu_count() or 1,
                  verbose=False)
    llama.create_chat_completion(conversations[0], max_tokens=4, temperature=0.0)  # warm up, untimed
    started, tokens = time.perf_counter(), 0
    for messages in conversations:
        out = llama.create_chat_completion(messages, max_tokens=MAX_TOKENS, temperature=0.0, seed=0)
        tokens += out["usage"]["completion_tokens"]
    return tokens, time.perf_counter() - started


def run_gensandbox(model: str, conversations: list[list[dict]]) -> tuple[int, float]:
    from gensandbox.types import ChatRequest, Message

    provider = local_provider(model)
    requests = [ChatRequest(model="local", messages=tuple(Message(m["role"], m["content"]) for m in c),
                            max_tokens=MAX_TOKENS) for c in conversations]

    async def loop() -> tuple[int, float]:
        await provider.complete(ChatRequest(model="local", messages=requests[0].messages, max_tokens=4))
        started, tokens = time.perf_counter(), 0
        for request in requests:
            tokens += (await provider.complete(request)).usage.output_tokens
        return tokens, time.perf_counter() - started

    return asyncio.run(loop())


def child(side: str, model: str, prompts: int) -> None:
    runner = run_plain if side == "plain" else run_gensandbox
    tokens, seconds = runner(model, chats(prompts))
    print(json.dumps({"tokens": tokens, "seconds": seconds}))


def measure(side: str, args) -> float:
    command = [sys.executable, __file__, "--child", side, "--model", args.model, "--prompts", str(args.prompts)]
    result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    return result["tokens"] / result["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="local/qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--child", choices=["plain", "gensandbox"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.model, args.prompts)
    rates: dict[str, list[float]] = {"plain": [], "gensandbox": []}
    for round_number in range(1, args.rounds + 1):
        for side in ("plain", "gensandbox"):
            rates[side].append(measure(side, args))
        print(f"round {round_number}: plain {rates['plain'][-1]:.1f} tok/s, "
              f"gensandbox {rates['gensandbox'][-1]:.1f} tok/s")
    plain, ours = statistics.median(rates["plain"]), statistics.median(rates["gensandbox"])
    print(f"model {args.model}, {args.prompts} prompts x {args.rounds} rounds, max_tokens {MAX_TOKENS}, "
          f"{os.cpu_count()} threads")
    print(f"plain llama-cpp-python loop: {plain:.1f} output tok/s (median)")
    print(f"gensandbox local provider:  {ours:.1f} output tok/s (median)")
    print(f"ratio gensandbox/plain: {ours / plain:.3f} (target >= 0.95)")


if __name__ == "__main__":
    main()
