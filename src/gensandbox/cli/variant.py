"""`gensandbox variant …`: customised models (a base model plus prompt, examples, parameters,
post-processing and retrieval over your documents), listed, shown, moved between machines and measured.

Each command calls variants/catalogue.py or runner/variant_compare.py and prints; the library is imported only
when a command runs, so `gensandbox --help` stays quick."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gensandbox.cli.output import ConfigOption, console, finite_usd, split_names

variant_app = typer.Typer(help="Customised models (`variant:NAME`): a base model plus system prompt, examples, "
                          "parameters, post-processing and retrieval over your documents.", no_args_is_help=True)
NameArgument = Annotated[str, typer.Argument(help="The variant's name (with or without `variant:`).")]


@variant_app.command("list")
def list_(config_path: ConfigOption = None) -> None:
    """List the variants of gensandbox.toml and the imported ones, with their base and version."""
    from rich.table import Table

    from gensandbox.config import VARIANT_PREFIX, load_config
    from gensandbox.errors import UserError
    from gensandbox.variants.catalogue import version_of

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


@variant_app.command("show")
def show(name: NameArgument, config_path: ConfigOption = None) -> None:
    """Show a variant's definition, version and documents."""
    from gensandbox.config import VARIANT_PREFIX, load_config
    from gensandbox.variants.catalogue import variant_named, version_of
    from gensandbox.variants.documents import read_documents
    from gensandbox.variants.export import variants_toml

    variant = variant_named(load_config(config_path), name)
    console.print(f"{VARIANT_PREFIX}{variant.name}  version {version_of(variant)}")
    print(variants_toml([variant]).split("\n\n", 1)[1], end="")
    if variant.retrieval:
        for document in read_documents(Path(variant.retrieval.folder)):
            console.print(f"  document {document.path} ({len(document.data):,} bytes)")


@variant_app.command("export")
def export(
    name: NameArgument,
    output: Annotated[Path, typer.Option("--output", "-o", help="The JSON file to write.")],
    config_path: ConfigOption = None,
) -> None:
    """Write a variant to one portable JSON file: its definition and every document it retrieves from."""
    from gensandbox.config import VARIANT_PREFIX, load_config
    from gensandbox.variants.catalogue import export_variant

    variant, version, documents = export_variant(load_config(config_path), name, output)
    console.print(f"exported {VARIANT_PREFIX}{variant.name} version {version} ({len(documents)} documents) to "
                  f"{output}")


@variant_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A file written by `gensandbox variant export`.")],
    base: Annotated[str | None, typer.Option("--base", help="Re-base the variant on this model "
                                             "(a new version).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an imported variant of the same name.")] = False,
    config_path: ConfigOption = None,
) -> None:
    """Add an exported variant here (its documents go to GENSANDBOX_HOME) and print its version."""
    from gensandbox.config import VARIANT_PREFIX, load_config
    from gensandbox.variants.catalogue import import_variant

    config = load_config(config_path)
    installed = import_variant(config, file, base, force)
    console.print(f"imported {VARIANT_PREFIX}{installed.variant.name} version {installed.version} into "
                  f"{config.variants_path}")
    if installed.rebased_from:
        console.print(f"re-based from {installed.rebased_from} to {base}: a new version "
                      f"(exported as {installed.exported_version})")
    elif installed.version != installed.exported_version:
        console.print(f"note: exported as version {installed.exported_version}; this GenSandbox computes "
                      f"{installed.version}")


@variant_app.command("compare")
def compare(
    name: NameArgument,
    suites: Annotated[str | None, typer.Option("--suites", "-s", help="Comma-separated suites (default: [run] "
                                               "suites).")] = None,
    models: Annotated[str | None, typer.Option("--models", "-m", help="Compare the variant re-based on each of "
                                               "these models with the model itself (default: its base).")] = None,
    run_id: Annotated[str | None, typer.Option("--run-id", help="Name the run (default: time-based).")] = None,
    max_cost: Annotated[float | None, typer.Option("--max-cost", min=0.0, help="Refuse to start, or stop, "
                                                   "before spending more than this many USD.",
                                                   callback=finite_usd)] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", min=1, help="Repeat every item N times.")] = None,
    config_path: ConfigOption = None,
) -> None:
    """Run a variant and its base on the same items and say whether the customisation helps, hurts or makes no
    measurable difference, overall, per category and per language (paired test, 95% CI)."""
    from gensandbox.cli.output import load
    from gensandbox.cli.run import ConsoleObserver
    from gensandbox.runner.variant_compare import compare_variant, verdict
    from gensandbox.variants.catalogue import variant_named

    config, store = load(config_path)
    _, compared = compare_variant(config, store, variant_named(config, name), ConsoleObserver(),
                                  suites=split_names(suites), models=split_names(models), run_id=run_id,
                                  max_cost=max_cost, epochs=epochs)
    for variant_spec, base, groups in compared:
        console.print(_comparison_table(variant_spec, base, groups))
        overall = groups[0].comparison
        console.print(f"{variant_spec} on {base}: {verdict(overall)}. {overall.sentence()}")


def _comparison_table(variant: str, base: str, groups: list):
    from rich.table import Table

    from gensandbox.runner.variant_compare import verdict

    table = Table(title=f"{variant} vs {base}", title_justify="left")
    for header in ("group", "n", base, variant, "difference", "95% CI", "p", "verdict"):
        table.add_column(header, justify="left" if header in ("group", "verdict") else "right", no_wrap=True)
    for group in groups:
        c = group.comparison
        table.add_row(group.group, str(c.n), f"{c.second_score:.1%}", f"{c.first_score:.1%}",
                      f"{c.difference * 100:+.1f} pts", f"{c.ci_low * 100:+.1f} to {c.ci_high * 100:+.1f}",
                      f"{c.p_value:.4f}", verdict(c))
    return table
