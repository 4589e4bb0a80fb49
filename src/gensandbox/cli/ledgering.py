"""What the ledger and receipt commands do once their options are parsed."""

from __future__ import annotations

import sys
from itertools import islice
from pathlib import Path

import typer

from gensandbox.cli.output import console, errors
from gensandbox.config import load_config
from gensandbox.errors import ConfigError, NotFoundError
from gensandbox.ledger.exports import export_format, read_export, write_export
from gensandbox.ledger.signing import Signer, check_receipt, key_id, load_public_key, public_pem
from gensandbox.ledger.trust import TRUSTED_KEYS_DIR, remember_key, trusted_keys
from gensandbox.ledger.verify import PublishedHead, Verdict, verify_lines
from gensandbox.ledger.writer import open_backend, open_ledger


def verify_ledger(file: Path | None, public_key_paths: list[Path], config_path: Path | None,
                  published: PublishedHead | None = None) -> None:
    config = load_config(config_path)
    if file is None:
        from gensandbox.runner.run_events import tap_call_keys

        backend = open_backend(config.ledger_url)
        found: dict = {}  # run id -> the calls its events name, gathered in the same pass as the chain check
        try:
            # An empty ledger proves nothing and needs no key; anything else is checked against trusted keys.
            public_keys = trusted_keys(public_key_paths, config) if backend.head().seq or public_key_paths else []
            verdict = verify_lines(tap_call_keys(backend.lines(), found), public_keys, require_signed_end=False,
                                   published=published)
        finally:
            backend.close()
        where = backend.location
        if verdict.ok:
            _check_samples_have_events(config, found, where, verdict)
    else:
        lines = read_export(file)  # a missing file is reported before anything about keys
        public_keys = trusted_keys(public_key_paths, config)
        verdict = verify_lines(lines, public_keys, require_signed_end=True, export=True, published=published)
        where = str(file)
    _report(verdict, where, [key_id(key) for key in public_keys], published)


def _check_samples_have_events(config, found: dict, where: str, verdict: Verdict) -> None:
    """Every sample the store holds from a model call must have its call event in the ledger, and every sample a
    judge graded its judge's event; a run killed after storing samples and before writing their events lacks some,
    until `run --resume` writes them."""
    from gensandbox.runner.run_events import samples_without_events
    from gensandbox.store import store_at

    try:
        store = store_at(config.database_url, must_exist=True)
    except NotFoundError:
        return  # no store here (a ledger imported on its own): no samples to account for
    try:
        missing = samples_without_events(store, found)
    finally:
        store.close()
    if not missing:
        return
    runs = sorted(missing, key=lambda run: (-missing[run], run))
    shown = ", ".join(f"{run} ({missing[run]:,})" for run in runs[:5]) + (
        f" and {len(runs) - 5} more runs" if len(runs) > 5 else "")
    errors.print(f"BAD: {where}: the chain verifies ({verdict.records:,} records), but {sum(missing.values()):,} "
                 f"stored samples have no call event, in run{'s' if len(runs) > 1 else ''} {shown}; `gensandbox run "
                 f"--resume {runs[0]}` writes them, run by run", markup=False, soft_wrap=True)
    raise typer.Exit(1)


def _report(verdict: Verdict, where: str, signers: list[str], published: PublishedHead | None) -> None:
    if not verdict.ok:
        errors.print(f"BAD: {where}: record {verdict.first_bad} is the first bad one: {verdict.reason} "
                     f"(the {verdict.first_bad - 1:,} records before it verify)")
        raise typer.Exit(1)
    tail = (f"; the last {verdict.unsigned_tail:,} records are not yet under a checkpoint (one is signed every "
            "[ledger] checkpoint_every events or checkpoint_interval_s seconds, and at shutdown)"
            if verdict.unsigned_tail else "")
    matched = "; the published head is in the chain" if published is not None else ""
    keys = f"all valid for key {', '.join(signers)}" if signers else "no checkpoint to check"
    console.print(f"OK: {where}: {verdict.records:,} records, {verdict.checkpoints:,} signed checkpoints, {keys}"
                  f"{matched}{tail}", markup=False)
    console.print(f"head: --records {verdict.records} --head {verdict.head_hash}  (publish these two values; "
                  "`gensandbox ledger verify` with them later proves nothing before them was rewritten or cut)",
                  markup=False, soft_wrap=True)


def export_ledger(output: Path, fmt: str | None, config_path: Path | None) -> None:
    config = load_config(config_path)
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
    public_keys = trusted_keys([], config)
    verdict = verify_lines(read_export(output), public_keys, require_signed_end=True, export=True)
    if not verdict.ok:
        raise ConfigError(f"the export {output} does not verify ({verdict.reason} at record {verdict.first_bad}); "
                          "the live ledger may be damaged: run `gensandbox ledger verify`")
    console.print(f"exported {count:,} records to {output} ({fmt}); verified: {verdict.checkpoints:,} signed "
                  f"checkpoints, head {verdict.head_hash[:16]}…, key {ledger.signer.key_id}")


def import_ledger(file: Path, public_key_path: Path | None, config_path: Path | None) -> None:
    from gensandbox.ledger.events import record_from_line

    config = load_config(config_path)
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
    console.print(f"imported {count:,} records into {backend.location}; verified again after import: head "
                  f"{after.head_hash[:16]}…, {after.checkpoints:,} checkpoints signed by {key_id(public_key)} "
                  f"(its public key is kept in {config.home / TRUSTED_KEYS_DIR})")


def show_public_key(output: Path | None, config_path: Path | None) -> None:
    config = load_config(config_path)
    signer = Signer.load_or_create(config.signing_key_path)
    pem = public_pem(signer.public_key)
    if output is None:
        sys.stdout.write(pem.decode())
        return
    output.write_bytes(pem)
    console.print(f"wrote the public key {signer.key_id} to {output}")


def check_receipt_cli(receipt: str, public_key_path: Path, body_path: Path | None) -> None:
    if receipt.startswith("@"):
        receipt = _read(Path(receipt[1:]), "receipt file").decode().strip()
    body = _read(body_path, "body file") if body_path else None
    result = check_receipt(receipt, load_public_key(public_key_path), body)
    if not result.ok:
        errors.print(f"INVALID: {result.reason}")
        raise typer.Exit(1)
    payload = result.payload
    console.print(f"VALID: {result.reason}. Model {payload['model']}, issued {payload['time']} by key "
                  f"{payload['key_id']}; ledger event {payload['event'][:16]}…")


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"{what} {path} not found") from None
