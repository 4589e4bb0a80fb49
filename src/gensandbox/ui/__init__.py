"""The web dashboard (`gensandbox ui`): runs, comparisons, gateway traffic, the ledger and traces, in English
and Korean, on 127.0.0.1."""

from gensandbox.ui.app import create_ui_app

__all__ = ["create_ui_app"]
