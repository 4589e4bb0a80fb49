"""The run pages: the runs list, one run's leaderboard, two models side by side, and the full report."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gensandbox.errors import Denied
from gensandbox.ui.guard import needs, principal
from gensandbox.ui.paging import make_pager
from gensandbox.ui.rendering import language, remember_language
from gensandbox.ui.runs_data import compare_run, find_run, model_names, report_html, run_view, runs_page
from gensandbox.ui.scope import reads_text, run_in_scope, scope_of
from gensandbox.ui.state import dashboard
from gensandbox.ui.text import t

PAIRS_PER_PAGE = 200


@needs(None)
async def runs_list(request: Request) -> Response:
    """The runs the caller's project owns; a developer, who reads traffic rather than runs, starts there."""
    who = principal(request)
    if not who.may("runs.read"):
        return RedirectResponse("/traffic", status_code=303)
    board = dashboard(request)
    scope = await board.read(scope_of, board.store, who)
    rows, pager = await board.read(runs_page, board.store, request.query_params.get("page"), scope.sees_run)
    return board.page(request, "runs.html.j2", section="runs", title=t(language(request), "runs.title"),
                      rows=rows, pager=pager)


async def _visible_run(request: Request):
    """The run in the path, if the caller's project owns it (else the same 404 as a run that does not exist), and
    whether the caller may read its prompts and answers."""
    board, lang = dashboard(request), language(request)
    run_id = request.path_params["run_id"]
    project = await board.read(run_in_scope, board.store, principal(request), run_id,
                               t(lang, "error.no_run", run_id=run_id))
    run = await board.read(find_run, board.store, run_id, lang)
    return run, reads_text(board.store, principal(request), project)


@needs("runs.read")
async def run_detail(request: Request) -> Response:
    board, lang = dashboard(request), language(request)
    run, text = await _visible_run(request)
    view = await board.read(run_view, board.store, run, board.config.file.run.bootstrap_resamples, text)
    return board.page(request, "run.html.j2", section="runs", title=t(lang, "run.title", run_id=run.run_id),
                      run=run, view=view, models=model_names(run))


@needs("runs.read")
async def compare(request: Request) -> Response:
    """Two models' answers side by side: prompts and answers, so only for those who may read them."""
    board, lang = dashboard(request), language(request)
    run, text = await _visible_run(request)
    if not text:
        raise Denied(403, t(lang, "error.no_text"), "permission_denied")
    names = model_names(run)
    first = request.query_params.get("a") or (names[0] if names else "")
    second = request.query_params.get("b") or next((name for name in names if name != first), first)
    comparison = None
    if len(names) > 1:
        comparison = await board.read(compare_run, board.store, run, first, second, lang)
    only_differing = request.query_params.get("only") == "1"
    shown = (comparison.differing if only_differing else comparison.rows) if comparison else []
    pager = make_pager(len(shown), PAIRS_PER_PAGE, request.query_params.get("page"))
    return board.page(request, "compare.html.j2", section="runs", run=run, models=names, first=first,
                      second=second, comparison=comparison, only_differing=only_differing,
                      rows=shown[pager.start:pager.stop], pager=pager,
                      title=t(lang, "compare.title", a=first, b=second, run_id=run.run_id))


@needs("runs.read")
async def report(request: Request) -> Response:
    """The same HTML file `gensandbox report` writes, served as it is (it carries its own styles); without its
    sample browser for a caller who may not read the run's prompts and answers."""
    board, lang = dashboard(request), language(request)
    run, text = await _visible_run(request)
    html = await board.read(report_html, board.store, run, board.config.file.run.bootstrap_resamples, lang, text)
    return remember_language(request, HTMLResponse(html))
