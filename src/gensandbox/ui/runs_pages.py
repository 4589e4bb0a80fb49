"""The run pages: the runs list, one run's leaderboard, two models side by side, and the full report."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from gensandbox.ui.paging import make_pager
from gensandbox.ui.rendering import language, remember_language
from gensandbox.ui.runs_data import compare_run, find_run, model_names, report_html, run_view, runs_page
from gensandbox.ui.state import dashboard
from gensandbox.ui.text import t

PAIRS_PER_PAGE = 200


async def runs_list(request: Request) -> Response:
    board = dashboard(request)
    rows, pager = await board.read(runs_page, board.store, request.query_params.get("page"))
    return board.page(request, "runs.html.j2", section="runs", title=t(language(request), "runs.title"),
                      rows=rows, pager=pager)


async def run_detail(request: Request) -> Response:
    board, lang = dashboard(request), language(request)
    run = await board.read(find_run, board.store, request.path_params["run_id"], lang)
    view = await board.read(run_view, board.store, run, board.config.file.run.bootstrap_resamples)
    return board.page(request, "run.html.j2", section="runs", title=t(lang, "run.title", run_id=run.run_id),
                      run=run, view=view, models=model_names(run))


async def compare(request: Request) -> Response:
    board, lang = dashboard(request), language(request)
    run = await board.read(find_run, board.store, request.path_params["run_id"], lang)
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


async def report(request: Request) -> Response:
    """The same HTML file `gensandbox report` writes, served as it is (it carries its own styles)."""
    board, lang = dashboard(request), language(request)
    run = await board.read(find_run, board.store, request.path_params["run_id"], lang)
    html = await board.read(report_html, board.store, run, board.config.file.run.bootstrap_resamples, lang)
    return remember_language(request, HTMLResponse(html))
