"""`gensandbox ledger …` and `gensandbox receipt verify`: the audit trail and the proof a response carries."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from gensandbox.cli.output import ConfigOption

ledger_app = typer.Typer(help="The tamper-evident record of every model call: verify, export, import.",
                         no_args_is_help=True)
receipt_app = typer.Typer(help="Usage receipts that gateway responses carry.", no_args_is_help=True)
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
    from gensandbox.cli.ledgering import verify_ledger
    from gensandbox.ledger.verify import PublishedHead

    if head is not None and not re.fullmatch(r"[0-9a-f]{64}", head):
        raise typer.BadParameter("a head is 64 hexadecimal digits, as `gensandbox ledger verify` prints it",
                                 param_hint="--head")
    published = PublishedHead(records, head) if records is not None or head is not None else None
    verify_ledger(file, public_key or [], config_path, published)


@ledger_app.command("export")
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write (.jsonl or .parquet).")],
    fmt: Annotated[str | None, typer.Option("--format", help="jsonl or parquet (default: from the file name).")]
    = None,
    config_path: ConfigOption = None,
) -> None:
    """Write the whole ledger to a file, ending with a fresh signed checkpoint, and verify what was written."""
    from gensandbox.cli.ledgering import export_ledger

    export_ledger(output, fmt, config_path)


@ledger_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="An export made by `gensandbox ledger export`.")],
    public_key: PublicKeyOption = None,
    config_path: ConfigOption = None,
) -> None:
    """Load an export into an empty ledger after verifying it, then verify the ledger it became."""
    from gensandbox.cli.ledgering import import_ledger

    import_ledger(file, public_key, config_path)


@ledger_app.command("public-key")
def public_key(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write it here instead of printing.")]
    = None,
    config_path: ConfigOption = None,
) -> None:
    """The public half of this machine's ledger signing key (created on first use), for verifiers."""
    from gensandbox.cli.ledgering import show_public_key

    show_public_key(output, config_path)


@receipt_app.command("verify")
def verify_receipt(
    receipt: Annotated[str, typer.Argument(help="The x-gensandbox-receipt value, or @FILE holding it.")],
    public_key: Annotated[Path, typer.Option("--public-key", help="The gateway's public key (PEM).")],
    body: Annotated[Path | None, typer.Option("--body", help="The response body as received (for a streamed "
                                              "answer: its text), to prove it is unchanged.")] = None,
) -> None:
    """Prove a response came from this gateway and this model, and (with --body) that it is unchanged."""
    from gensandbox.cli.ledgering import check_receipt_cli

    check_receipt_cli(receipt, public_key, body)
