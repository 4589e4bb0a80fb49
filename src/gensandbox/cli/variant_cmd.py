"""`gensandbox variant …`: customised models (a base model plus prompt, examples, parameters,
post-processing and retrieval over your documents), listed, shown, moved between machines and measured."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gensandbox.cli.output import ConfigOption, finite_usd

variant_app = typer.Typer(help="Customised models (`variant:NAME`): a base model plus system prompt, examples, "
                          "parameters, post-processing and retrieval over your documents.", no_args_is_help=True)
NameArgument = Annotated[str, typer.Argument(help="The variant's name (with or without `variant:`).")]


@variant_app.command("list")
def list_(config_path: ConfigOption = None) -> None:
    """List the variants of gensandbox.toml and the imported ones, with their base and version."""
    from gensandbox.cli.variants import list_variants

    list_variants(config_path)


@variant_app.command("show")
def show(name: NameArgument, config_path: ConfigOption = None) -> None:
    """Show a variant's definition, version and documents."""
    from gensandbox.cli.variants import show_variant

    show_variant(name, config_path)


@variant_app.command("export")
def export(
    name: NameArgument,
    output: Annotated[Path, typer.Option("--output", "-o", help="The JSON file to write.")],
    config_path: ConfigOption = None,
) -> None:
    """Write a variant to one portable JSON file: its definition and every document it retrieves from."""
    from gensandbox.cli.variants import export_variant

    export_variant(name, output, config_path)


@variant_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A file written by `gensandbox variant export`.")],
    base: Annotated[str | None, typer.Option("--base", help="Re-base the variant on this model "
                                             "(a new version).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an imported variant of the same name.")] = False,
    config_path: ConfigOption = None,
) -> None:
    """Add an exported variant here (its documents go to GENSANDBOX_HOME) and print its version."""
    from gensandbox.cli.variants import import_variant

    import_variant(file, base, force, config_path)


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
    from gensandbox.cli.variants import compare_variant

    compare_variant(name, suites, models, run_id, max_cost, epochs, config_path)
