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

from gensandbox.config import Config
from gensandbox.store import SQLStore
from gensandbox.ui.rendering import environment, render
from gensandbox.ui.verifying import VerifyJobs

T = TypeVar("T")


@dataclass
class Dashboard:
    """What every handler needs, kept on `app.state.dashboard`."""

    config: Config
    store: SQLStore
    templates: Environment = field(default_factory=environment)
    jobs: VerifyJobs = field(default_factory=VerifyJobs)
    _store_lock: threading.Lock = field(default_factory=threading.Lock)

    async def read(self, function: Callable[..., T], *args) -> T:
        """Runs a store read in a worker thread, one at a time: the event loop stays free for other pages, and
        the store's single SQLite connection is never used by two threads at once."""
        def locked() -> T:
            with self._store_lock:
                return function(*args)

        return await run_in_threadpool(locked)

    def page(self, request: Request, template: str, **context) -> Response:
        return render(request, self.templates, template, **context)


def dashboard(request: Request) -> Dashboard:
    return request.app.state.dashboard
