"""What `gensandbox variant …` does once its options are parsed: list, show, export, import, compare."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from gensandbox.cli.output import console, load, split_names
from gensandbox.config import ROUTE_PREFIX, VARIANT_PREFIX, Config, VariantConfig, load_config
from gensandbox.config.loading import imported_variants
from gensandbox.errors import NotFoundError, UserError
from gensandbox.runner import PairedComparison, compare_models
from gensandbox.runner.stats import SIGNIFICANCE
from gensandbox.store import ScoreRow
from gensandbox.variants.definition import folder_digest, variant_version
from gensandbox.variants.documents import documents_digest, read_documents
from gensandbox.variants.export import check_definition, export_document, read_export, variants_toml


def variant_named(config: Config, name: str) -> VariantConfig:
    name = name.removeprefix(VARIANT_PREFIX)
    if name not in config.variants:
        known = ", ".join(sorted(config.variants)) or "none yet"
        raise NotFoundError(f"unknown variant `{name}`; known variants: {known}")
    return config.variants[name]


def version_of(variant: VariantConfig) -> str:
    return variant_version(variant, folder_digest(variant))


def list_variants(config_path: Path | None) -> None:
    config = load_config(config_path)
    if not config.variants:
        console.print("No variants yet: add [[variants]] to gensandbox.toml, or `gensandbox variant import FILE`",
                      markup=False)
        return
    table = Table("variant", "base", "version", "retrieval", "post-processing")
    for variant in config.variants.values():
        try:
            version = version_of(variant)
        except UserError as error:  # one broken folder should not hide the other variants
            version = f"unavailable: {error}"
        retrieval = variant.retrieval
        table.add_row(VARIANT_PREFIX + variant.name, variant.base, version,
                      f"{retrieval.folder} ({retrieval.embedding}, top {retrieval.top_k})" if retrieval else "–",
                      ", ".join(variant.post_process) or "–")
    console.print(table)


def show_variant(name: str, config_path: Path | None) -> None:
    variant = variant_named(load_config(config_path), name)
    console.print(f"{VARIANT_PREFIX}{variant.name}  version {version_of(variant)}")
    print(variants_toml([variant]).split("\n\n", 1)[1], end="")
    if variant.retrieval:
        for document in read_documents(Path(variant.retrieval.folder)):
            console.print(f"  document {document.path} ({len(document.data):,} bytes)")


def export_variant(name: str, output: Path, config_path: Path | None) -> None:
    variant = variant_named(load_config(config_path), name)
    documents = read_documents(Path(variant.retrieval.folder)) if variant.retrieval else []
    version = variant_version(variant, documents_digest(documents) if variant.retrieval else None)
    output.write_text(json.dumps(export_document(variant, version, documents), ensure_ascii=False, indent=1),
                      encoding="utf-8")
    console.print(f"exported {VARIANT_PREFIX}{variant.name} version {version} ({len(documents)} documents) to "
                  f"{output}")


def import_variant(file: Path, base: str | None, force: bool, config_path: Path | None) -> None:
    config = load_config(config_path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise NotFoundError(f"cannot read {file}: {error.strerror}") from None
    except ValueError as error:
        raise UserError(f"{file}: not JSON ({error})") from None
    exported = read_export(data, str(file))
    definition = {**exported.definition, "base": base or exported.definition["base"]}
    _check_can_import(config, exported.name, definition["base"], force)
    folder = f"variants/{exported.name}/docs"
    variant = check_definition(exported.name, definition, folder, str(file))
    _write_documents(config.home / folder, exported.documents)
    others = [v for v in imported_variants(config.home) if v.name != variant.name]
    config.variants_path.write_text(variants_toml([*others, variant]), encoding="utf-8")
    version = variant_version(variant, documents_digest(exported.documents) if variant.retrieval else None)
    console.print(f"imported {VARIANT_PREFIX}{variant.name} version {version} into {config.variants_path}")
    if base and base != exported.definition["base"]:
        console.print(f"re-based from {exported.definition['base']} to {base}: a new version "
                      f"(exported as {exported.version})")
    elif version != exported.version:
        console.print(f"note: exported as version {exported.version}; this GenSandbox computes {version}")


def _check_can_import(config: Config, name: str, base: str, force: bool) -> None:
    imported = {v.name for v in imported_variants(config.home)}
    if name in config.variants and name not in imported:
        raise UserError(f"variant `{name}` is defined in gensandbox.toml, which would hide the import; "
                        "rename or remove it there first")
    if name in imported and not force:
        raise UserError(f"variant `{name}` was imported before; pass --force to replace it")
    if not base.startswith(ROUTE_PREFIX) and base not in config.models:
        raise NotFoundError(f"the variant's base `{base}` is not a model here; pass --base MODEL to re-base it "
                            "(see `gensandbox models`)")


def _write_documents(folder: Path, documents) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    for document in documents:
        path = folder / document.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(document.data)


# ---- compare ----


@dataclass(frozen=True)
class GroupComparison:
    group: str  # "all", "category: …" or "language: …"
    comparison: PairedComparison


def verdict(comparison: PairedComparison) -> str:
    """Helps or hurts only when the 95% CI excludes 0 and the permutation test agrees (p < 0.05): with a
    handful of items the bootstrap interval alone can exclude 0 by chance."""
    if comparison.p_value < SIGNIFICANCE and comparison.ci_low > 0:
        return "helps"
    if comparison.p_value < SIGNIFICANCE and comparison.ci_high < 0:
        return "hurts"
    return "no measurable difference"


def compare_by_group(rows: list[ScoreRow], variant: str, base: str) -> list[GroupComparison]:
    """variant − base over all items, then per category and per language (groups both scored)."""
    groups = [("all", rows)]
    for field in ("category", "language"):
        for value in sorted({getattr(r, field) for r in rows if r.model in (variant, base)}):
            groups.append((f"{field}: {value}", [r for r in rows if getattr(r, field) == value]))
    found = []
    for label, members in groups:
        try:
            found.append(GroupComparison(label, compare_models(members, variant, base)))
        except UserError:  # no item both answered in this group
            continue
    return found


def comparison_table(variant: str, base: str, groups: list[GroupComparison]) -> Table:
    table = Table(title=f"{variant} vs {base}", title_justify="left")
    for header in ("group", "n", base, variant, "difference", "95% CI", "p", "verdict"):
        table.add_column(header, justify="left" if header in ("group", "verdict") else "right", no_wrap=True)
    for group in groups:
        c = group.comparison
        table.add_row(group.group, str(c.n), f"{c.second_score:.1%}", f"{c.first_score:.1%}",
                      f"{c.difference * 100:+.1f} pts", f"{c.ci_low * 100:+.1f} to {c.ci_high * 100:+.1f}",
                      f"{c.p_value:.4f}", verdict(c))
    return table


def compare_variant(name: str, suites: str | None, models: str | None, run_id: str | None, max_cost: float | None,
                    epochs: int | None, config_path: Path | None) -> None:
    from gensandbox.cli.running import evaluate
    from gensandbox.runner import ScoringContext, build_plan, run_record
    from gensandbox.runner.plan import judge_targets, options_from

    config, store = load(config_path)
    variant = variant_named(config, name)
    pairs = variant_pairs(variant, split_names(models))
    options = options_from(config.file.run, epochs=epochs, max_cost_usd=max_cost)
    plan, prices = build_plan(config, [spec for pair in pairs for spec in pair],
                              split_names(suites) or config.file.run.suites, options, run_id)
    judges = judge_targets(config, prices, config.file.run.judge, plan.suites)
    store.create_run(run_record(plan, prices, list(judges.values()), default_judge=config.file.run.judge))
    evaluate(plan, store, config, ScoringContext(judges=judges, default_judge=config.file.run.judge), None)
    rows = list(store.score_rows(plan.run_id))
    for variant_spec, base in pairs:
        groups = compare_by_group(rows, variant_spec, base)
        if not groups:
            raise UserError(f"{variant_spec} and {base} have no scored items in common in run {plan.run_id}")
        console.print(comparison_table(variant_spec, base, groups))
        overall = groups[0].comparison
        console.print(f"{variant_spec} on {base}: {verdict(overall)}. {overall.sentence()}")


def variant_pairs(variant: VariantConfig, models: list[str] | None) -> list[tuple[str, str]]:
    """(variant, base) to compare: on its own base, or re-based on each of --models."""
    if not models and variant.base.startswith(ROUTE_PREFIX):
        raise UserError(f"variant `{variant.name}` is based on the route `{variant.base}`; name the models to "
                        "compare it on with --models")
    own = VARIANT_PREFIX + variant.name
    return [(own if model == variant.base else f"{own}@{model}", model) for model in models or [variant.base]]
