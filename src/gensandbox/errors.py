"""One error tree for GenSandbox.

    GenSandboxError
    ├── UserError                 you can fix this: bad config, unknown model or suite, missing file
    │   ├── ConfigError           gensandbox.toml (or a built-in data file) is invalid
    │   ├── NotFoundError         a named model, suite, run or file does not exist
    │   ├── MissingDependencyError an optional extra is not installed; the message says which
    │   └── DuplicateRecordError  the store already holds a record that must be unique (a sample's key)
    ├── RunError                  a call to a model failed; the run records it and goes on
    │   ├── ProviderHTTPError     the endpoint answered with an error status (status, body, retry_after)
    │   ├── ProviderConnectionError the endpoint could not be reached
    │   ├── ProviderTimeoutError  the endpoint did not answer in time
    │   ├── ProviderResponseError the endpoint answered something we cannot read
    │   └── ToolFailed            an agent's tool call the evaluation's environment refused; the model is told why
    │       └── EnvironmentBroken a Python environment's process broke a limit, died or could not start; the
    │                             episode ends with this error
    └── GatewayError              the gateway answers an app's request with an OpenAI-shaped error (status, type)
        ├── Denied                the key may not make this request: 401 (no or bad key) or 429 (rate, budget)
        └── NotRecorded           the request could not be recorded, so it is not answered: 503

Foreign exceptions (aiohttp, llama.cpp, pydantic, the databases' integrity errors) are translated into this
tree at one choke point per boundary; the CLI shows any GenSandboxError as one line, never a traceback. A
RunError may quote an upstream's words, so credentials are redacted from its message and body when it is made
(redaction.py).
"""

from __future__ import annotations

from gensandbox.redaction import redact


class GenSandboxError(Exception):
    """Base of every error GenSandbox raises on purpose."""


class UserError(GenSandboxError):
    """Something the user can fix; the message says what and how."""


class ConfigError(UserError):
    """The configuration is invalid."""


class NotFoundError(UserError):
    """A named thing (model, suite, run, file) does not exist."""


class MissingDependencyError(UserError):
    """An optional part of GenSandbox is not installed."""


class DuplicateRecordError(UserError):
    """The store already holds a record that must be unique (e.g. two processes resuming one run); nothing was
    written."""


class RunError(GenSandboxError):
    """A model call failed. Its message may quote an upstream, so credentials are redacted from it here."""

    attempts: int = 1  # how many tries it took before giving up (set by the retry loop)

    def __init__(self, message: str = "", *args):
        super().__init__(redact(str(message)), *args)


class ProviderHTTPError(RunError):
    """The endpoint answered with an HTTP error status."""

    def __init__(self, message: str, *, status: int, body: str = "", retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.body = redact(body)
        self.retry_after = retry_after


class ProviderConnectionError(RunError):
    """The endpoint could not be reached."""


class ProviderTimeoutError(RunError):
    """The endpoint did not answer in time."""


class ProviderResponseError(RunError):
    """The endpoint's answer could not be understood."""


class ToolFailed(RunError):
    """An agent's tool call that the environment could not carry out: the model reads the message as the tool's
    result, and the episode goes on (runner/environments.py)."""


class EnvironmentBroken(ToolFailed):
    """A Python environment's process was stopped (over its time or memory limit), ended, or could not start the
    episode: the model reads the message as the tool's result, and the episode ends with it as its error
    (runner/env_process.py)."""


class GatewayError(GenSandboxError):
    """Answered to the app as an OpenAI-shaped error with this status, type, code and parameter."""

    def __init__(self, status: int, message: str, error_type: str, code: str | None = None,
                 param: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.error_type, self.code, self.param = status, error_type, code, param
        self.headers = headers or {}


_DENIAL_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error"}


class Denied(GatewayError):
    """A request the key may not make: 401 (who?), 403 (not this role), 404 (not this project's), 429 (too much),
    with a message for a person."""

    def __init__(self, status: int, message: str, code: str, retry_after: float | None = None):
        super().__init__(status, message, _DENIAL_TYPES.get(status, "rate_limit_error"), code,
                         headers={"retry-after": f"{retry_after:.0f}"} if retry_after else None)
        self.retry_after = retry_after


class NotRecorded(GatewayError):
    """The request's record could not be made durable; it must not be answered as if it had been."""

    def __init__(self, message: str):
        super().__init__(503, message, "server_error", "not_recorded", headers={"retry-after": "1"})
