"""Held-out test custody as a tester carries it out: commit to a suite before testing, evaluate the committed
items while the ledger and the store keep only hashes of them, reveal them afterwards, and let anyone verify that
the revealed items are the committed ones and that a run used exactly them (audits/holdout.py has the pieces).
Each step is recorded in the audit store."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from gensandbox.audits import holdout
from gensandbox.calls.models import resolve_model
from gensandbox.calls.targets import target_for
from gensandbox.canonical import now_utc, sha256_hex
from gensandbox.config import Config
from gensandbox.errors import ConfigError, NotFoundError, UserError
from gensandbox.ledger.digests import (
    DEFAULT_PROJECT,
    DIGEST_RUN,
    event_digest,
    keyed_digest,
    parse_key,
    run_key,
    run_prompt_key,
)
from gensandbox.ledger.exports import read_export
from gensandbox.ledger.signing import Signer, key_id, load_public_key
from gensandbox.ledger.verify import verify_lines
from gensandbox.ledger.writer import open_backend, open_digest_keys
from gensandbox.providers import load_price_table
from gensandbox.runner import RunPlan, ScoringContext, new_run_id, run_record
from gensandbox.runner.plan import judge_targets, options_from
from gensandbox.runner.suite import resolve_suite
from gensandbox.store import SQLStore, open_store
from gensandbox.store.audits import AuditStore

__all__ = ["Committed", "Verified", "commit_suite", "hashes_only", "plan_custody_run", "reveal_items",
           "verify_custody"]


@dataclass(frozen=True)
class Committed:
    suite: str
    items: int
    root: str
    commitment: Path  # public: publish it
    opening: Path  # private (mode 600): the items and salts


def commit_suite(config: Config, store: SQLStore, spec: str, output: Path | None = None,
                 opening_path: Path | None = None) -> Committed:
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
    return Committed(suite.name, len(items), public["root"], output, opening_path)


def hashes_only(config: Config) -> Config:
    """The config with ledger privacy forced to "hashes", whatever gensandbox.toml says."""
    ledger = config.file.ledger.model_copy(update={"privacy": "hashes"})
    return replace(config, file=config.file.model_copy(update={"ledger": ledger}))


def plan_custody_run(config: Config, opening_path: Path, models: list[str] | None = None, run_id: str | None = None,
                     epochs: int | None = None, max_cost: float | None = None,
                     judge: str | None = None) -> tuple[RunPlan, SQLStore, ScoringContext, str]:
    """The custody run's plan, in a store that keeps only hashes of its samples (`config` must be `hashes_only`),
    listed in the opening before any call; returns (plan, store, scoring, the commitment's root)."""
    opening = holdout.read_opening(opening_path)
    suite = holdout.held_out_suite(opening, holdout.items_of(opening, f"opening {opening_path}"))
    # No response cache: a cached answer makes no model call, so leaves no ledger event to verify.
    options = options_from(config.file.run, epochs=epochs, use_cache=False, max_cost_usd=max_cost)
    targets, prices = _targets(config, models or config.file.run.models)
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
    return plan, store, ScoringContext(judges=judges, default_judge=judge), opening["root"]


def _targets(config: Config, specs: list[str]):
    if not specs:
        raise UserError("no models to run; name some with --models or in [run] of gensandbox.toml")
    prices = load_price_table(config.price_file)
    models = {model.name: model for model in (resolve_model(spec, config) for spec in specs)}
    return [target_for(model, config, prices) for model in models.values()], prices


def reveal_items(opening_path: Path, output: Path, config: Config | None = None) -> tuple[int, list[str], str]:
    """Write the committed items with their salts; returns (items, custody runs, the commitment's path). With
    this machine's `config`, each custody run's prompt key goes with them: it opens which prompts the run sent
    (public by now) and nothing else of the ledger, so anyone can check the run's calls against the items."""
    opening = holdout.read_opening(opening_path)
    revealed = holdout.revealed_from(opening, now_utc())
    if config is not None and opening.get("runs"):
        keys = open_digest_keys(config)
        revealed["prompt_keys"] = {run["run_id"]: run_prompt_key(run_key(keys.for_project(run.get(
            "project", DEFAULT_PROJECT)), run["run_id"])).hex() for run in opening["runs"]}
    holdout.write_json(output, revealed)
    return len(opening["items"]), [run["run_id"] for run in opening.get("runs", [])], opening.get("commitment",
                                                                                                 "COMMITMENT")


@dataclass(frozen=True)
class Verified:
    ok: bool
    line: str  # what was shown to hold
    problem: str | None  # the first mismatch


def verify_custody(config: Config, store: SQLStore, commitment_path: Path, revealed_path: Path,
                   run_id: str | None = None, ledger_path: Path | None = None,
                   public_key_path: Path | None = None) -> Verified:
    commitment = holdout.read_document(commitment_path, "commitment")
    revealed = holdout.read_document(revealed_path, "revealed file")
    outcome = {"action": "verify", "root": commitment["root"], "suite_name": revealed["suite_name"],
               "items": commitment["items"], "run_id": run_id}
    problem = holdout.compare_to_commitment(commitment, revealed)
    line = f"the {commitment['items']} revealed items are the committed ones (root {commitment['root'][:16]}…)"
    if problem is None and run_id:
        check, ledger_note = _check_run(revealed, run_id, ledger_path, public_key_path, config, store)
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
    return Verified(problem is None, line, problem)


def _check_run(revealed: dict, run_id: str, ledger_path: Path | None, public_key_path: Path | None,
               config: Config, store: SQLStore):
    """The run's call events from a verified ledger, checked against the revealed items' prompts."""
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
    expected = {item.id: holdout.item_prompt_bytes(item) for item in items}
    try:  # the tester's own store knows the run's models and epochs; a verifier elsewhere reads them off the ledger
        record = store.get_run(run_id)
        models, epochs = [m["name"] for m in record.models], record.settings.get("epochs")
    except NotFoundError:
        models, epochs = None, None
    check = holdout.check_run(events, run_id, revealed["suite_name"], expected, models, epochs,
                              _prompt_digest(revealed, run_id, config))
    return check, f"ledger verified ({verdict.records:,} records, key {key_id(public_key)})"


def _prompt_digest(revealed: dict, run_id: str, config: Config):
    """How the run's prompt digests are checked: with the prompt key the reveal published, else (on the tester's
    own machine) with this machine's keys; events from before keyed digests hold plain sha256."""
    published = revealed.get("prompt_keys", {}).get(run_id)

    def digest(event: dict, data: bytes) -> str:
        how = event.get("gensandbox.digest")
        if how is None:
            return sha256_hex(data)
        if how == DIGEST_RUN and published:
            return keyed_digest(parse_key(published, "the revealed file's prompt key"), data)
        if not config.signing_key_path.exists():
            raise ConfigError(f"run {run_id}'s prompts are keyed digests and the revealed file carries no prompt "
                              "key for it: ask the tester to reveal again with `gensandbox holdout reveal`")
        project_key = open_digest_keys(config).for_project(event.get("gensandbox.project", DEFAULT_PROJECT))
        return event_digest(event, project_key, data, prompt=True)

    return digest


def _tie_problem(store: SQLStore, run_id: str, root: str) -> str | None:
    """When this machine's store has the run, it must have been made from this commitment."""
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
