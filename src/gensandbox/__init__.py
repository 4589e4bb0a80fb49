"""GenSandbox: a model-neutral sandbox for generative AI."""

from gensandbox.errors import ConfigError, GenSandboxError, RunError, UserError
from gensandbox.types import ChatRequest, ChatResponse, Message, Price, Usage

__version__ = "0.1.0"

__all__ = [
    "ChatRequest",
    "ChatResponse",
    "ConfigError",
    "GenSandboxError",
    "Message",
    "Price",
    "RunError",
    "Usage",
    "UserError",
    "__version__",
]
