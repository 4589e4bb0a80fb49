"""The gateway as each worker process of `gensandbox serve --workers N` builds it (uvicorn imports this)."""

from __future__ import annotations

from gensandbox.config import load_config
from gensandbox.config.loading import serve_worker_settings
from gensandbox.gateway.app import create_app
from gensandbox.store import open_store


def app_from_environment():
    config_path, open_access = serve_worker_settings()
    config = load_config(config_path)
    return create_app(config, open_store(config), allow_anonymous=open_access)
