"""Keyed digests of what people wrote: the prompts, answers, tool arguments and results a ledger event names.

A plain sha256 of a prompt lets anyone who holds the ledger confirm a guess (hash the guessed prompt, look for it),
held-out test items included. So the event keeps HMAC-SHA256 under a secret instead, and says so:
`gensandbox.digest` is DIGEST_RUN (keyed with the event's run key) or DIGEST_PROJECT (its project's key); an event
without the field is from before keys, and its digests are plain sha256. The ledger's chain and signatures never
look inside a digest, so `ledger verify` needs no key at all.

Keys form a small tree, each level HMAC-SHA256 of its parent, so a key can be handed out without the keys above it:

    master (32 random bytes, a file beside the ledger's signing key, 0600)
      └ project key = HMAC(master, "gensandbox digest key v1\\0" + project)     `ledger project-key` prints it
          └ run key = HMAC(project key, "gensandbox run digest key v1\\0" + run id)
              └ run prompt key = HMAC(run key, "gensandbox prompt digest key v1")

A run's item calls (source "run") and its tool calls are keyed under its run: their prompt digest under the run
prompt key, everything else (answers, tool calls, results) under the run key. Every other event (the gateway's,
a judge's, an audit's, a simulated user's) is keyed under its project key alone: a judge's prompt quotes the answer
it grades, so no run-level key may open it. Whoever holds a project key can check any text against any event of
that project (`ledger digest`). A run prompt key opens only which prompts a run sent: a held-out custody reveal
publishes it (the items are public by then) and the models' answers stay closed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gensandbox.canonical import canonical
from gensandbox.errors import ConfigError, UserError

__all__ = ["DEFAULT_PROJECT", "DIGEST_PROJECT", "DIGEST_RUN", "DigestKeys", "EventKeys", "digest_key_path",
           "event_body_digest", "event_digest", "keyed_digest", "keys_of_event", "parse_key", "project_key",
           "prompt_bytes", "run_key", "run_prompt_key", "text_digest"]

DIGEST_PROJECT, DIGEST_RUN = "hmac-sha256/project", "hmac-sha256/run"
DEFAULT_PROJECT = "default"
_PROJECT_LABEL = b"gensandbox digest key v1\0"
_RUN_LABEL = b"gensandbox run digest key v1\0"
_PROMPT_LABEL = b"gensandbox prompt digest key v1"
_MASTER_BYTES = 32


def keyed_digest(key: bytes, data: bytes) -> str:
    """HMAC-SHA256 of `data` under `key`, as 64 hex digits (the width of the sha256 it replaces)."""
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def text_digest(key: bytes | None, text: str) -> str:
    """A text's digest as an event holds it: keyed, or plain sha256 when `key` is None (a ledger from before)."""
    return _digest(key, text.encode())


def project_key(master: bytes, project: str) -> bytes:
    return hmac.new(master, _PROJECT_LABEL + project.encode(), hashlib.sha256).digest()


def run_key(project_key_bytes: bytes, run_id: str) -> bytes:
    return hmac.new(project_key_bytes, _RUN_LABEL + run_id.encode(), hashlib.sha256).digest()


def run_prompt_key(run_key_bytes: bytes) -> bytes:
    return hmac.new(run_key_bytes, _PROMPT_LABEL, hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class EventKeys:
    """The keys of one event's digests and the `gensandbox.digest` naming them."""

    prompt: bytes  # for gensandbox.prompt_sha256
    content: bytes  # for everything else
    how: str


def digest_key_path(signing_key_path: Path) -> Path:
    """The master secret lives beside the signing key, under the same protection."""
    return signing_key_path.with_name("ledger-digest.key")


class DigestKeys:
    """This machine's digest keys: the master secret, and the project and run keys derived from it (cached:
    the gateway derives one per event)."""

    def __init__(self, master: bytes):
        if len(master) != _MASTER_BYTES:
            raise ValueError(f"a digest master key is {_MASTER_BYTES} bytes")
        self._master = master
        self.for_project = lru_cache(maxsize=1024)(self._for_project)
        self.for_run = lru_cache(maxsize=4096)(self._for_run)

    @classmethod
    def load_or_create(cls, path: Path) -> DigestKeys:
        """Read the master secret, or make it on first use: 0600 in a 0700 folder, written once (O_EXCL), so two
        processes starting together agree on one secret."""
        if path.exists():
            return cls(_read_master(path))
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(_MASTER_BYTES) + "\n")
        try:
            os.link(partial, path)  # atomic and refuses to replace: a reader never sees a half-written secret
        except FileExistsError:
            pass  # another process won the race: use its secret
        finally:
            partial.unlink()
        return cls(_read_master(path))

    def _for_project(self, project: str) -> bytes:
        return project_key(self._master, project)

    def _for_run(self, project: str, run_id: str) -> EventKeys:
        key = run_key(self.for_project(project), run_id)
        return EventKeys(run_prompt_key(key), key, DIGEST_RUN)

    def for_event(self, project: str, run_id: str | None) -> EventKeys:
        """The keys of an event: its run's when `run_id` is given (a run's own item and tool calls), else its
        project's."""
        if run_id:
            return self.for_run(project, run_id)
        key = self.for_project(project)
        return EventKeys(key, key, DIGEST_PROJECT)


def keys_of_event(event: dict, project_key_bytes: bytes) -> EventKeys | None:
    """The keys `event` was written with, derived from its project's key (None: plain sha256, an old event)."""
    how = event.get("gensandbox.digest")
    if how is None:
        return None
    if how == DIGEST_RUN:
        key = run_key(project_key_bytes, event["gensandbox.run_id"])
        return EventKeys(run_prompt_key(key), key, how)
    if how == DIGEST_PROJECT:
        return EventKeys(project_key_bytes, project_key_bytes, how)
    raise UserError(f"record {event.get('seq', '?')} uses digest `{how}`, which this version does not know; "
                    "upgrade gensandbox")


def event_digest(event: dict, project_key_bytes: bytes, data: bytes, *, prompt: bool = False) -> str:
    """What `event`'s digest fields hold for `data` (text.encode(); for its prompt, prompt_bytes(messages) and
    prompt=True), computed the way that event was written: how a holder of its project's key checks a text."""
    keys = keys_of_event(event, project_key_bytes)
    return _digest(None if keys is None else keys.prompt if prompt else keys.content, data)


def event_body_digest(event: dict, project_key_bytes: bytes, body: bytes) -> str:
    """What `event`'s gensandbox.body_sha256 holds for the exact response body `body`: keyed over the body's
    sha256 (which the gateway computes for the receipt anyway)."""
    plain = hashlib.sha256(body).hexdigest()
    keys = keys_of_event(event, project_key_bytes)
    return plain if keys is None else keyed_digest(keys.content, plain.encode())


def prompt_bytes(messages: list[dict]) -> bytes:
    """The bytes a call's prompt digest covers: the canonical JSON of {"messages": [{"role", "content"}, …]}."""
    return canonical({"messages": messages})


def _digest(key: bytes | None, data: bytes) -> str:
    return hashlib.sha256(data).hexdigest() if key is None else keyed_digest(key, data)


def parse_key(text: str, where: str) -> bytes:
    """A key as `ledger project-key` prints it (64 hex digits)."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise UserError(f"{where} is not a digest key: expected 64 hexadecimal digits, as `gensandbox ledger "
                        "project-key` prints them")
    return key


def _read_master(path: Path) -> bytes:
    if path.stat().st_mode & 0o077:
        raise ConfigError(f"the ledger digest key {path} is readable by others; run `chmod 600 {path}`")
    try:
        master = bytes.fromhex(path.read_text().strip())
    except ValueError:
        master = b""
    if len(master) != _MASTER_BYTES:
        raise ConfigError(f"{path} is not a digest key ({_MASTER_BYTES * 2} hexadecimal digits); restore it from "
                          "a backup: without it, digests already in the ledger cannot be checked")
    return master
