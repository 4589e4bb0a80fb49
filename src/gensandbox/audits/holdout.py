"""Held-out test custody: commit to a test set before testing, evaluate while the ledger keeps only hashes,
reveal afterwards, and let anyone check that the committed items, all of them and only they, were used.

The commitment is a salted Merkle root over the items, in order. Each leaf is

    sha256(b"gensandbox-holdout-leaf\\0" + salt + canonical_json(item))

with a fresh random 32-byte salt per item, so a leaf says nothing about its item (guessing an item and
hashing it does not find its leaf): the commitment and its leaves reveal only how many items there are and
when the commitment was made. The suite's name stays in the private opening until the reveal: a name such as
"tax-law-2026" would tell the developer what to prepare for.
Inner nodes are sha256(b"\\x01" + left + right); a leaf's input never starts with 0x01, so no leaf can pass
for an inner node. An odd node at the end of a level is promoted unchanged, not paired with a copy of
itself: with duplication (Bitcoin's choice) [a, b, c] and [a, b, c, c] would share a root.

The item committed is the item as the runner sees it (the suite's template, defaults and system prompt
applied, then validated), so the revealed file alone says which prompt every call of a run must have
sent. Changing canonical_json (gensandbox.ledger.events.canonical) changes every leaf.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import orjson
from pydantic import ValidationError

from gensandbox.canonical import canonical, sha256_hex
from gensandbox.config.loading import describe_validation_error
from gensandbox.errors import ConfigError, NotFoundError, UserError
from gensandbox.ledger.events import CALL
from gensandbox.runner.suite import Item, Suite
from gensandbox.store import SampleRecord, SQLStore

SCHEME = "gensandbox-holdout-v1"
LEAF_PREFIX = b"gensandbox-holdout-leaf\0"
INNER_PREFIX = b"\x01"
HELD_OUT = "[held out]"
# Scorers whose reasons and arguments never quote the item or the answer ("refused (expected to refuse)"):
# kept in a custody run's samples so the safety table still counts refusals.
CONTENT_FREE_SCORERS = frozenset({"refusal"})
_SALT = re.compile(r"^[0-9a-f]{64}$")


# ---- the Merkle commitment (pure) ----


def new_salt() -> str:
    return secrets.token_hex(32)


def leaf_hash(item: dict, salt: str) -> str:
    return sha256_hex(LEAF_PREFIX + bytes.fromhex(salt) + canonical(item))


def merkle_root(leaves: list[str]) -> str:
    if not leaves:
        raise ValueError("a commitment needs at least one item")
    level = [bytes.fromhex(leaf) for leaf in leaves]
    while len(level) > 1:
        paired = [hashlib.sha256(INNER_PREFIX + level[i] + level[i + 1]).digest()
                  for i in range(0, len(level) - 1, 2)]
        level = paired + level[len(paired) * 2:]  # an odd last node goes up unchanged
    return level[0].hex()


def salted(items: Iterable[dict]) -> list[dict]:
    """The opening's entries: each item with its own fresh salt."""
    return [{"salt": new_salt(), "item": item} for item in items]


def leaves_of(entries: list[dict]) -> list[str]:
    return [leaf_hash(entry["item"], entry["salt"]) for entry in entries]


def make_commitment(entries: list[dict], suite_name: str, created_at: str) -> tuple[dict, dict]:
    """(the public commitment, the private opening). The leaves are published too: they let a verifier
    name the item that breaks the root, and reveal nothing more than the root does. The time is published (it
    shows the test set was fixed before testing); the suite's name is not."""
    leaves = leaves_of(entries)
    root = merkle_root(leaves)
    public = {"scheme": SCHEME, "root": root, "items": len(entries), "created_at": created_at, "leaves": leaves}
    private = {"scheme": SCHEME, "root": root, "suite_name": suite_name, "created_at": created_at,
               "items": entries, "runs": []}
    return public, private


def revealed_from(opening: dict, revealed_at: str) -> dict:
    """What is published after testing: the items and their salts (the runs and local paths stay private)."""
    return {"scheme": SCHEME, "root": opening["root"], "suite_name": opening["suite_name"],
            "created_at": opening["created_at"], "revealed_at": revealed_at, "items": opening["items"]}


def compare_to_commitment(commitment: dict, revealed: dict) -> str | None:
    """The first reason the revealed items are not the committed ones, or None when they are."""
    entries, committed = revealed["items"], commitment.get("leaves")
    # Commitments made before the name was kept private still carry it; then it must match.
    if "suite_name" in commitment and revealed["suite_name"] != commitment["suite_name"]:
        return f"the revealed suite is `{revealed['suite_name']}`, the committed one `{commitment['suite_name']}`"
    if len(entries) != commitment["items"]:
        return f"{len(entries)} items were revealed but {commitment['items']} were committed"
    leaves = leaves_of(entries)
    if committed is not None:
        if len(committed) != commitment["items"] or merkle_root(committed) != commitment["root"]:
            return "the commitment's own leaves do not give its root: the commitment file was altered"
        for position, (got, want) in enumerate(zip(leaves, committed, strict=True), start=1):
            if got != want:
                return (f"revealed item {position} (`{entries[position - 1]['item'].get('id')}`) is not the "
                        f"committed item {position}: its content, salt or position was changed")
    root = merkle_root(leaves)
    if root != commitment["root"]:
        return f"the revealed items give root {root[:16]}…, not the committed {commitment['root'][:16]}…"
    return None


# ---- what the runner sends, and what a custody run stores (pure) ----


def items_of(document: dict, where: str) -> list[Item]:
    """The entries' items, validated as the runner validates a suite's (ids unique)."""
    items, seen = [], set()
    for position, entry in enumerate(document["items"], start=1):
        try:
            item = Item.model_validate(entry["item"])
        except ValidationError as error:
            raise ConfigError(f"{where} item {position}: {describe_validation_error(error, Item)}") from None
        if item.id in seen:
            raise ConfigError(f"{where} item {position}: duplicate item id `{item.id}`")
        seen.add(item.id)
        items.append(item)
    return items


def prompt_sha256(messages: list[dict]) -> str:
    """As the ledger hashes a call's prompt (gensandbox.ledger.events.call_event)."""
    return sha256_hex(canonical({"messages": messages}))


def item_prompt_bytes(item: Item) -> bytes:
    """What a call's prompt digest covers for this item (ledger/digests.prompt_bytes)."""
    return canonical({"messages": [{"role": m.role, "content": m.content} for m in item.chat_messages()]})


def item_prompt_sha256(item: Item) -> str:
    """The hash of the prompt the runner sends for `item`: RunPlan.request_for takes its messages from
    Item.chat_messages, and the ledger records them as {"role", "content"} pairs."""
    return prompt_sha256([{"role": m.role, "content": m.content} for m in item.chat_messages()])


def held_out_suite(opening: dict, items: list[Item]) -> Suite:
    """The committed items as a suite held in memory: nothing is written to disk. Its path names no file, so
    `gensandbox rerun` and `run --resume` (which would not keep custody) refuse it; its sha256 is the root."""
    return Suite(name=opening["suite_name"], path=Path(f"held-out:{opening['root'][:16]}"), layout="holdout",
                 license="held out: the tester's own terms", license_note="", sha256=opening["root"],
                 base_count=len(items), categories=tuple(sorted({i.category for i in items})),
                 languages=tuple(sorted({i.language for i in items})), options={}, read=items.__iter__,
                 judges=tuple(sorted({i.scorer.args["judge"] for i in items if i.scorer.args.get("judge")})),
                 scorers=tuple(sorted({i.scorer.name for i in items})))


def redact_sample(sample: SampleRecord) -> SampleRecord:
    """A custody run's sample as stored: scores, tokens, cost and errors stay; the prompt, the answer, the
    scorer's reason and arguments (which may quote either, or the target) become placeholders, with the
    same hashes the ledger keeps so the two can still be matched."""
    messages = sample.request.get("messages", [])
    request = {**sample.request, "messages": [{"role": m["role"], "content": HELD_OUT} for m in messages],
               "prompt_sha256": prompt_sha256(messages)}
    answer = sample.response_text
    content_free = sample.scorer.get("name") in CONTENT_FREE_SCORERS
    judge_call = sample.judge_call
    if judge_call is not None:  # the judge's prompt quotes the item, its target and the answer: hashes only
        said = judge_call["response_text"]
        judge_call = {**judge_call, "prompt_sha256": prompt_sha256(judge_call["prompt"]),
                      "prompt": [{"role": m["role"], "content": HELD_OUT} for m in judge_call["prompt"]],
                      "response_text": None if said is None else f"[held out: sha256 {sha256_hex(said.encode())}]"}
    return replace(sample, request=request, judge_call=judge_call,
                   response_text=None if answer is None else f"[held out: sha256 {sha256_hex(answer.encode())}]",
                   reason=sample.reason if content_free else HELD_OUT,
                   scorer=sample.scorer if content_free else {"name": sample.scorer.get("name"), "args": {}})


class HeldOutStore(SQLStore):
    """The store a custody run writes through: every sample is redacted before it is saved."""

    def __init__(self, store: SQLStore):
        super().__init__(store.db)  # the same connection, SQLite or PostgreSQL

    def add_sample(self, sample: SampleRecord) -> None:
        super().add_sample(redact_sample(sample))


# ---- checking a run's ledger events against the revealed items (pure) ----


def tap_run_events(lines: Iterable[bytes], run_id: str, found: list[dict]) -> Iterator[bytes]:
    """Pass ledger lines through unchanged (to the chain verifier) while collecting `run_id`'s call events."""
    marker = b'"gensandbox.run_id":' + orjson.dumps(run_id)  # canonical JSON: exactly these bytes
    for line in lines:
        if marker in line:
            record = orjson.loads(line)
            # The run's own item calls: a judge's calls name the run too, but send the judge's prompt.
            if record.get("kind") == CALL and record.get("gensandbox.run_id") == run_id \
                    and record.get("gensandbox.source", "run") == "run":
                found.append(record)
        yield line


@dataclass
class RunCheck:
    run_id: str
    items: int
    calls: int = 0
    matched: int = 0
    with_content: int = 0  # events that carry the prompt text itself (privacy "full"): custody was not kept
    models: list[str] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=lambda: {
        "swapped": [], "added": [], "missing": [], "called twice": []})

    @property
    def ok(self) -> bool:
        return self.calls > 0 and not any(self.problems.values())

    def first_problem(self) -> str | None:
        if self.calls == 0:
            return f"the ledger holds no model call of run `{self.run_id}`"
        return next((found[0] for found in self.problems.values() if found), None)

    def counts(self) -> str:
        listed = ", ".join(f"{len(found)} {kind}" for kind, found in self.problems.items()
                           if found or kind != "called twice")
        return f"{self.matched} of {self.calls} calls match; {listed}"

    def summary(self) -> dict:
        return {"run_id": self.run_id, "calls": self.calls, "matched": self.matched, "models": self.models,
                "epochs": len(self.epochs), "with_content": self.with_content,
                **{kind.replace(" ", "_"): len(found) for kind, found in self.problems.items()},
                "first_problem": self.first_problem() if not self.ok else None}


def check_run(events: Iterable[dict], run_id: str, suite_name: str, expected: dict[str, bytes],
              models: list[str] | None = None, epochs: int | None = None,
              digest: Callable[[dict, bytes], str] = lambda event, data: sha256_hex(data)) -> RunCheck:
    """Every call of the run must have sent the prompt of the revealed item its item_id names; every item must
    be called once per model and epoch. `expected`: item id → the prompt's bytes (prompt_bytes), in committed
    order; `digest(event, data)`: what that event's prompt digest holds for `data` (keyed, or plain sha256 for an
    event from before keyed digests). The run's models and epochs come from the store when it is at hand, else
    from the events themselves."""
    check, seen = RunCheck(run_id, len(expected)), set()
    for event in events:
        check.calls += 1
        check.with_content += "gen_ai.input.messages" in event
        model, reference = event.get("gen_ai.request.model", "?"), event.get("gensandbox.item_id", "")
        item_id, _, epoch_text = reference.removeprefix(f"{suite_name}/").rpartition("#")
        epoch = int(epoch_text) if epoch_text.isdigit() else -1
        where = f"item `{item_id or reference}` (model {model}, epoch {epoch})"
        if not reference.startswith(f"{suite_name}/") or epoch < 0 or item_id not in expected:
            check.problems["added"].append(f"{where} is not a committed item: it was added")
        elif (model, item_id, epoch) in seen:
            check.problems["called twice"].append(f"{where} was called twice")
        elif event.get("gensandbox.prompt_sha256") != (committed := digest(event, expected[item_id])):
            check.problems["swapped"].append(
                f"{where} was swapped: the prompt sent has digest {event.get('gensandbox.prompt_sha256', '')[:12]}…, "
                f"the committed item's {committed[:12]}…")
        else:
            check.matched += 1
        seen.add((model, item_id, epoch))
    check.models = models or sorted({model for model, _, _ in seen})
    check.epochs = list(range(epochs)) if epochs else sorted({e for _, _, e in seen if e >= 0})
    check.problems["missing"] = [f"item `{item}` (model {model}, epoch {epoch}) was never called: it is missing"
                                 for model in check.models for epoch in check.epochs for item in expected
                                 if (model, item, epoch) not in seen]
    return check


# ---- files ----


def read_document(path: Path, what: str) -> dict:
    """A holdout JSON file (commitment, opening or revealed items), its scheme and shape checked."""
    try:
        document = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise NotFoundError(f"{what} {path} not found") from None
    except OSError as error:
        raise NotFoundError(f"cannot read {what} {path}: {error.strerror}") from None
    except orjson.JSONDecodeError as error:
        raise ConfigError(f"{what} {path} is not valid JSON ({error})") from None
    if not isinstance(document, dict) or document.get("scheme") != SCHEME:
        raise ConfigError(f"{what} {path} is not a {SCHEME} file")
    _check_shape(document, what, path)
    return document


def _check_shape(document: dict, what: str, path: Path) -> None:
    needed = {"root": str, "items": int} if what == "commitment" else {"root": str, "suite_name": str, "items": list}
    for key, kind in needed.items():
        if not isinstance(document.get(key), kind):
            raise ConfigError(f"{what} {path}: `{key}` is missing or not a {kind.__name__}")
    if what == "commitment":
        leaves = document.get("leaves")
        if leaves is not None and not (isinstance(leaves, list) and all(_SALT.match(str(x)) for x in leaves)):
            raise ConfigError(f"{what} {path}: `leaves` must be a list of sha256 hex digests")
        return
    for position, entry in enumerate(document["items"], start=1):
        if not (isinstance(entry, dict) and isinstance(entry.get("item"), dict)
                and _SALT.match(str(entry.get("salt")))):
            raise ConfigError(f"{what} {path} item {position}: each entry is {{\"salt\": 64 hex digits, "
                              "\"item\": {…}}")
    if not document["items"]:
        raise ConfigError(f"{what} {path} has no items")


def read_opening(path: Path) -> dict:
    """The private opening, checked to still give its own root (an edited opening would commit to nothing)."""
    opening = read_document(path, "opening")
    if merkle_root(leaves_of(opening["items"])) != opening["root"]:
        raise ConfigError(f"opening {path} no longer gives its root {opening['root'][:16]}…: its items or salts "
                          "were edited after the commitment")
    return opening


def write_json(path: Path, document: dict, *, private: bool = False, replace_existing: bool = True) -> None:
    """Written whole, then moved into place. A private file is created 0600 (it holds the test items)."""
    if not replace_existing and path.exists():
        raise UserError(f"{path} already exists; choose another name (overwriting a commitment or an opening "
                        "loses the salts needed to reveal it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    os.replace(partial, path)
