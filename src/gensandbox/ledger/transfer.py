"""Moving a ledger between homes: an export that ends with a signed checkpoint stating its record count (and is
verified as written), and an import into an empty ledger, verified before and after, that keeps the exporter's
public key so `ledger verify` and `ledger export` trust it in the new home."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from gensandbox.config import Config
from gensandbox.errors import ConfigError, NotFoundError
from gensandbox.ledger.events import record_from_line
from gensandbox.ledger.exports import export_format, read_export, write_export
from gensandbox.ledger.signing import key_id, load_public_key
from gensandbox.ledger.trust import TRUSTED_KEYS_DIR, remember_key, trusted_keys
from gensandbox.ledger.verify import Verdict, verify_lines
from gensandbox.ledger.writer import open_backend, open_ledger

__all__ = ["Exported", "Imported", "export_ledger", "import_ledger"]


@dataclass(frozen=True)
class Exported:
    records: int
    format: str  # jsonl or parquet
    verdict: Verdict  # of the file as written
    key_id: str  # the key that signed its closing checkpoint


def export_ledger(config: Config, output: Path, fmt: str | None = None) -> Exported:
    fmt = export_format(output, fmt)
    ledger = open_ledger(config)
    try:
        if not ledger.backend.head().seq and not ledger.has_pending():
            raise NotFoundError(f"the ledger at {ledger.backend.location} is empty: nothing to export yet")
        closing = ledger.close_export()  # the export ends with a checkpoint that states its record count
        # Other processes may append after the closing checkpoint; the export stops at it.
        count = write_export(islice(ledger.backend.lines(), closing.seq), output, fmt)
    finally:
        ledger.close()
    verdict = verify_lines(read_export(output), trusted_keys([], config), require_signed_end=True, export=True)
    if not verdict.ok:
        raise ConfigError(f"the export {output} does not verify ({verdict.reason} at record {verdict.first_bad}); "
                          "the live ledger may be damaged: run `gensandbox ledger verify`")
    return Exported(count, fmt, verdict, ledger.signer.key_id)


@dataclass(frozen=True)
class Imported:
    records: int
    location: str  # where the ledger now lives
    verdict: Verdict  # of the ledger after the import
    key_id: str  # the exporter's key, now trusted here
    keys_dir: Path  # where that key is kept


def import_ledger(config: Config, file: Path, public_key_path: Path | None) -> Imported:
    if public_key_path is None:
        raise ConfigError("pass --public-key: the public key of the machine that made the export, so the import "
                          "can check it was not altered on the way")
    public_key = load_public_key(public_key_path)
    verdict = verify_lines(read_export(file), public_key, require_signed_end=True, export=True)
    if not verdict.ok:
        raise ConfigError(f"{file} does not verify, nothing imported: record {verdict.first_bad}: {verdict.reason}")
    backend = open_backend(config.ledger_url)
    try:
        count = backend.import_records(record_from_line(line) for line in read_export(file))
        after = verify_lines(backend.lines(), public_key, require_signed_end=True)
    finally:
        backend.close()
    if not after.ok or after.head_hash != verdict.head_hash:
        raise ConfigError(f"the imported ledger at {backend.location} does not verify: {after.reason}")
    remember_key(public_key, config)  # so `ledger verify` and `ledger export` here trust its checkpoints
    return Imported(count, backend.location, after, key_id(public_key), config.home / TRUSTED_KEYS_DIR)
