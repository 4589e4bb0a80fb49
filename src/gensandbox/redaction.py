"""Secrets never leave: the one function that takes credentials out of text that came from outside.

Upstreams and proxies sometimes echo a request's `Authorization` or `x-api-key` header in an error body. Such
text becomes a GenSandbox error (errors.RunError), and from there reaches a client's 502 body, the store, the
ledger, logs, exports and reports; so every RunError's message and body pass through `redact` when the error
is made, and nothing downstream needs to think about it. What is redacted:

- every credential GenSandbox has sent or will send: values registered with `register_secret` (each HTTP
  endpoint registers its API key when it is built; configured keys are read only through it);
- anything shaped like a bearer credential (`Bearer <token>`, `x-api-key: <token>`, `api-key=<token>`),
  whoever it belongs to.
"""

from __future__ import annotations

import re
import threading

REDACTED = "[REDACTED]"
MIN_SECRET_CHARS = 8  # shorter values would blank out ordinary words
_secrets: set[str] = set()
_pattern: re.Pattern | None = None
_lock = threading.Lock()
_SHAPED = re.compile(
    r"(?i)(\bbearer\s+|\b(?:x-api-key|api-key|api_key|apikey|authorization)[\"']?\s*[:=]\s*[\"']?(?:bearer\s+)?)"
    r"[A-Za-z0-9._~+/=-]{8,}")


def register_secret(value: str | None) -> None:
    """Remember a credential so that it is redacted wherever it turns up."""
    global _pattern
    if not value or len(value) < MIN_SECRET_CHARS or value in _secrets:
        return
    with _lock:
        _secrets.add(value)
        # Longest first, so a secret that contains another is taken out whole.
        _pattern = re.compile("|".join(re.escape(s) for s in sorted(_secrets, key=len, reverse=True)))


def redact(text: str) -> str:
    if not text:
        return text
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    return _SHAPED.sub(lambda match: match.group(1) + REDACTED, text)
