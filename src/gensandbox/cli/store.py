"""`gensandbox migrate` and `gensandbox store copy`: bring a store's schema up to date in place, and move a whole
store between SQLite and PostgreSQL.

cli/app.py registers them with `app.command()(store.migrate)` and
`app.add_typer(store.store_app, name="store")`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from gensandbox.cli.output import ConfigOption, console

store_app = typer.Typer(help="The store of runs, results, API keys and audits: copy it between SQLite and "
                        "PostgreSQL.", no_args_is_help=True)
URL_HELP = "sqlite:///PATH, postgresql://USER@HOST:PORT/DB, or a file path (SQLite)."
LEDGER_NOTE = ("the ledger is not part of the store and was not copied: move it with `gensandbox ledger export` "
               "and `gensandbox ledger import`, which verify its hash chain")


def migrate(config_path: ConfigOption = None) -> None:
    """Apply pending schema migrations to the configured store (SQLite or PostgreSQL), in place."""
    from gensandbox.config import load_config
    from gensandbox.store.migrations import MIGRATIONS
    from gensandbox.store.opening import store_at

    config = load_config(config_path)
    store = store_at(config.database_url)
    store.close()
    if store.applied_migrations:
        console.print(f"{store.location}: applied {len(store.applied_migrations)} migrations: "
                      f"{', '.join(store.applied_migrations)}", markup=False)
    else:
        console.print(f"{store.location}: up to date ({len(MIGRATIONS)} migrations)", markup=False)


@store_app.command("copy")
def copy_(
    source: Annotated[str, typer.Option("--from", help=f"The store to copy. {URL_HELP}")],
    target: Annotated[str, typer.Option("--to", help=f"An empty store to copy into. {URL_HELP}")],
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Rows per write.")] = 1000,
) -> None:
    """Copy every table of a store into an empty one, verify row counts and digests, print them.

    Stop the processes that write to the source first: rows they add during the copy may be missed."""
    from gensandbox.store.copying import copy_store
    from gensandbox.store.opening import store_at

    stores = [store_at(source, must_exist=True)]
    try:
        stores.append(store_at(target))
        for store in stores:
            if store.applied_migrations:
                console.print(f"migrated {store.location} first: {', '.join(store.applied_migrations)}",
                              markup=False)
        with console.status("copying…"):
            digests = copy_store(stores[0].db, stores[1].db, batch_size)
    finally:
        for store in stores:
            store.close()
    console.print(f"copied {sum(d.rows for d in digests)} rows in {len(digests)} tables from {stores[0].location} "
                  f"to {stores[1].location}; row counts and sha256 digests verified:", markup=False)
    for digest in digests:
        console.print(f"  {digest.table:<18} {digest.rows:>10} rows  sha256 {digest.sha256}", markup=False)
    console.print(f"note: {LEDGER_NOTE}", markup=False)
