"""The `gensandbox` command. Known errors are one line on stderr, never a traceback."""

from __future__ import annotations

import typer

from gensandbox.cli import (
    audit,
    holdout,
    inspect,
    ledger,
    projects,
    repeat,
    report,
    run,
    serve,
    store,
    trace,
    ui,
    variant,
)
from gensandbox.cli.output import errors
from gensandbox.errors import GenSandboxError

app = typer.Typer(
    name="gensandbox",
    help="A model-neutral sandbox for generative AI: evaluate, compare and switch models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command()(run.run)
app.command()(inspect.show)
app.command()(inspect.runs)
app.command()(inspect.models)
app.command()(inspect.suites)
app.command()(report.report)
app.command()(repeat.rerun)
app.command()(repeat.compare)
app.command()(serve.serve)
app.command()(serve.traffic)
app.command()(serve.routes)
app.add_typer(serve.keys_app, name="keys")
app.add_typer(projects.projects_app, name="projects")
app.command()(trace.trace)
app.add_typer(ledger.ledger_app, name="ledger")
app.add_typer(ledger.receipt_app, name="receipt")
app.add_typer(audit.audit_app, name="audit")
app.add_typer(holdout.holdout_app, name="holdout")
app.command()(store.migrate)
app.add_typer(store.store_app, name="store")
app.add_typer(variant.variant_app, name="variant")
app.command()(ui.ui)


INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug, told apart from user errors (1) and usage errors (2)


def main(argv: list[str] | None = None) -> int:
    try:
        result = app(args=argv, prog_name="gensandbox", standalone_mode=False)
    except GenSandboxError as error:
        errors.print(f"error: {error}", markup=False)
        return 1
    except typer.Exit as done:
        return done.exit_code
    except typer.TyperException as error:
        # Typer runs its own copy of Click (typer._click): its usage errors (unknown option, missing argument,
        # bad or out-of-range value) derive from TyperException, not from the `click` package's ClickException.
        # They print Click's own message with the usage line, and exit 2.
        if hasattr(error, "show"):
            error.show()
        else:
            errors.print(f"error: {error.format_message()}", markup=False)
        return error.exit_code
    except (typer.Abort, KeyboardInterrupt):
        errors.print("interrupted")
        return 130
    except Exception as error:  # a bug: still one line, with the way to see more
        from gensandbox.config import debug_enabled

        if debug_enabled():
            raise
        errors.print(f"unexpected error: {type(error).__name__}: {error} "
                     "(set GENSANDBOX_DEBUG=1 for the traceback, and please report it)", markup=False)
        return INTERNAL_ERROR
    return result if isinstance(result, int) else 0

