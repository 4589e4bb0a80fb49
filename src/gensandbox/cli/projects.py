"""`gensandbox projects`: the sandbox's projects (tenants), made and changed by this machine's operator."""

from __future__ import annotations

from typing import Annotated

import typer

from gensandbox.cli.output import ConfigOption, console, load

projects_app = typer.Typer(help="Projects: who owns which keys, runs and traffic.", no_args_is_help=True)
PRIVACY_HELP = ('"hashes" (the ledger keeps keyed digests of prompts and answers) or "full" (it keeps the text '
                "too).")
MODELS_HELP = "A model, route or variant the project's parties may use (repeat it); leave out for every model."


@projects_app.command("create")
def create(
    project_id: Annotated[str, typer.Argument(help="Short id: lower-case letters, digits, - and _.")],
    title: Annotated[str, typer.Option("--title", help="A name for people.")] = "",
    privacy: Annotated[str, typer.Option("--privacy", help=PRIVACY_HELP)] = "hashes",
    regulator_text: Annotated[bool, typer.Option("--regulator-text", help="With privacy full: regulators may read "
                                                 "prompts and answers.")] = False,
    models: Annotated[list[str] | None, typer.Option("--model", help=MODELS_HELP)] = None,
    config_path: ConfigOption = None,
) -> None:
    """Create a project. The act is recorded on the ledger."""
    from gensandbox.access import OPERATOR
    from gensandbox.access.projects import ProjectAdmin
    from gensandbox.access.record import AdminRecorder

    config, store = load(config_path)
    record = ProjectAdmin(store, AdminRecorder(config)).create(
        OPERATOR, project_id, title, privacy=privacy, regulator_text=regulator_text, models=models or None)
    console.print(f"project {record.project_id}: privacy {record.privacy}, models {', '.join(record.models)}",
                  markup=False)


@projects_app.command("set")
def change(
    project_id: Annotated[str, typer.Argument(help="The project's id.")],
    privacy: Annotated[str | None, typer.Option("--privacy", help=PRIVACY_HELP)] = None,
    regulator_text: Annotated[bool | None, typer.Option("--regulator-text/--no-regulator-text",
                                                        help="Whether regulators read prompts and answers.")] = None,
    models: Annotated[list[str] | None, typer.Option("--model", help=MODELS_HELP)] = None,
    config_path: ConfigOption = None,
) -> None:
    """Change a project's privacy, regulators' grant or models. The change is recorded on the ledger."""
    from gensandbox.access import OPERATOR
    from gensandbox.access.projects import ProjectAdmin
    from gensandbox.access.record import AdminRecorder

    changes = {name: value for name, value in (("privacy", privacy), ("regulator_text", regulator_text),
                                               ("models", models or None)) if value is not None}
    if not changes:
        raise typer.BadParameter("say what to change: --privacy, --regulator-text or --model")
    config, store = load(config_path)
    record = ProjectAdmin(store, AdminRecorder(config)).change(OPERATOR, project_id, changes)
    console.print(f"project {record.project_id}: privacy {record.privacy}, regulators read text: "
                  f"{'yes' if record.regulator_text else 'no'}, models {', '.join(record.models)}", markup=False)


@projects_app.command("list")
def list_projects(config_path: ConfigOption = None) -> None:
    """List projects with their privacy and models."""
    from rich.table import Table

    from gensandbox.access import ProjectStore

    _, store = load(config_path)
    table = Table("project", "title", "privacy", "regulators read text", "models", "created by")
    for project in ProjectStore(store).list():
        table.add_row(project.project_id, project.title, project.privacy, "yes" if project.regulator_text else "no",
                      ", ".join(project.models), project.created_by)
    console.print(table)
