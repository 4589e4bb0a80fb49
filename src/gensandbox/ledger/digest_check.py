"""A text checked against one ledger event's keyed digests, by a holder of the event's project key."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import orjson

from gensandbox.config import load_config
from gensandbox.errors import UserError
from gensandbox.ledger.digests import event_digest, parse_key, prompt_bytes
from gensandbox.ledger.exports import read_export
from gensandbox.ledger.writer import open_backend


def check_text(text: str, key_text: str, seq: int, export: Path | None, config_path: Path | None) -> str:
    """One line saying which of record `seq`'s digests `text` matches: its prompt (as a single user message), its
    answer, or neither."""
    key = parse_key(key_text, "--key")
    record = _record(seq, export, config_path)
    if "gensandbox.prompt_sha256" not in record:
        raise UserError(f"record {seq} is a {record.get('kind')}, not a model call: it has no prompt digest")
    prompt = prompt_bytes([{"role": "user", "content": text}])
    if record["gensandbox.prompt_sha256"] == event_digest(record, key, prompt, prompt=True):
        return f"match: the text is record {seq}'s prompt (one user message)"
    if record.get("gensandbox.response_sha256") == event_digest(record, key, text.encode()):
        return f"match: the text is record {seq}'s answer"
    return (f"no match: the text is neither record {seq}'s prompt (as one user message) nor its answer, or the key "
            f"is not project {record.get('gensandbox.project', 'default')}'s")


def _record(seq: int, export: Path | None, config_path: Path | None) -> dict:
    if export is not None:
        lines = read_export(export)
        line = next(islice(lines, seq - 1, None), None)
    else:
        backend = open_backend(load_config(config_path).ledger_url)
        try:
            line = next(iter(backend.lines(seq - 1)), None)
        finally:
            backend.close()
    if line is None:
        raise UserError(f"the ledger has no record {seq}")
    return orjson.loads(line)
