"""The audits pages: every switching, self-preference and held-out custody audit, its finding and its method."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from gensandbox.ui.guard import needs, principal
from gensandbox.ui.rendering import language
from gensandbox.ui.scope import visible_audit, visible_audits
from gensandbox.ui.state import dashboard
from gensandbox.ui.text import t


@needs("audits.read")
async def audits_list(request: Request) -> Response:
    board = dashboard(request)
    audits = [audit for audit, _ in await board.read(visible_audits, board.store, principal(request))]
    return board.page(request, "audits.html.j2", section="audits", title=t(language(request), "audits.title"),
                      audits=audits)


@needs("audits.read")
async def audit_detail(request: Request) -> Response:
    board = dashboard(request)
    audit = await board.read(visible_audit, board.store, principal(request), request.path_params["audit_id"])
    result = dict(audit.result)
    method = result.pop("method", None)
    return board.page(request, "audit.html.j2", section="audits", title=audit.title, audit=audit, method=method,
                      details=json.dumps(result, ensure_ascii=False, indent=2))
