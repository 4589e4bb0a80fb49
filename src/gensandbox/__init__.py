"""GenSandbox: a model-neutral sandbox for generative AI.

The library API (what the CLI and the dashboard use too):

    import gensandbox
    result = gensandbox.evaluate(["local/qwen2.5-coder-0.5b-instruct"], ["basics-ko"], limit=5)
    gensandbox.verify_ledger().ok
    gensandbox.serve(port=8800)

`evaluate`, `serve` and `verify_ledger` are imported on first use (api.py), so `import gensandbox.errors` and the
command line's help stay quick.
"""

from gensandbox.errors import ConfigError, GenSandboxError, RunError, UserError
from gensandbox.types import ChatRequest, ChatResponse, Message, Price, Usage

__version__ = "0.1.0"

__all__ = [
    "ChatRequest",
    "ChatResponse",
    "ConfigError",
    "EvaluationResult",
    "GenSandboxError",
    "Message",
    "Price",
    "RunError",
    "Usage",
    "UserError",
    "__version__",
    "evaluate",
    "serve",
    "verify_ledger",
]
_API = {"EvaluationResult", "evaluate", "serve", "verify_ledger"}


def __getattr__(name: str):
    if name in _API:
        from gensandbox import api

        return getattr(api, name)
    raise AttributeError(f"module 'gensandbox' has no attribute {name!r}")
