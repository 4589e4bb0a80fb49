"""API keys, roles, budgets and rate limits.

A key is shown once when it is made; the store keeps only its sha256. Budgets hold exactly under
concurrent requests, in one gateway process or several sharing a store: before a call the worst case
(prompt, the full max_tokens, local compute for the whole timeout) is reserved, and settled to the real
cost afterwards. Reservations are taken from a budget *lease*: a share of the key's budget this process
has claimed in the store, atomically against every other process. Within a process the check and the
claim happen on the event loop, where no two requests interleave; across processes the store's
transaction decides. A process goes back to the store only when its lease runs short (about every
LEASE_CALLS requests), and gives back what it did not spend when it stops; a lease whose process died
is dropped after LEASE_TTL_S.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections import deque
from dataclasses import dataclass, field

from gensandbox.access import Principal, ProjectRecord, ProjectStore, require
from gensandbox.access.keys import RELOAD_AFTER_S, hash_key, principal_of
from gensandbox.errors import Denied
from gensandbox.store.gateway import GatewayStore, KeyRecord

LEASE_CALLS = 20  # a lease covers about this many worst-case requests
LEASE_TTL_S = 30.0  # a lease not renewed for this long belongs to a process that is gone


@dataclass
class KeyState:
    record: KeyRecord
    principal: Principal = field(init=False)  # who the key stands for, made when the record is (re)loaded
    reserved_usd: float = 0.0  # worst cases of this process's calls in flight
    lease_usd: float = 0.0  # budget this process holds and has not spent yet
    leased_at: float = 0.0  # when the lease was last claimed or renewed (time.time())
    recent: deque = field(default_factory=deque)  # monotonic times of requests in the last minute

    def __post_init__(self) -> None:
        self.principal = principal_of(self.record)

    def refresh(self, record: KeyRecord) -> None:
        """A changed record (a new budget, role or project) applies at once; the lease and rate state stay."""
        self.record, self.principal = record, principal_of(record)


class KeyGate:
    """Who may call, and how much. With no keys in the store the gateway is open (loopback only)."""

    def __init__(self, store: GatewayStore, allow_anonymous: bool, projects: ProjectStore | None = None):
        self._store = store
        self._projects_store = projects
        self._projects: dict[str, ProjectRecord] = {}
        self._allow_anonymous = allow_anonymous
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._by_hash: dict[str, KeyState] = {}
        self._keys_exist = False
        self._loaded_at = 0.0
        self.reload()

    def reload(self) -> None:
        """Pick up keys created or revoked by `gensandbox keys` while the server runs."""
        states = {}
        records = self._store.keys()
        self._keys_exist = bool(records)  # revoking every key must not reopen the gateway
        for record in records:
            if record.revoked_at:
                continue
            known = self._by_hash.get(record.key_hash)
            if known is not None:
                known.refresh(record)
            states[record.key_hash] = known or KeyState(record)
        self._by_hash = states
        if self._projects_store is not None:
            self._projects = {project.project_id: project for project in self._projects_store.list()}
        self._loaded_at = time.monotonic()

    @property
    def open(self) -> bool:
        return self._allow_anonymous and not self._keys_exist

    def authenticate(self, authorization: str | None) -> KeyState | None:
        """The caller's key state, None for anonymous access, or Denied(401)."""
        self._reload_when_due()
        if self.open:
            return None
        token = _bearer(authorization)
        if token is None:
            raise Denied(401, "no API key: send `Authorization: Bearer <key>`; create a key with "
                         "`gensandbox keys create`", "missing_api_key")
        state = self._find(token)
        if state is None:
            raise Denied(401, "this API key is not valid (unknown or revoked); `gensandbox keys list` shows "
                         "the active ones", "invalid_api_key")
        require(state.principal, "gateway.call")
        return state

    def authorize(self, authorization: str | None, action: str, *, every_project: bool = False) -> None:
        """For endpoints other than model calls: the key's role must grant `action` (and, for data of every
        project at once, the key must be an admin's or a regulator's). Open when the gateway is open."""
        self._reload_when_due()
        if self.open:
            return
        token = _bearer(authorization)
        state = self._find(token)
        if state is None:
            raise Denied(401, "this endpoint needs an API key: send `Authorization: Bearer <key>`",
                         "missing_api_key" if token is None else "invalid_api_key")
        principal = state.principal
        require(principal, action)
        if every_project and principal.role not in ("admin", "regulator"):
            raise Denied(403, "this endpoint shows every project's traffic: it takes an admin or a regulator key",
                         "permission_denied")

    def check_model(self, state: KeyState | None, model: str) -> None:
        """A key calls only the models, routes and variants its project shares with it. Refused as "not found",
        as if the model did not exist, so a key cannot learn what other projects use."""
        if state is None or self._projects_store is None:
            return
        project = self._projects.get(state.record.project_id)
        if project is None or not project.allows_model(model):
            raise Denied(404, f"model `{model}` is not available to project `{state.record.project_id}`; an admin "
                         "can add it to the project's models", "model_not_found")

    def allows(self, state: KeyState | None, model: str) -> bool:
        try:
            self.check_model(state, model)
        except Denied:
            return False
        return True

    def admit(self, state: KeyState | None) -> None:
        """Rate limit: at most `rpm` requests in any 60 seconds."""
        if state is None or not state.record.rpm:
            return
        now, recent = time.monotonic(), state.recent
        while recent and now - recent[0] >= 60.0:
            recent.popleft()
        if len(recent) >= state.record.rpm:
            wait = 60.0 - (now - recent[0])
            raise Denied(429, f"rate limit reached: this key may make {state.record.rpm} requests per minute; "
                         f"try again in {wait:.0f} s", "rate_limit_exceeded", retry_after=wait)
        recent.append(now)

    def reserve(self, state: KeyState | None, amount: float) -> None:
        if state is None or state.record.budget_usd is None:
            return
        now = time.time()
        if now - state.leased_at > LEASE_TTL_S / 2:  # not renewed lately: the store may have dropped it
            state.lease_usd = 0.0
        short = amount - (state.lease_usd - state.reserved_usd)
        if short > 0:
            granted, left = self._store.lease(state.record.key_id, self.holder, max(short, amount * LEASE_CALLS),
                                              short, now, LEASE_TTL_S)
            if not granted:
                budget = state.record.budget_usd
                available = max(0.0, left + state.lease_usd - state.reserved_usd)
                raise Denied(429, f"budget exhausted: this key has ${available:.6f} of its ${budget:g} left, and "
                             f"this request could cost up to ${amount:.6f}; ask an admin for a larger budget or "
                             "lower max_tokens", "insufficient_quota")
            state.lease_usd += granted
            state.leased_at = now
        state.reserved_usd += amount

    def settle(self, state: KeyState | None, reserved: float, actual: float) -> None:
        """The recorder adds `actual` to the key's total in the store; here it comes off the lease."""
        if state is not None and state.record.budget_usd is not None:
            state.reserved_usd -= reserved
            state.lease_usd -= actual

    def identify(self, authorization: str | None) -> str | None:
        """The id of the valid key this header carries, if any (for the record of a refused request)."""
        self._reload_when_due()
        state = self._find(_bearer(authorization))
        return state.record.key_id if state else None

    def _find(self, token: str | None) -> KeyState | None:
        return self._by_hash.get(hash_key(token)) if token else None

    def _reload_when_due(self) -> None:
        if time.monotonic() - self._loaded_at > RELOAD_AFTER_S:
            self.reload()

    def holds_leases(self) -> bool:
        return any(state.lease_usd > 0 for state in self._by_hash.values())

    def renewed(self, now: float) -> None:
        """The recorder renewed this process's leases in the store."""
        for state in self._by_hash.values():
            if state.lease_usd > 0:
                state.leased_at = now

    def release(self) -> None:
        self._store.release(self.holder)


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None
