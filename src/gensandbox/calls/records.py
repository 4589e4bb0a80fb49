"""The facts of a model call as the ledger records them, built by one function (`call_facts`) for every source:
a run's item calls, the gateway's, and calls made outside a run's own items (a judge's, a pairwise judge's, an
audit's), which are first kept as plain JSON (`call_record`).

A judge call's record is stored with the sample it graded (`SampleRecord.judge_call`), so its spending survives a
crash and `run --resume` can rebuild its ledger event from the store; pairwise judging and audits turn theirs into
events at once. Either way the event comes from `call_facts_of`, so a rebuilt event is the one the call wrote.
"""

from __future__ import annotations

from gensandbox.calls.targets import ModelFacts, Target
from gensandbox.canonical import sha256_hex
from gensandbox.errors import RunError
from gensandbox.ledger.events import CallFacts, ToolFacts, otel_provider_name
from gensandbox.store import SampleRecord
from gensandbox.types import ChatRequest, ChatResponse, Message, ToolCall

# gensandbox.source of these events ("run" and "gateway" are the others)
JUDGE, AUDIT, USER_SIMULATOR = "judge", "audit", "user-simulator"
JUDGE_MARK = "/judge"  # a run's judge event names the judged sample's "SUITE/ITEM#EPOCH" followed by this
STOP = "###STOP###"  # a simulated user's last line: it ends the conversation and is no message of it


def call_facts(source: str, model: ModelFacts, *, requested_model: str, served_model: str, started_at: str,
               prompt: list[dict], max_tokens: int | None, temperature: float | None, latency_s: float | None,
               input_tokens: int, output_tokens: int, reasoning_tokens: int, cost_usd: float,
               response_text: str | None, finish_reason: str | None, ok: bool, error: str | None,
               **context) -> CallFacts:
    """The one builder of a call's ledger facts, for every source (a run's item, a judge, an audit, the gateway):
    the model's provider as OpenTelemetry names it, its price table and variant, the request, the outcome, and
    `context` (run_id, item_id, key_id, route, trace ids, …: CallFacts' own fields)."""
    return CallFacts(
        source=source, provider=otel_provider_name(model.provider), requested_model=requested_model,
        model=served_model, started_at=started_at, latency_s=latency_s, input_tokens=input_tokens,
        output_tokens=output_tokens, reasoning_tokens=reasoning_tokens, cost_usd=cost_usd,
        price_table=model.price_source, prompt=prompt, response_text=response_text, finish_reason=finish_reason,
        status="ok" if ok else "error", error=None if ok else error, max_tokens=max_tokens, temperature=temperature,
        variant=model.variant, variant_version=model.variant_version, **context)


def sample_facts(sample: SampleRecord, model: ModelFacts, started_at: str) -> CallFacts:
    """The facts of the call that made `sample`, read from the sample as it is stored (its request included), so
    the event `run --resume` rebuilds from a stored sample is the one the call itself wrote."""
    request = sample.request
    return call_facts(
        "run", model, requested_model=sample.model, served_model=sample.served_model or sample.model,
        started_at=started_at, prompt=list(request["messages"]),
        max_tokens=request["max_tokens"], temperature=request["temperature"], latency_s=sample.latency_s,
        input_tokens=sample.input_tokens, output_tokens=sample.output_tokens,
        reasoning_tokens=sample.reasoning_tokens, cost_usd=sample.cost_usd, response_text=sample.response_text,
        finish_reason=sample.finish_reason, ok=sample.response_text is not None, error=sample.error,
        run_id=sample.run_id, item_id=f"{sample.suite}/{sample.item_id}#{sample.epoch}")


def call_record(target: Target, request: ChatRequest, started_at: str, response: ChatResponse | None = None,
                error: RunError | None = None) -> dict:
    """One finished call of `target` as JSON: an answer, or the error that ended it. The prompt and answer are
    kept in full, as the sample beside it keeps its own (the ledger's privacy setting applies to the event made
    from it)."""
    model, variant = target.model, target.model.variant
    record = {"requested_model": model.name, "provider": otel_provider_name(model.provider),
              "price_table": target.price.source, "model": model.name, "started_at": started_at, "latency_s": None,
              "input_tokens": 0, "output_tokens": 0, "reasoning_tokens": 0, "cost_usd": 0.0,
              "prompt": [m.to_record() for m in request.messages],
              "response_text": None, "finish_reason": None, "max_tokens": request.max_tokens,
              "temperature": request.temperature, "error": None if error is None else str(error),
              "variant": variant.definition.name if variant else None,
              "variant_version": variant.version if variant else None}
    if response is not None:
        usage = response.usage
        record |= {"model": response.model or model.name, "latency_s": response.latency_s,
                   "input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
                   "reasoning_tokens": usage.reasoning_tokens,
                   "cost_usd": target.price.cost_usd(usage, response.latency_s),
                   "response_text": response.text, "finish_reason": response.finish_reason}
    return record


def call_facts_of(record: dict, *, source: str, run_id: str | None, item_id: str,
                  judged_model: str | None = None) -> CallFacts:
    """The ledger facts of a call kept by `call_record`."""
    model = ModelFacts(record["provider"], record["price_table"], record["variant"], record["variant_version"])
    return call_facts(
        source, model, requested_model=record["requested_model"], served_model=record["model"],
        started_at=record["started_at"], prompt=record["prompt"], max_tokens=record["max_tokens"],
        temperature=record["temperature"], latency_s=record["latency_s"], input_tokens=record["input_tokens"],
        output_tokens=record["output_tokens"], reasoning_tokens=record["reasoning_tokens"],
        cost_usd=record["cost_usd"], response_text=record["response_text"], finish_reason=record["finish_reason"],
        ok=record["response_text"] is not None, error=record["error"], run_id=run_id, item_id=item_id,
        judged_model=judged_model)


def judge_item_id(suite: str, item_id: str, epoch: int) -> str:
    return f"{suite}/{item_id}#{epoch}{JUDGE_MARK}"


def judge_facts(sample) -> CallFacts | None:
    """The ledger facts of the judge call that graded `sample` (a SampleRecord), if one did."""
    if sample.judge_call is None:
        return None
    return call_facts_of(sample.judge_call, source=JUDGE, run_id=sample.run_id,
                         item_id=judge_item_id(sample.suite, sample.item_id, sample.epoch), judged_model=sample.model)


def episode_session(sample: SampleRecord) -> str:
    """An evaluation episode's session (gen_ai.conversation.id): `gensandbox trace` takes it. The model is part of
    it: every model of a run answers the same items, and each one's episode is a trace of its own."""
    return f"{sample.run_id}/{sample.model}/{sample.suite}/{sample.item_id}#{sample.epoch}"


def episode_facts(sample: SampleRecord, model: ModelFacts) -> list[CallFacts | ToolFacts]:
    """The ledger facts of every step of an agent episode, read from the sample as stored (so `run --resume`
    rebuilds the events the episode wrote): each model call (the prompt it was sent rebuilt from the steps before
    it), each tool call the environment ran, each simulated-user turn."""
    session = episode_session(sample)
    trace_id = sha256_hex(session.encode())[:32]
    item_id = f"{sample.suite}/{sample.item_id}#{sample.epoch}"
    messages = [Message.from_record(m) for m in sample.request["messages"]]
    facts: list[CallFacts | ToolFacts] = []
    asking_span = None  # the model call whose tool calls are being run
    for step in sample.episode["steps"]:
        common = dict(session=session, trace_id=trace_id, span_id=step["span_id"], run_id=sample.run_id,
                      item_id=item_id)
        if step["kind"] == "tool":
            facts.append(ToolFacts(step["started_at"], step["latency_s"], step["name"], step["id"], step["arguments"],
                                   step["result"], step["status"], step["state_sha256"], parent_span_id=asking_span,
                                   model=sample.model, problem=step.get("problem"), **common))
        else:
            source = "run" if step["kind"] == "model" else USER_SIMULATOR
            requested = step.get("requested_model", sample.model)
            player = ModelFacts(step["provider"], step["price_table"]) if "provider" in step else model
            facts.append(_step_facts(step, source, player, requested, messages, sample.request, common))
            asking_span = step["span_id"]
        if (message := step_message(step)) is not None:
            messages.append(message)
    return facts


def step_message(step: dict) -> Message | None:
    """The message an episode's step adds to the agent's conversation (None: it adds none)."""
    if step.get("error") is not None:
        return None
    if step["kind"] == "model":
        return Message("assistant", step["text"], tool_calls=tuple(ToolCall(**c) for c in step["tool_calls"]))
    if step["kind"] == "tool":
        return Message("tool", step["result"], tool_call_id=step["id"], name=step["name"])
    return None if STOP in step["text"] else Message("user", step["text"])


def _step_facts(step: dict, source: str, model: ModelFacts, requested: str, messages: list[Message],
                request: dict, common: dict) -> CallFacts:
    ok = step.get("error") is None
    return call_facts(
        source, model, requested_model=requested, served_model=step.get("model") or requested,
        started_at=step["started_at"], prompt=[m.to_record() for m in messages], max_tokens=request["max_tokens"],
        temperature=request["temperature"], latency_s=step["latency_s"], input_tokens=step["input_tokens"],
        output_tokens=step["output_tokens"], reasoning_tokens=step["reasoning_tokens"], cost_usd=step["cost_usd"],
        response_text=step.get("text") if ok else None, finish_reason=step.get("finish_reason"), ok=ok,
        error=step.get("error"), tool_calls=tuple(step.get("tool_calls", ())), **common)
