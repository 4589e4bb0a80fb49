"""The workbench's pages: start an evaluation or an audit, watch a run live, manage keys and projects. The pages
are shells; what they do goes through the management API (/api/…) as any program would."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from gensandbox.access import ROLES, ProjectStore
from gensandbox.errors import NotFoundError, UserError
from gensandbox.runner import builtin_suite_names, resolve_suite
from gensandbox.store.gateway import GatewayStore
from gensandbox.ui.guard import needs, principal
from gensandbox.ui.rendering import language
from gensandbox.ui.scope import run_in_scope, usable_models
from gensandbox.ui.state import dashboard
from gensandbox.ui.text import t


@dataclass(frozen=True)
class SuiteChoice:
    name: str
    items: int


def suite_choices(config) -> list[SuiteChoice]:
    """Built-in and configured suites, by name (never a path); one that cannot be opened is left out."""
    found = []
    for name in dict.fromkeys(builtin_suite_names() + [suite.name for suite in config.file.suites]):
        try:
            found.append(SuiteChoice(name, resolve_suite(name, config).count))
        except UserError:
            continue
    return found


@needs("runs.start")
async def workbench(request: Request) -> Response:
    board, who = dashboard(request), principal(request)
    models = list(await board.read(usable_models, board.config, board.store, who))
    suites = await board.read(suite_choices, board.config)
    return board.page(request, "workbench.html.j2", section="workbench", title=t(language(request), "wb.title"),
                      models=models, suites=suites)


@needs("runs.read")
async def live(request: Request) -> Response:
    """A run started here is known from the moment it starts; the store learns of it only once its thread has
    begun, which the browser, sent here by the start's answer, may well beat."""
    board, lang, run_id, who = dashboard(request), language(request), request.path_params["run_id"], principal(request)
    not_found = t(lang, "error.no_run", run_id=run_id)
    owner = board.run_owners.get(run_id)
    if owner is None:
        await board.read(run_in_scope, board.store, who, run_id, not_found)
    elif not (who.is_admin or owner == who.project_id):
        raise NotFoundError(not_found)
    return board.page(request, "live.html.j2", section="runs", title=t(lang, "live.title", run_id=run_id),
                      run_id=run_id)


@needs("keys.manage")
async def keys_page(request: Request) -> Response:
    board = dashboard(request)
    keys = await board.read(lambda: GatewayStore(board.store).keys())
    projects = await board.read(lambda: ProjectStore(board.store).list())
    return board.page(request, "keys.html.j2", section="keys", title=t(language(request), "keys.title_page"),
                      keys=keys, projects=projects, roles=ROLES)
