"""The facts of a model call made outside a run's own item calls (a judge's, a pairwise judge's, an audit's), kept
as plain JSON and turned into the ledger's CallFacts by one function.

A judge call's record is stored with the sample it graded (`SampleRecord.judge_call`), so its spending survives a
crash and `run --resume` can rebuild its ledger event from the store; pairwise judging and audits turn theirs into
events at once. Either way the event comes from `call_facts_of`, so a rebuilt event is the one the call wrote.
"""

from __future__ import annotations

from gensandbox.errors import RunError
from gensandbox.ledger.events import CallFacts, otel_provider_name
from gensandbox.types import ChatRequest, ChatResponse

JUDGE, AUDIT = "judge", "audit"  # gensandbox.source of these events ("run" and "gateway" are the others)
JUDGE_MARK = "/judge"  # a run's judge event names the judged sample's "SUITE/ITEM#EPOCH" followed by this


def call_record(target, request: ChatRequest, started_at: str, response: ChatResponse | None = None,
                error: RunError | None = None) -> dict:
    """One finished call of `target` (a runner Target) as JSON: an answer, or the error that ended it. The prompt
    and answer are kept in full, as the sample beside it keeps its own (the ledger's privacy setting applies to
    the event made from it)."""
    model, variant = target.model, target.model.variant
    record = {"requested_model": model.name, "provider": otel_provider_name(model.provider),
              "price_table": target.price.source, "model": model.name, "started_at": started_at, "latency_s": None,
              "input_tokens": 0, "output_tokens": 0, "reasoning_tokens": 0, "cost_usd": 0.0,
              "prompt": [{"role": m.role, "content": m.content} for m in request.messages],
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
    answered = record["response_text"] is not None
    return CallFacts(
        source=source, provider=record["provider"], requested_model=record["requested_model"], model=record["model"],
        started_at=record["started_at"], latency_s=record["latency_s"], input_tokens=record["input_tokens"],
        output_tokens=record["output_tokens"], reasoning_tokens=record["reasoning_tokens"],
        cost_usd=record["cost_usd"], price_table=record["price_table"], prompt=record["prompt"],
        response_text=record["response_text"], finish_reason=record["finish_reason"],
        status="ok" if answered else "error", error=None if answered else record["error"],
        max_tokens=record["max_tokens"], temperature=record["temperature"], run_id=run_id, item_id=item_id,
        judged_model=judged_model, variant=record["variant"], variant_version=record["variant_version"])


def judge_item_id(suite: str, item_id: str, epoch: int) -> str:
    return f"{suite}/{item_id}#{epoch}{JUDGE_MARK}"


def judge_facts(sample) -> CallFacts | None:
    """The ledger facts of the judge call that graded `sample` (a SampleRecord), if one did."""
    if sample.judge_call is None:
        return None
    return call_facts_of(sample.judge_call, source=JUDGE, run_id=sample.run_id,
                         item_id=judge_item_id(sample.suite, sample.item_id, sample.epoch), judged_model=sample.model)
