"""What one principal may see of the store and the ledger: its project's runs, audits, keys and events (an admin:
everything). Built per request from two small lookups, so a key revoked or moved is seen at once."""

from __future__ import annotations

from dataclasses import dataclass

from gensandbox.access import DEFAULT_PROJECT, Principal, ProjectRecord, ProjectStore, may_read_text
from gensandbox.config import Config, ModelConfig
from gensandbox.errors import NotFoundError
from gensandbox.store import SQLStore
from gensandbox.store.audits import AuditRecord, AuditStore
from gensandbox.store.gateway import GatewayStore
from gensandbox.store.models import with_registered_models


@dataclass(frozen=True)
class Scope:
    principal: Principal
    key_projects: dict[str, str]  # key id → project
    run_projects: dict[str, str]  # run id → project

    @property
    def everything(self) -> bool:
        return self.principal.is_admin

    def sees_project(self, project_id: str | None) -> bool:
        return self.everything or project_id == self.principal.project_id

    def sees_run(self, run_id: str) -> bool:
        return self.sees_project(self.run_projects.get(run_id))

    def event_project(self, record: dict) -> str:
        """An event's project: its run's (the store says who owns a run, whoever started it), else its key's, else
        the one written on it."""
        key_id, run_id = record.get("gensandbox.key_id"), record.get("gensandbox.run_id")
        if run_id and run_id in self.run_projects:
            return self.run_projects[run_id]
        if key_id and key_id in self.key_projects:
            return self.key_projects[key_id]
        return record.get("gensandbox.project") or DEFAULT_PROJECT

    def sees_event(self, record: dict) -> bool:
        return self.everything or self.event_project(record) == self.principal.project_id

    def project_keys(self) -> set[str] | None:
        """The key ids whose traffic the principal may count (None: every key, anonymous requests included)."""
        if self.everything:
            return None
        return {key for key, project in self.key_projects.items() if project == self.principal.project_id}


def scope_of(store: SQLStore, principal: Principal) -> Scope:
    keys = {record.key_id: record.project_id for record in GatewayStore(store).keys()}
    return Scope(principal, keys, ProjectStore(store).run_projects())


def run_in_scope(store: SQLStore, principal: Principal, run_id: str, not_found: str) -> ProjectRecord:
    """The run's project, when the principal may see the run; otherwise the same "not found" as a missing run, so
    another project's ids cannot be confirmed by guessing."""
    project_id = ProjectStore(store).run_project(run_id)
    if project_id is None or not (principal.is_admin or project_id == principal.project_id):
        raise NotFoundError(not_found)
    return ProjectStore(store).get(project_id)


def reads_text(store: SQLStore, principal: Principal, project: ProjectRecord) -> bool:
    return may_read_text(principal, project.privacy, project.regulator_text)


def visible_audits(store: SQLStore, principal: Principal) -> list[tuple[AuditRecord, str | None]]:
    """The audits the principal may read, each with its project."""
    owners = ProjectStore(store).audit_projects()
    return [(audit, owners.get(audit.audit_id)) for audit in AuditStore(store).list()
            if principal.is_admin or owners.get(audit.audit_id) == principal.project_id]


def visible_audit(store: SQLStore, principal: Principal, audit_id: str) -> AuditRecord:
    """One audit, if the principal may read it; another project's is "not found" in the very words of an audit
    that does not exist, so its id cannot be confirmed."""
    owner = ProjectStore(store).audit_project(audit_id)
    if owner is not None and not (principal.is_admin or owner == principal.project_id):
        raise NotFoundError(f"no audit `{audit_id}`; `gensandbox audit list` shows them")
    return AuditStore(store).get(audit_id)


def usable_models(config: Config, store: SQLStore, principal: Principal) -> dict[str, ModelConfig]:
    """The models the principal's project shares with it (every one for an admin): gensandbox.toml's, the built-in
    and the registered ones, by name."""
    models = with_registered_models(config, store).models
    if principal.is_admin:
        return dict(models)
    project = ProjectStore(store).get(principal.project_id)
    return {name: model for name, model in models.items() if project.allows_model(name)}
