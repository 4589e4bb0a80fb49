"""What every dashboard handler shares: the config, the store, the templates and the running verifications."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from jinja2 import Environment
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from gensandbox.access.keys import KeyRing
from gensandbox.audits.jobs import AuditJobs
from gensandbox.config import Config
from gensandbox.runner.jobs import RunJobs
from gensandbox.store import SQLStore
from gensandbox.ui.guard import SignIns, csrf_token
from gensandbox.ui.rendering import environment, render
from gensandbox.ui.verifying import VerifyJobs

# The top bar's sections: (path, section, label key, the right that shows it).
NAV_ITEMS = (("/", "runs", "nav.runs", "runs.read"),
             ("/workbench", "workbench", "nav.workbench", "runs.start"),
             ("/traffic", "traffic", "nav.traffic", "traffic.aggregate"),
             ("/ledger", "ledger", "nav.ledger", "ledger.read"),
             ("/audits", "audits", "nav.audits", "audits.read"),
             ("/keys", "keys", "nav.keys", "keys.manage"))

T = TypeVar("T")


@dataclass
class Dashboard:
    """What every handler needs, kept on `app.state.dashboard`."""

    config: Config
    store: SQLStore
    keys: KeyRing
    templates: Environment = field(default_factory=environment)
    jobs: VerifyJobs = field(default_factory=VerifyJobs)
    sign_ins: SignIns = field(default_factory=SignIns)
    runs: RunJobs | None = None  # evaluations started from the workbench (made with the app, from [serve])
    run_owners: dict[str, str] = field(default_factory=dict)  # run id → the project that started it here
    audits: AuditJobs = field(default_factory=AuditJobs)  # audits started from the workbench
    audit_owners: dict[str, str] = field(default_factory=dict)  # audit job id → the project that started it
    _store_lock: threading.Lock = field(default_factory=threading.Lock)

    async def read(self, function: Callable[..., T], *args) -> T:
        """Runs a store read in a worker thread, one at a time: the event loop stays free for other pages, and
        the store's single SQLite connection is never used by two threads at once."""
        def locked() -> T:
            with self._store_lock:
                return function(*args)

        return await run_in_threadpool(locked)

    def page(self, request: Request, template: str, **context) -> Response:
        caller = getattr(request.state, "caller", None)
        return render(request, self.templates, template, who=caller.principal if caller else None,
                      csrf=csrf_token(request), nav_items=NAV_ITEMS, **context)


def dashboard(request: Request) -> Dashboard:
    return request.app.state.dashboard
