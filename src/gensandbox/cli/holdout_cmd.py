"""`gensandbox holdout …`: commit to a held-out test set, evaluate with custody, reveal, verify.

The commands parse options here; what they do follows below them, with the engine imported inside each
function so that `gensandbox --help` stays instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gensandbox.cli.output import ConfigOption, finite_usd

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
    commit_suite(suite, output, opening, config_path)


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
    custody_run(opening, models, run_id, epochs, max_cost, judge, config_path)


@holdout_app.command("reveal")
def reveal(
    opening: OpeningOption,
    output: Annotated[Path, typer.Option("--output", "-o", help="The revealed items to publish.")],
) -> None:
    """After testing: write the committed items with their salts, for anyone to verify."""
    reveal_items(opening, output)


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
    verify_custody(commitment, revealed, run_id, ledger, public_key, config_path)


# ---- what the commands do ----


def commit_suite(spec: str, output: Path | None, opening_path: Path | None, config_path: Path | None) -> None:
    from gensandbox.audits import holdout
    from gensandbox.canonical import now_utc
    from gensandbox.cli.output import console, load
    from gensandbox.errors import UserError
    from gensandbox.runner.suite import resolve_suite
    from gensandbox.store.audits import AuditStore

    config, store = load(config_path)
    suite = resolve_suite(spec, config)
    output = output or Path(f"{suite.name}.commitment.json")
    opening_path = opening_path or output.with_name(f"{output.name.removesuffix('.json').removesuffix('.commitment')}"
                                                    ".opening.json")
    for path in (opening_path, output):  # before writing either, so a refusal leaves nothing half-made
        if path.exists():
            raise UserError(f"{path} already exists; choose another name (overwriting a commitment or an opening "
                            "loses the salts needed to reveal it)")
    items = [item.model_dump(mode="json") for item in suite.iter_items()]
    public, private = holdout.make_commitment(holdout.salted(items), suite.name, now_utc())
    private["commitment"] = str(output)  # where the public half went, for the hint `reveal` prints
    holdout.write_json(opening_path, private, private=True, replace_existing=False)  # first: the salts matter most
    holdout.write_json(output, public, replace_existing=False)
    AuditStore(store).save("holdout", f"committed {len(items)} items of suite {suite.name}: root {public['root']}",
                           {"action": "commit", **{k: v for k, v in public.items() if k != "leaves"},
                            "commitment": str(output)})
    console.print(f"committed {len(items)} items of suite {suite.name}\nroot: {public['root']}\n"
                  f"publish now: {output} (or just the root): it reveals only the number of items and when they "
                  "were committed\n"
                  f"keep private: {opening_path} (mode 600): the items and salts, needed for `holdout run` and "
                  "`holdout reveal`", markup=False, highlight=False)


def custody_run(opening_path: Path, models: str | None, run_id: str | None, epochs: int | None,
                max_cost: float | None, judge: str | None, config_path: Path | None) -> None:
    from dataclasses import replace

    from gensandbox.audits import holdout
    from gensandbox.canonical import now_utc
    from gensandbox.cli.output import console, split_names
    from gensandbox.cli.run import evaluate
    from gensandbox.config import load_config
    from gensandbox.runner import RunPlan, ScoringContext, new_run_id, run_record
    from gensandbox.runner.plan import judge_targets, options_from
    from gensandbox.store import open_store
    from gensandbox.store.audits import AuditStore

    config = _hashes_only(load_config(config_path))
    opening = holdout.read_opening(opening_path)
    suite = holdout.held_out_suite(opening, holdout.items_of(opening, f"opening {opening_path}"))
    # No response cache: a cached answer makes no model call, so leaves no ledger event to verify.
    options = options_from(config.file.run, epochs=epochs, use_cache=False, max_cost_usd=max_cost)
    targets, prices = _targets(config, split_names(models) or config.file.run.models)
    plan = RunPlan(run_id=run_id or new_run_id(), targets=targets, suites=[suite], options=options)
    judges = judge_targets(config, prices, judge or config.file.run.judge, plan.suites)
    record = run_record(plan, prices, list(judges.values()), default_judge=judge)
    custody = {"scheme": holdout.SCHEME, "root": opening["root"], "items": suite.count,
               "ledger_privacy": "hashes", "samples": "redacted"}
    store = holdout.HeldOutStore(open_store(config))
    store.create_run(replace(record, settings={**record.settings, "holdout": custody}))
    opening["runs"] = [*opening.get("runs", []), {"run_id": plan.run_id, "models": [t.model.name for t in targets],
                                                  "epochs": options.epochs, "started_at": now_utc()}]
    holdout.write_json(opening_path, opening, private=True)  # before the calls: an interrupted run is listed too
    AuditStore(store).save("holdout", f"custody run {plan.run_id} on commitment {opening['root'][:16]}…",
                           {"action": "run", "run_id": plan.run_id, **custody})
    evaluate(plan, store, config, ScoringContext(judges=judges, default_judge=judge), None)
    console.print(f"custody run {plan.run_id} of commitment {opening['root'][:16]}…: the ledger and the store hold "
                  f"only hashes of its prompts and answers; recorded in {opening_path}", markup=False, highlight=False)


def _hashes_only(config):
    """The config with ledger privacy forced to "hashes", whatever gensandbox.toml says."""
    from dataclasses import replace

    ledger = config.file.ledger.model_copy(update={"privacy": "hashes"})
    return replace(config, file=config.file.model_copy(update={"ledger": ledger}))


def _targets(config, specs: list[str]):
    from gensandbox.calls.models import resolve_model
    from gensandbox.calls.targets import target_for
    from gensandbox.errors import UserError
    from gensandbox.providers import load_price_table

    if not specs:
        raise UserError("no models to run; name some with --models or in [run] of gensandbox.toml")
    prices = load_price_table(config.price_file)
    models = {model.name: model for model in (resolve_model(spec, config) for spec in specs)}
    return [target_for(model, config, prices) for model in models.values()], prices


def reveal_items(opening_path: Path, output: Path) -> None:
    from gensandbox.audits import holdout
    from gensandbox.canonical import now_utc
    from gensandbox.cli.output import console

    opening = holdout.read_opening(opening_path)
    holdout.write_json(output, holdout.revealed_from(opening, now_utc()))
    runs = [run["run_id"] for run in opening.get("runs", [])]
    console.print(f"revealed {len(opening['items'])} items with their salts to {output}; anyone can now check "
                  f"them: gensandbox holdout verify --commitment {opening.get('commitment', 'COMMITMENT')} "
                  f"--revealed {output} --run {runs[-1] if runs else 'RUN_ID'}"
                  + (f" (custody runs of these items: {', '.join(runs)})" if runs else ""),
                  markup=False, highlight=False)


def verify_custody(commitment_path: Path, revealed_path: Path, run_id: str | None, ledger_path: Path | None,
                   public_key_path: Path | None, config_path: Path | None) -> None:
    from gensandbox.audits import holdout
    from gensandbox.cli.output import console, errors, load
    from gensandbox.store.audits import AuditStore

    commitment = holdout.read_document(commitment_path, "commitment")
    revealed = holdout.read_document(revealed_path, "revealed file")
    config, store = load(config_path)
    outcome = {"action": "verify", "root": commitment["root"], "suite_name": revealed["suite_name"],
               "items": commitment["items"], "run_id": run_id}
    problem = holdout.compare_to_commitment(commitment, revealed)
    line = f"the {commitment['items']} revealed items are the committed ones (root {commitment['root'][:16]}…)"
    if problem is None and run_id:
        check, ledger_note = _check_run(holdout, revealed, run_id, ledger_path, public_key_path, config, store)
        outcome["run"] = check.summary()
        problem = check.first_problem() if not check.ok else _tie_problem(store, run_id, commitment["root"])
        problem = problem and f"run {run_id}: {problem}; {check.counts()}"
        line += (f"; run {run_id}: {check.calls} calls ({_count(len(check.models), 'model')} × "
                 f"{_count(len(check.epochs), 'epoch')} × {_count(check.items, 'item')}) used exactly those items: "
                 f"none swapped, missing or added; {ledger_note}"
                 + (f"; note: {check.with_content} events carry the prompt text (ledger privacy was not "
                    "\"hashes\")" if check.with_content else ""))
    outcome["ok"] = problem is None
    AuditStore(store).save("holdout", f"MISMATCH: {problem}" if problem else f"OK: {line}", outcome)
    if problem:
        errors.print(f"MISMATCH: {problem}", markup=False)
        raise typer.Exit(1)
    console.print(f"OK: {line}", markup=False, highlight=False)


def _check_run(holdout, revealed: dict, run_id: str, ledger_path: Path | None, public_key_path: Path | None,
               config, store):
    """The run's call events from a verified ledger, checked against the revealed items' prompts."""
    from gensandbox.errors import ConfigError, NotFoundError
    from gensandbox.ledger.exports import read_export
    from gensandbox.ledger.signing import Signer, key_id, load_public_key
    from gensandbox.ledger.verify import verify_lines
    from gensandbox.ledger.writer import open_backend

    if ledger_path is not None and public_key_path is None:
        raise ConfigError("pass --public-key with --ledger: the key of the machine that made the export, so its "
                          "records can be trusted")
    if public_key_path is None and not config.signing_key_path.exists():
        raise ConfigError("this machine has no ledger key; pass --ledger EXPORT and --public-key KEY")
    public_key = (load_public_key(public_key_path) if public_key_path
                  else Signer.load_or_create(config.signing_key_path).public_key)
    events: list[dict] = []
    backend = None if ledger_path else open_backend(config.ledger_url)
    try:
        lines = read_export(ledger_path) if ledger_path else backend.lines()
        verdict = verify_lines(holdout.tap_run_events(lines, run_id, events), public_key,
                               require_signed_end=ledger_path is not None)
    finally:
        if backend is not None:
            backend.close()
    if not verdict.ok:
        raise ConfigError(f"the ledger does not verify (record {verdict.first_bad}: {verdict.reason}); nothing "
                          f"can be concluded about run {run_id}")
    items = holdout.items_of(revealed, "revealed file")
    expected = {item.id: holdout.item_prompt_sha256(item) for item in items}
    try:  # the tester's own store knows the run's models and epochs; a verifier elsewhere reads them off the ledger
        record = store.get_run(run_id)
        models, epochs = [m["name"] for m in record.models], record.settings.get("epochs")
    except NotFoundError:
        models, epochs = None, None
    check = holdout.check_run(events, run_id, revealed["suite_name"], expected, models, epochs)
    return check, f"ledger verified ({verdict.records:,} records, key {key_id(public_key)})"


def _tie_problem(store, run_id: str, root: str) -> str | None:
    """When this machine's store has the run, it must have been made from this commitment."""
    from gensandbox.errors import NotFoundError

    try:
        custody = store.get_run(run_id).settings.get("holdout") or {}
    except NotFoundError:
        return None
    if custody.get("root") != root:
        return (f"the store says this run was made from commitment {str(custody.get('root'))[:16]}…, not "
                f"{root[:16]}…")
    return None


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
