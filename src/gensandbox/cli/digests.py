"""`gensandbox ledger project-key` and `ledger digest`: a project's digest key, handed out by the operator, and a
text checked against an event's keyed digests by whoever holds that key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gensandbox.cli.output import ConfigOption, console

KEY_HELP = "The project's digest key (64 hex digits, as `gensandbox ledger project-key` prints it)."


def project_key(
    project: Annotated[str, typer.Option("--project", help="The project whose key to print.")] = "default",
    config_path: ConfigOption = None,
) -> None:
    """Print a project's digest key: whoever holds it can check texts against that project's ledger events (and
    nothing else). Give it to the project's own parties only."""
    from gensandbox.config import load_config
    from gensandbox.ledger.writer import open_digest_keys

    print(open_digest_keys(load_config(config_path)).for_project(project).hex())


def digest(
    text: Annotated[str, typer.Argument(help="The text to check: a prompt's user message, or an answer.")],
    key: Annotated[str, typer.Option("--key", help=KEY_HELP)],
    seq: Annotated[int, typer.Option("--seq", min=1, help="The ledger record to check it against.")],
    ledger: Annotated[Path | None, typer.Option("--ledger", help="An export (JSONL) instead of this machine's "
                                                "ledger.")] = None,
    config_path: ConfigOption = None,
) -> None:
    """Does TEXT match record SEQ's prompt (as its one user message) or its answer? Checked with the project's key."""
    from gensandbox.ledger.digest_check import check_text

    found = check_text(text, key, seq, ledger, config_path)
    console.print(found, markup=False, highlight=False)
