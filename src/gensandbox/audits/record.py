"""Is the record whole? A ledger's chain and checkpoint signatures, and, for this home's own ledger, that every
sample the store holds from a model call has its call event (and every judged sample its judge's event): a run
killed after storing samples and before writing their events lacks some until `run --resume` writes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gensandbox.config import Config
from gensandbox.errors import NotFoundError
from gensandbox.ledger.exports import read_export
from gensandbox.ledger.signing import key_id
from gensandbox.ledger.trust import trusted_keys
from gensandbox.ledger.verify import PublishedHead, Verdict, verify_lines
from gensandbox.ledger.writer import open_backend
from gensandbox.runner.run_events import samples_without_events, tap_call_keys

__all__ = ["RecordCheck", "verify_export", "verify_home"]


@dataclass(frozen=True)
class RecordCheck:
    verdict: Verdict
    where: str  # the ledger's location or the export's path
    signers: list[str]  # the ids of the keys whose checkpoints were trusted
    missing: dict[str, int] = field(default_factory=dict)  # per run: stored samples without their events

    @property
    def ok(self) -> bool:
        return self.verdict.ok and not self.missing


def verify_home(config: Config, public_key_paths: list[Path] = (),
                published: PublishedHead | None = None) -> RecordCheck:
    backend = open_backend(config.ledger_url)
    found: dict = {}  # run id -> the calls its events name, gathered in the same pass as the chain check
    try:
        # An empty ledger proves nothing and needs no key; anything else is checked against trusted keys.
        keys = trusted_keys(list(public_key_paths), config) if backend.head().seq or public_key_paths else []
        verdict = verify_lines(tap_call_keys(backend.lines(), found), keys, require_signed_end=False,
                               published=published)
    finally:
        backend.close()
    missing = _samples_without_events(config, found) if verdict.ok else {}
    return RecordCheck(verdict, backend.location, [key_id(key) for key in keys], missing)


def verify_export(config: Config, file: Path, public_key_paths: list[Path] = (),
                  published: PublishedHead | None = None) -> RecordCheck:
    lines = read_export(file)  # a missing file is reported before anything about keys
    keys = trusted_keys(list(public_key_paths), config)
    verdict = verify_lines(lines, keys, require_signed_end=True, export=True, published=published)
    return RecordCheck(verdict, str(file), [key_id(key) for key in keys])


def _samples_without_events(config: Config, found: dict) -> dict[str, int]:
    from gensandbox.store import store_at

    try:
        store = store_at(config.database_url, must_exist=True)
    except NotFoundError:
        return {}  # no store here (a ledger imported on its own): no samples to account for
    try:
        return samples_without_events(store, found)
    finally:
        store.close()
