"""The rights table: which role may do what. Deny by default: an action a role is not listed for is refused.

Admins act on every project; every other key acts only on the project it belongs to. README's "Parties and rights"
table is this table in words (tests/access/test_rights.py checks the two agree).
"""

from __future__ import annotations

from dataclasses import dataclass

from gensandbox.errors import Denied

ROLES = ("developer", "tester", "regulator", "admin")
ALL = frozenset(ROLES)

RIGHTS: dict[str, frozenset[str]] = {
    # The gateway: calling the project's models within the key's budget.
    "gateway.call": frozenset({"developer", "admin"}),
    "variants.register": frozenset({"developer", "admin"}),
    # Request by request (with each app's sessions and their traces): the project's own apps only.
    "traffic.requests": frozenset({"developer", "admin"}),
    # Totals and charts over time, no prompt or answer.
    "traffic.aggregate": frozenset({"developer", "regulator", "admin"}),
    # Evaluations and audits.
    "runs.start": frozenset({"tester", "admin"}),
    "runs.read": frozenset({"tester", "regulator", "admin"}),
    "samples.read": frozenset({"tester", "regulator", "admin"}),  # regulators: see may_read_text
    "audits.start": frozenset({"tester", "admin"}),
    "audits.read": frozenset({"tester", "regulator", "admin"}),
    # The ledger as a whole: its sessions, checkpoints and the verify action.
    "ledger.read": frozenset({"regulator", "admin"}),
    # Administration.
    "keys.manage": frozenset({"admin"}),
    "projects.manage": frozenset({"admin"}),
    "models.register": frozenset({"admin"}),
}


@dataclass(frozen=True)
class Principal:
    """Who is asking: a key's id, role and project (an admin's project is where its own actions are filed)."""

    key_id: str
    role: str
    project_id: str
    label: str | None = None

    def may(self, action: str) -> bool:
        return self.role in RIGHTS[action]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


# The machine's own operator before any key exists: the dashboard on loopback and the CLI act as this admin.
OPERATOR = Principal("operator", "admin", "default", "this machine's operator")


def require(principal: Principal, action: str) -> None:
    """Denied(403) naming the action and who may do it, unless the principal's role grants it."""
    if not principal.may(action):
        allowed = ", ".join(role for role in ROLES if role in RIGHTS[action])
        raise Denied(403, f"a {principal.role} key may not {_WORDS[action]}; that takes a key with the role "
                     f"{allowed}", "permission_denied")


def require_project(principal: Principal, project_id: str | None) -> None:
    """A non-admin reaches only its own project. Refused as "not found" so ids cannot be probed for existence."""
    if not principal.is_admin and project_id != principal.project_id:
        raise Denied(404, "no such resource in your project", "not_found")


def visible_projects(principal: Principal) -> set[str] | None:
    """The projects whose data the principal may list (None: all of them)."""
    return None if principal.is_admin else {principal.project_id}


def may_read_text(principal: Principal, privacy: str, regulator_text: bool) -> bool:
    """Prompts and answers of a project's runs: testers and admins; regulators only where the project keeps text
    (privacy "full") and granted regulators to read it."""
    if principal.role == "regulator":
        return privacy == "full" and regulator_text
    return principal.may("samples.read")


_WORDS = {
    "gateway.call": "call models through the gateway",
    "variants.register": "register variants",
    "traffic.requests": "read the project's requests and their traces",
    "traffic.aggregate": "read traffic totals",
    "runs.start": "start or cancel evaluations, or upload suites",
    "runs.read": "read evaluations' results",
    "samples.read": "read evaluations' prompts and answers",
    "audits.start": "start audits",
    "audits.read": "read audits",
    "ledger.read": "read or verify the ledger",
    "keys.manage": "create, change or revoke keys",
    "projects.manage": "create or change projects",
    "models.register": "register models",
}
