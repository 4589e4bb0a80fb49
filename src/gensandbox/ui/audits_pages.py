"""The audits pages: every switching, self-preference and held-out custody audit, its finding and its method."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from gensandbox.access import ProjectStore
from gensandbox.errors import NotFoundError
from gensandbox.store.audits import AuditStore
from gensandbox.ui.guard import needs, principal
from gensandbox.ui.rendering import language
from gensandbox.ui.state import dashboard
from gensandbox.ui.text import t


@needs("audits.read")
async def audits_list(request: Request) -> Response:
    board, who = dashboard(request), principal(request)

    def visible():
        owners = ProjectStore(board.store).audit_projects()
        return [audit for audit in AuditStore(board.store).list()
                if who.is_admin or owners.get(audit.audit_id) == who.project_id]

    audits = await board.read(visible)
    return board.page(request, "audits.html.j2", section="audits", title=t(language(request), "audits.title"),
                      audits=audits)


@needs("audits.read")
async def audit_detail(request: Request) -> Response:
    board, who, audit_id = dashboard(request), principal(request), request.path_params["audit_id"]

    def visible():
        owner = ProjectStore(board.store).audit_project(audit_id)
        if owner is not None and not (who.is_admin or owner == who.project_id):
            # The very words of an audit that does not exist: another project's ids cannot be confirmed.
            raise NotFoundError(f"no audit `{audit_id}`; `gensandbox audit list` shows them")
        return AuditStore(board.store).get(audit_id)

    audit = await board.read(visible)
    result = dict(audit.result)
    method = result.pop("method", None)
    return board.page(request, "audit.html.j2", section="audits", title=audit.title, audit=audit, method=method,
                      details=json.dumps(result, ensure_ascii=False, indent=2))
