"""`gensandbox ledger …` and `gensandbox receipt verify`: the audit trail (verified by audits/record.py, moved by
ledger/transfer.py, sent as OpenTelemetry spans by ledger/otel.py) and the proof a response carries."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gensandbox.cli import digests
from gensandbox.cli.output import ConfigOption, console, errors

if TYPE_CHECKING:  # the CLI imports the engine only when a command runs, so --help stays instant
    from gensandbox.audits.record import RecordCheck
    from gensandbox.ledger.verify import PublishedHead

ledger_app = typer.Typer(help="The tamper-evident record of every model call: verify, export, import.",
                         no_args_is_help=True)
receipt_app = typer.Typer(help="Usage receipts that gateway responses carry.", no_args_is_help=True)
OTLP_HELP = "Send the spans to this OTLP/HTTP endpoint, e.g. http://127.0.0.1:4318/v1/traces."
FILE_HELP = "Write the spans to this OTLP/JSON file (what the Collector's otlpjsonfile receiver reads)."
PublicKeyOption = Annotated[Path | None, typer.Option("--public-key", help="The gateway's Ed25519 public key "
                                                      "(PEM), as `gensandbox ledger public-key` writes it.")]


@ledger_app.command("verify")
def verify(
    file: Annotated[Path | None, typer.Argument(help="An export (JSONL or Parquet); default: the live ledger.")]
    = None,
    public_key: Annotated[list[Path] | None, typer.Option("--public-key", help="A trusted Ed25519 public key "
                                                          "(PEM); repeat for several. Default: this machine's "
                                                          "and those of ledgers imported here.")] = None,
    records: Annotated[int | None, typer.Option("--records", min=1, help="A published head: the chain must "
                                                "still have this many records…")] = None,
    head: Annotated[str | None, typer.Option("--head", help="…and this hash at that record (as `ledger verify` "
                                             "printed it).")] = None,
    config_path: ConfigOption = None,
) -> None:
    """Check every record's hash and link and every checkpoint's signature; report OK or the first bad record."""
    from gensandbox.audits.record import verify_export, verify_home
    from gensandbox.config import load_config
    from gensandbox.ledger.verify import PublishedHead

    if head is not None and not re.fullmatch(r"[0-9a-f]{64}", head):
        raise typer.BadParameter("a head is 64 hexadecimal digits, as `gensandbox ledger verify` prints it",
                                 param_hint="--head")
    published = PublishedHead(records, head) if records is not None or head is not None else None
    config = load_config(config_path)
    check = verify_home(config, public_key or [], published) if file is None \
        else verify_export(config, file, public_key or [], published)
    _report(check, published)


@ledger_app.command("export")
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write (.jsonl or .parquet).")],
    fmt: Annotated[str | None, typer.Option("--format", help="jsonl or parquet (default: from the file name).")]
    = None,
    config_path: ConfigOption = None,
) -> None:
    """Write the whole ledger to a file, ending with a fresh signed checkpoint, and verify what was written."""
    from gensandbox.config import load_config
    from gensandbox.ledger.transfer import export_ledger

    done = export_ledger(load_config(config_path), output, fmt)
    console.print(f"exported {done.records:,} records to {output} ({done.format}); verified: "
                  f"{done.verdict.checkpoints:,} signed checkpoints, head {done.verdict.head_hash[:16]}…, key "
                  f"{done.key_id}")


@ledger_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="An export made by `gensandbox ledger export`.")],
    public_key: PublicKeyOption = None,
    config_path: ConfigOption = None,
) -> None:
    """Load an export into an empty ledger after verifying it, then verify the ledger it became."""
    from gensandbox.config import load_config
    from gensandbox.ledger.transfer import import_ledger

    done = import_ledger(load_config(config_path), file, public_key)
    console.print(f"imported {done.records:,} records into {done.location}; verified again after import: head "
                  f"{done.verdict.head_hash[:16]}…, {done.verdict.checkpoints:,} checkpoints signed by {done.key_id} "
                  f"(its public key is kept in {done.keys_dir})")


@ledger_app.command("public-key")
def public_key(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write it here instead of printing.")]
    = None,
    config_path: ConfigOption = None,
) -> None:
    """The public half of this machine's ledger signing key (created on first use), for verifiers."""
    import sys

    from gensandbox.config import load_config
    from gensandbox.ledger.signing import Signer, public_pem

    signer = Signer.load_or_create(load_config(config_path).signing_key_path)
    pem = public_pem(signer.public_key)
    if output is None:
        sys.stdout.write(pem.decode())
        return
    output.write_bytes(pem)
    console.print(f"wrote the public key {signer.key_id} to {output}")


@receipt_app.command("verify")
def verify_receipt(
    receipt: Annotated[str, typer.Argument(help="The x-gensandbox-receipt value, or @FILE holding it.")],
    public_key: Annotated[Path, typer.Option("--public-key", help="The gateway's public key (PEM).")],
    body: Annotated[Path | None, typer.Option("--body", help="The response body as received (for a streamed "
                                              "answer: its text), to prove it is unchanged.")] = None,
) -> None:
    """Prove a response came from this gateway and this model, and (with --body) that it is unchanged."""
    from gensandbox.ledger.signing import check_receipt, load_public_key

    if receipt.startswith("@"):
        receipt = _read(Path(receipt[1:]), "receipt file").decode().strip()
    result = check_receipt(receipt, load_public_key(public_key), _read(body, "body file") if body else None)
    if not result.ok:
        errors.print(f"INVALID: {result.reason}")
        raise typer.Exit(1)
    payload = result.payload
    console.print(f"VALID: {result.reason}. Model {payload['model']}, issued {payload['time']} by key "
                  f"{payload['key_id']}; ledger event {payload['event'][:16]}…")


ledger_app.command("project-key")(digests.project_key)
ledger_app.command("digest")(digests.digest)


@ledger_app.command("spans")
def spans(
    otlp: Annotated[str | None, typer.Option("--otlp", metavar="ENDPOINT", help=OTLP_HELP)] = None,
    file: Annotated[Path | None, typer.Option("--file", metavar="PATH", help=FILE_HELP)] = None,
    session: Annotated[str | None, typer.Option("--session", help="Only this session's calls (default: every "
                                                "call in the ledger).")] = None,
    config_path: ConfigOption = None,
) -> None:
    """Export the ledger's model calls as OpenTelemetry spans, to an OTLP/HTTP collector or an OTLP/JSON file."""
    from gensandbox.cli.trace import export_spans
    from gensandbox.config import load_config
    from gensandbox.errors import UserError
    from gensandbox.ledger.reading import call_records, session_calls
    from gensandbox.ledger.writer import open_backend

    if not otlp and not file:
        raise UserError("say where the spans go: --otlp ENDPOINT, --file PATH, or both")
    backend = open_backend(load_config(config_path).ledger_url)
    try:
        if session is not None:
            records = session_calls(backend, session)  # one session is small: read it once
            export_spans(lambda: iter(records), otlp, file, console)
        else:  # the whole ledger is streamed, once per destination, never held in memory
            export_spans(lambda: call_records(backend.lines()), otlp, file, console)
    finally:
        backend.close()


def _report(check: RecordCheck, published: PublishedHead | None) -> None:
    verdict, where = check.verdict, check.where
    if not verdict.ok:
        errors.print(f"BAD: {where}: record {verdict.first_bad} is the first bad one: {verdict.reason} "
                     f"(the {verdict.first_bad - 1:,} records before it verify)")
        raise typer.Exit(1)
    if check.missing:
        missing = check.missing
        runs = sorted(missing, key=lambda run: (-missing[run], run))
        shown = ", ".join(f"{run} ({missing[run]:,})" for run in runs[:5]) + (
            f" and {len(runs) - 5} more runs" if len(runs) > 5 else "")
        plural = "s" if len(runs) > 1 else ""
        errors.print(f"BAD: {where}: the chain verifies ({verdict.records:,} records), but "
                     f"{sum(missing.values()):,} stored samples have no call event, in run{plural} {shown}; "
                     f"`gensandbox run --resume {runs[0]}` writes them, run by run", markup=False, soft_wrap=True)
        raise typer.Exit(1)
    tail = (f"; the last {verdict.unsigned_tail:,} records are not yet under a checkpoint (one is signed every "
            "[ledger] checkpoint_every events or checkpoint_interval_s seconds, and at shutdown)"
            if verdict.unsigned_tail else "")
    matched = "; the published head is in the chain" if published is not None else ""
    keys = f"all valid for key {', '.join(check.signers)}" if check.signers else "no checkpoint to check"
    console.print(f"OK: {where}: {verdict.records:,} records, {verdict.checkpoints:,} signed checkpoints, {keys}"
                  f"{matched}{tail}", markup=False)
    console.print(f"head: --records {verdict.records} --head {verdict.head_hash}  (publish these two values; "
                  "`gensandbox ledger verify` with them later proves nothing before them was rewritten or cut)",
                  markup=False, soft_wrap=True)


def _read(path: Path, what: str) -> bytes:
    from gensandbox.errors import NotFoundError

    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"{what} {path} not found") from None
