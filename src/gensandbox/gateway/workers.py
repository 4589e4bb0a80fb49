"""The gateway as each worker process of `gensandbox serve --workers N` builds it (uvicorn imports this), and the
garbage collector's settings for a serving process."""

from __future__ import annotations

import gc

from gensandbox.config import load_config
from gensandbox.config.loading import serve_worker_settings
from gensandbox.gateway.app import create_app
from gensandbox.store import open_store

# Young objects collected once 10,000 more have been made than freed, not 700: a request's objects are nearly all
# freed by reference counting when it ends, but with 64 in flight the default threshold ran a collection every ~16
# requests, each finding them still alive, and a full collection scanned start-up's ~60,000 objects every few
# thousand requests (measured at 64 in flight: 20-30 µs of collections per request; ~0.5 µs with these settings).
GC_THRESHOLDS = (10_000, 10, 10)


def tune_gc_for_serving() -> None:
    """Once the app is built: what start-up made (modules, config, models) is moved out of the collector's sight
    (gc.freeze), so that full collections scan only what serving makes; young collections run less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def app_from_environment():
    config_path, open_access = serve_worker_settings()
    config = load_config(config_path)
    app = create_app(config, open_store(config), allow_anonymous=open_access)
    tune_gc_for_serving()
    return app
