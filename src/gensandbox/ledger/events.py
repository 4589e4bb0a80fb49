"""Ledger records: canonical JSON, hash chaining, and the content of a model-call event. Pure functions.

A record is one line of canonical JSON (sorted keys, UTF-8, no spaces): the event's own fields plus
`seq` (1, 2, …), `prev` (the previous record's hash; GENESIS for the first) and `hash`, the sha256 of the
canonical JSON of everything but `hash`. Changing, removing, adding or reordering any record therefore breaks
the chain at that record. The same bytes are stored, exported and verified, so nothing is re-encoded on the way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import orjson

from gensandbox.canonical import canonical, sha256_hex
from gensandbox.ledger.digests import DEFAULT_PROJECT, DigestKeys, keyed_digest

GENESIS = "0" * 64
CALL, CHECKPOINT, REFUSAL = "gen_ai.call", "gensandbox.checkpoint", "gensandbox.refusal"
TOOL = "gen_ai.execute_tool"  # an agent's tool call, carried out by an evaluation's environment
CHAIN_FIELDS = ("seq", "prev", "hash")
ANONYMOUS = "anonymous"  # the key id of a gateway request made without a key


def content_hash(content: dict) -> str:
    """The hash of an event's content alone, before it is chained: what a usage receipt names."""
    return sha256_hex(canonical(content))


@dataclass(frozen=True)
class Head:
    """Where the chain ends: the last record's number and hash."""

    seq: int = 0
    hash: str = GENESIS


@dataclass(frozen=True)
class Record:
    seq: int
    hash: str
    kind: str
    session: str | None  # gen_ai.conversation.id, kept beside the record so a trace is found without a scan
    line: bytes  # the record's canonical JSON, exactly as stored and exported


def chain(contents: list[dict], head: Head) -> list[Record]:
    """Link `contents` after `head`, in order."""
    records, seq, prev = [], head.seq, head.hash
    for content in contents:
        seq += 1
        linked = {**content, "seq": seq, "prev": prev}
        prev = sha256_hex(canonical(linked))
        linked["hash"] = prev
        records.append(Record(seq, prev, content.get("kind", ""), content.get("gen_ai.conversation.id"),
                              canonical(linked)))
    return records


def plan_append(contents: list[dict], head: Head, head_kind: str | None,
                checkpoint: Callable[[Head], dict] | None) -> list[Record]:
    """The records to add after `head`: the contents, then (when asked) a checkpoint signing the new head.
    No checkpoint directly follows another, so cutting the last checkpoint off a live ledger always leaves
    unsigned records behind; an export's closing checkpoint is the exception (it is always written, and
    verify of an export requires it as the last record)."""
    records = chain(contents, head)
    new_head = Head(records[-1].seq, records[-1].hash) if records else head
    ends_signed = not records and head_kind == CHECKPOINT
    if checkpoint is not None and new_head.seq > 0:
        content = checkpoint(new_head)
        if not ends_signed or content.get("closes_export"):
            records += chain([content], new_head)
    return records


def record_from_line(line: bytes) -> Record:
    """For import: the stored columns of a record read back from its line (verified separately)."""
    record = orjson.loads(line)
    return Record(record["seq"], record["hash"], record.get("kind", ""), record.get("gen_ai.conversation.id"), line)


def strip_chain(record: dict) -> dict:
    """The event's content: a record without its chain fields."""
    return {key: value for key, value in record.items() if key not in CHAIN_FIELDS}


_OTEL_PROVIDER_NAMES = {"local": "llama.cpp"}  # GenSandbox's provider kinds that the conventions name otherwise


def otel_provider_name(provider: str) -> str:
    return _OTEL_PROVIDER_NAMES.get(provider, provider)


# ---- A model call, named after the OpenTelemetry GenAI semantic conventions where a name exists ----


@dataclass(slots=True)  # not frozen: a frozen class sets each of its 33 fields through object.__setattr__ (4 µs)
class CallFacts:
    """What is known about one model call once it has ended (successfully or not)."""

    source: str  # "gateway", "run", "judge" or "audit"
    provider: str  # gen_ai.provider.name, e.g. "openai", "anthropic", "llama.cpp"
    requested_model: str  # what the caller asked for: a model or route name
    model: str  # the model that served (or failed to serve) the call
    started_at: str  # ISO 8601 UTC
    latency_s: float | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    price_table: str  # sha256 prefix of the price table the cost came from
    prompt: list[dict]  # [{"role", "content"}]
    response_text: str | None
    finish_reason: str | None = None
    status: str = "ok"  # "ok" or "error"
    error: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    key_id: str | None = None
    route: str | None = None
    route_reason: str | None = None
    run_id: str | None = None
    item_id: str | None = None
    body_sha256: str | None = None  # of the exact HTTP response body, when the gateway sent one
    session: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    parent_span_id: str | None = None
    tool_steps: tuple[dict, ...] = ()  # tool results the caller sent back since its previous call
    features: tuple[str, ...] = ()  # API features the request used: stream, tools, json_mode, seed
    variant: str | None = None  # the variant's name, when a `variant:NAME` model answered
    variant_version: str | None = None  # the hash of its definition and documents
    reasoning_tokens: int = 0  # the part of output_tokens spent reasoning
    judged_model: str | None = None  # a judge's call: the model whose answer it graded (item_id alone is shared)
    http_status: int | None = None  # a gateway attempt that failed: the status it was recorded with (502)
    tool_calls: tuple[dict, ...] = ()  # the tools the model called: {id, name, arguments}
    operation: str = "chat"  # gen_ai.operation.name: "chat", or "embeddings"
    end_user: str | None = None  # the app's `user`: its own id for the person it serves
    project: str = DEFAULT_PROJECT  # whose call it was: its digests are keyed with this project's key


class _Digester:
    """Digests of one event's user content: keyed (HMAC-SHA256, see ledger/digests.py) when the ledger has keys,
    plain sha256 without (a throwaway ledger, and events from before keys)."""

    __slots__ = ("prompt_key", "key", "how")

    def __init__(self, keys: DigestKeys | None, project: str, run_id: str | None):
        event_keys = keys.for_event(project, run_id) if keys is not None else None
        self.prompt_key, self.key, self.how = (event_keys.prompt, event_keys.content, event_keys.how) \
            if event_keys is not None else (None, None, None)

    def __call__(self, data: bytes) -> str:
        return sha256_hex(data) if self.key is None else keyed_digest(self.key, data)

    def prompt(self, data: bytes) -> str:
        return sha256_hex(data) if self.prompt_key is None else keyed_digest(self.prompt_key, data)

    def text(self, text: str | None) -> str | None:
        return None if text is None else self(text.encode())

    def body(self, body_sha256: str | None) -> str | None:
        if body_sha256 is None or self.key is None:
            return body_sha256
        return keyed_digest(self.key, body_sha256.encode())


def call_event(facts: CallFacts, privacy: str, keys: DigestKeys | None = None) -> dict:
    """The ledger content of one call. With privacy "hashes" the prompt and answer appear only as digests, keyed
    with the call's run or project key when `keys` is given (see ledger/digests.py)."""
    # Only a run's own item calls take its run keys: a judge's prompt quotes the answer it grades, so a judge's,
    # an audit's or a simulated user's call is keyed with the project's key, which no custody reveal hands out.
    digest = _Digester(keys, facts.project, facts.run_id if facts.source == "run" else None)
    prompt_bytes = canonical({"messages": facts.prompt})
    event = {
        "kind": CALL,
        "time": facts.started_at,
        "gen_ai.operation.name": facts.operation,
        "gen_ai.provider.name": facts.provider,
        "gen_ai.request.model": facts.requested_model,
        "gen_ai.response.model": facts.model,
        "gen_ai.usage.input_tokens": facts.input_tokens,
        "gen_ai.usage.output_tokens": facts.output_tokens,
        "gensandbox.source": facts.source,
        "gensandbox.status": facts.status,
        "gensandbox.cost_usd": round(facts.cost_usd, 10),
        "gensandbox.price_table": facts.price_table,
        "gensandbox.prompt_sha256": digest.prompt(prompt_bytes),
        "gensandbox.privacy": privacy,
    }
    optional = {
        "gensandbox.project": facts.project if keys is not None else None,
        "gensandbox.digest": digest.how,
        "gen_ai.request.max_tokens": facts.max_tokens,
        "gen_ai.request.temperature": facts.temperature,
        "gen_ai.response.finish_reasons": [facts.finish_reason] if facts.finish_reason else None,
        "gen_ai.conversation.id": facts.session,
        "error.type": facts.error,
        "gensandbox.latency_s": None if facts.latency_s is None else round(facts.latency_s, 6),
        "gensandbox.response_sha256": digest.text(facts.response_text),
        # The calls' arguments are the model's output: hashed like the answer text, in full only with "full".
        "gensandbox.tool_calls": [{"id": call["id"], "name": call["name"],
                                   "arguments_sha256": digest.text(call["arguments"])}
                                  for call in facts.tool_calls] or None,
        # The exact response body holds the answer text, so it is keyed too (over the body's sha256, which the
        # gateway already has: see digests.body_digest). Receipts are not affected: a receipt carries its own plain
        # hashes of the body and the text (the app that got them checks them) and names this event by its hash.
        "gensandbox.body_sha256": digest.body(facts.body_sha256),
        "gensandbox.key_id": facts.key_id,
        "gensandbox.route": facts.route,
        "gensandbox.route_reason": facts.route_reason,
        "gensandbox.run_id": facts.run_id,
        "gensandbox.item_id": facts.item_id,
        "gensandbox.judged_model": facts.judged_model,
        "gensandbox.tool_steps": [_tool_step(step, digest) for step in facts.tool_steps] or None,
        "gensandbox.features": list(facts.features) or None,
        # An app's id for its user may identify a person: only its hash, whatever the privacy setting.
        "gensandbox.end_user_sha256": digest.text(facts.end_user),
        "gensandbox.variant": facts.variant,
        "gensandbox.variant_version": facts.variant_version,
        # No OTel GenAI name yet. Left out when zero, so events of calls without reasoning hash as before.
        "gensandbox.reasoning_tokens": facts.reasoning_tokens or None,
        # Only on the gateway's failed attempts: a successful call's 200 goes without saying, so events of
        # successful calls, and of every run call, hash as before.
        "http.response.status_code": facts.http_status,
        "trace_id": facts.trace_id,
        "span_id": facts.span_id,
        "parent_span_id": facts.parent_span_id,
    }
    if privacy == "full":
        optional["gen_ai.input.messages"] = facts.prompt
        optional["gen_ai.output.messages"] = None if facts.response_text is None else [
            {"role": "assistant", "content": facts.response_text}
            | ({"tool_calls": list(facts.tool_calls)} if facts.tool_calls else {})]
    event.update({key: value for key, value in optional.items() if value is not None})
    return event


def _tool_step(step: dict, digest: _Digester) -> dict:
    """A tool result the caller sent back: its id, name and the digest of its content (never the content)."""
    if "content" not in step:
        return step  # already digested
    return {"id": step["id"], "name": step["name"], "sha256": digest.text(step["content"])}


def refusal_event(started_at: str, status: int, code: str | None, message: str, key_id: str | None,
                  requested_model: str | None, stream: bool = False) -> dict:
    """A request the gateway refused (400, 401, 404, 429, 503): who (the key, if it was valid), what it asked for
    and why it was refused. Never the prompt: the caller may not even be authenticated."""
    event = {"kind": REFUSAL, "time": started_at, "gensandbox.source": "gateway", "gensandbox.status": "refused",
             "http.response.status_code": status, "error.type": code or "refused", "gensandbox.reason": message}
    optional = {"gensandbox.key_id": key_id, "gen_ai.request.model": requested_model,
                "gensandbox.stream": stream or None}  # a call event says so in gensandbox.features
    event.update({key: value for key, value in optional.items() if value is not None})
    return event


# ---- A tool call an evaluation's environment carried out (an agent episode's step) ----


@dataclass(slots=True)
class ToolFacts:
    started_at: str
    latency_s: float | None
    name: str  # gen_ai.tool.name
    call_id: str  # gen_ai.tool.call.id
    arguments: str  # the JSON text the model wrote
    result: str  # what the model was told
    status: str  # "ok", "error" (the environment refused it) or "invalid" (not run: unknown tool, bad arguments)
    state_sha256: str | None  # the environment's state after the call
    session: str
    trace_id: str
    span_id: str
    parent_span_id: str | None  # the model call that asked for it
    run_id: str | None = None
    item_id: str | None = None
    model: str | None = None  # the model whose call it was
    problem: str | None = None
    project: str = DEFAULT_PROJECT


def tool_event(facts: ToolFacts, privacy: str, keys: DigestKeys | None = None) -> dict:
    """The ledger content of one tool call. Arguments and result appear only as digests unless privacy is "full"
    (keyed as a call's are). The environment's state hash stays plain: the state is the environment's, built by
    the suite's own code from its fixtures, not text a person wrote."""
    digest = _Digester(keys, facts.project, facts.run_id)
    event = {
        "kind": TOOL,
        "time": facts.started_at,
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": facts.name,
        "gen_ai.tool.call.id": facts.call_id,
        "gen_ai.conversation.id": facts.session,
        "gensandbox.source": "run",
        "gensandbox.status": facts.status,
        "gensandbox.privacy": privacy,
        "gensandbox.tool.arguments_sha256": digest.text(facts.arguments),
        "gensandbox.tool.result_sha256": digest.text(facts.result),
        "trace_id": facts.trace_id,
        "span_id": facts.span_id,
    }
    optional = {
        "gensandbox.latency_s": None if facts.latency_s is None else round(facts.latency_s, 6),
        "gensandbox.environment.state_sha256": facts.state_sha256,
        "gensandbox.run_id": facts.run_id,
        "gensandbox.item_id": facts.item_id,
        "gen_ai.request.model": facts.model,
        "error.type": facts.problem,
        "parent_span_id": facts.parent_span_id,
        "gensandbox.project": facts.project if keys is not None else None,
        "gensandbox.digest": digest.how,
    }
    if privacy == "full":
        optional["gen_ai.tool.call.arguments"] = facts.arguments
        optional["gen_ai.tool.call.result"] = facts.result
    event.update({key: value for key, value in optional.items() if value is not None})
    return event
