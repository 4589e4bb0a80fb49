"""`gensandbox holdout …`: commit to a held-out test set, evaluate with custody, reveal, verify (audits/custody.py).

Each command imports the engine only when it runs, so that `gensandbox --help` stays instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gensandbox.cli.output import ConfigOption, console, errors, finite_usd, load, split_names

holdout_app = typer.Typer(help="Held-out test custody: commit to a test set before testing, evaluate while the "
                          "ledger keeps only hashes, reveal, and let anyone verify no item was swapped.",
                          no_args_is_help=True)
OpeningOption = Annotated[Path, typer.Option("--opening", help="The private opening `holdout commit` wrote "
                                             "(the items and their salts).")]


@holdout_app.command("commit")
def commit(
    suite: Annotated[str, typer.Argument(help="A suite: a name, a .jsonl/.csv/.yaml path or LAYOUT:PATH.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="The public commitment to write "
                                                "(default: SUITE.commitment.json).")] = None,
    opening: Annotated[Path | None, typer.Option("--opening", help="The private opening to write (default: "
                                                 "beside the commitment, NAME.opening.json).")] = None,
    config_path: ConfigOption = None,
) -> None:
    """Commit to a suite's items before testing: a public salted Merkle root, and a private opening."""
    from gensandbox.audits.custody import commit_suite

    config, store = load(config_path)
    done = commit_suite(config, store, suite, output, opening)
    console.print(f"committed {done.items} items of suite {done.suite}\nroot: {done.root}\n"
                  f"publish now: {done.commitment} (or just the root): it reveals only the number of items and when "
                  "they were committed\n"
                  f"keep private: {done.opening} (mode 600): the items and salts, needed for `holdout run` and "
                  "`holdout reveal`", markup=False, highlight=False)


@holdout_app.command("run")
def run(
    opening: OpeningOption,
    models: Annotated[str | None, typer.Option("--models", "-m", help="Comma-separated model names.")] = None,
    run_id: Annotated[str | None, typer.Option("--run-id", help="Name this run (default: time-based).")] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", min=1, help="Repeat every item N times.")] = None,
    max_cost: Annotated[float | None, typer.Option("--max-cost", min=0.0, help="Refuse to start, or stop, "
                                                   "before spending more than this many USD.",
                                                   callback=finite_usd)] = None,
    judge: Annotated[str | None, typer.Option("--judge", help="Model that grades judge-scored items.")] = None,
    config_path: ConfigOption = None,
) -> None:
    """Evaluate models on the committed items; the ledger and the store keep only hashes of them."""
    from gensandbox.audits.custody import hashes_only, plan_custody_run
    from gensandbox.cli.run import evaluate
    from gensandbox.config import load_config

    config = hashes_only(load_config(config_path))
    plan, store, scoring, root = plan_custody_run(config, opening, split_names(models), run_id, epochs, max_cost,
                                                  judge)
    evaluate(plan, store, config, scoring, None)
    console.print(f"custody run {plan.run_id} of commitment {root[:16]}…: the ledger and the store hold only hashes "
                  f"of its prompts and answers; recorded in {opening}", markup=False, highlight=False)


@holdout_app.command("reveal")
def reveal(
    opening: OpeningOption,
    output: Annotated[Path, typer.Option("--output", "-o", help="The revealed items to publish.")],
    config_path: ConfigOption = None,
) -> None:
    """After testing: write the committed items with their salts (and each custody run's prompt key), for anyone
    to verify."""
    from gensandbox.audits.custody import reveal_items
    from gensandbox.config import load_config

    items, runs, commitment = reveal_items(opening, output, load_config(config_path))
    console.print(f"revealed {items} items with their salts to {output}; anyone can now check "
                  f"them: gensandbox holdout verify --commitment {commitment} "
                  f"--revealed {output} --run {runs[-1] if runs else 'RUN_ID'}"
                  + (f" (custody runs of these items: {', '.join(runs)})" if runs else ""),
                  markup=False, highlight=False)


@holdout_app.command("verify")
def verify(
    commitment: Annotated[Path, typer.Option("--commitment", help="The commitment published before testing.")],
    revealed: Annotated[Path, typer.Option("--revealed", help="The revealed items and salts.")],
    run_id: Annotated[str | None, typer.Option("--run", help="Also check this run's ledger events.")] = None,
    ledger: Annotated[Path | None, typer.Option("--ledger", help="A `gensandbox ledger export` file (default: "
                                                "the live ledger).")] = None,
    public_key: Annotated[Path | None, typer.Option("--public-key", help="The ledger's Ed25519 public key "
                                                    "(needed with --ledger).")] = None,
    config_path: ConfigOption = None,
) -> None:
    """Check the revealed items are the committed ones and, with --run, that the run used exactly them."""
    from gensandbox.audits.custody import verify_custody

    config, store = load(config_path)
    verified = verify_custody(config, store, commitment, revealed, run_id, ledger, public_key)
    if not verified.ok:
        errors.print(f"MISMATCH: {verified.problem}", markup=False)
        raise typer.Exit(1)
    console.print(f"OK: {verified.line}", markup=False, highlight=False)
