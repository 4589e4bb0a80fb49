"""The gateway as each worker process of `gensandbox serve --workers N` builds it (uvicorn imports this); the
garbage collector's settings for a serving process are in gensandbox/collector.py."""

from __future__ import annotations

from gensandbox.collector import tune_gc_after_start_up
from gensandbox.config import load_config
from gensandbox.config.loading import serve_worker_settings
from gensandbox.gateway.app import create_app
from gensandbox.store import open_store


def app_from_environment():
    config_path, open_access = serve_worker_settings()
    config = load_config(config_path)
    app = create_app(config, open_store(config), allow_anonymous=open_access)
    tune_gc_after_start_up()
    return app
