"""Projects: who owns which runs, keys, audits and traffic, which models a project's parties may use, and how much
of its prompts and answers the ledger and regulators see."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields

from gensandbox.access.record import AdminRecorder
from gensandbox.access.rights import Principal, require
from gensandbox.canonical import now_utc
from gensandbox.errors import DuplicateRecordError, NotFoundError, UserError
from gensandbox.store.sql import SQLStore

DEFAULT_PROJECT = "default"
PRIVACY_MODES = ("hashes", "full")
ALL_MODELS = "*"
_PROJECT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class ProjectRecord:
    project_id: str
    title: str
    privacy: str  # "hashes": the ledger keeps keyed digests only; "full": it keeps prompts and answers too
    regulator_text: bool  # with privacy "full": regulators may read prompts and answers
    models: list[str]  # the models the project's parties may use; ["*"]: every configured model
    created_at: str
    created_by: str

    def allows_model(self, model: str) -> bool:
        return ALL_MODELS in self.models or model in self.models


_COLUMNS = [f.name for f in fields(ProjectRecord)]


class ProjectStore:
    """Projects, and which project each run and audit belongs to, in the same store as everything else."""

    def __init__(self, store: SQLStore):
        self._store = store
        self._db = store.db

    def create(self, project_id: str, title: str, created_by: str, *, privacy: str = "hashes",
               regulator_text: bool = False, models: list[str] | None = None) -> ProjectRecord:
        check_project_id(project_id)
        record = ProjectRecord(project_id, title or project_id, _privacy(privacy), bool(regulator_text),
                               list(models) if models is not None else [ALL_MODELS], now_utc(), created_by)
        try:
            self._insert(record)
        except DuplicateRecordError:
            raise UserError(f"project `{project_id}` exists already; choose another id") from None
        return record

    def get(self, project_id: str) -> ProjectRecord:
        row = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM projects WHERE project_id = ?",
                               (project_id,)).fetchone()
        if row is None:
            if project_id == DEFAULT_PROJECT:  # exists from the start, whether or not anyone changed it
                return ProjectRecord(DEFAULT_PROJECT, "Default project", "hashes", False, [ALL_MODELS], "", "operator")
            raise NotFoundError(f"no project `{project_id}`; `gensandbox projects list` shows them")
        return _record(row)

    def list(self) -> list[ProjectRecord]:
        rows = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM projects ORDER BY project_id").fetchall()
        found = [_record(row) for row in rows]
        if all(project.project_id != DEFAULT_PROJECT for project in found):
            found.insert(0, self.get(DEFAULT_PROJECT))
        return found

    def change(self, project_id: str, changes: dict) -> ProjectRecord:
        """Set a project's title, privacy, regulator grant or models."""
        current = self.get(project_id)
        unknown = set(changes) - {"title", "privacy", "regulator_text", "models"}
        if unknown:
            raise UserError(f"a project has no setting {', '.join(sorted(unknown))}; it has title, privacy, "
                            "regulator_text and models")
        updated = ProjectRecord(**{**current.__dict__, **changes})
        updated = ProjectRecord(**{**updated.__dict__, "privacy": _privacy(updated.privacy),
                                   "regulator_text": bool(updated.regulator_text), "models": list(updated.models)})
        with self._store.transaction():
            self._db.execute("DELETE FROM projects WHERE project_id = ?", (project_id,))
            self._insert(updated)
        return updated

    def exists(self, project_id: str) -> bool:
        try:
            self.get(project_id)
        except NotFoundError:
            return False
        return True

    # Which project owns what.
    def assign_run(self, run_id: str, project_id: str, started_by: str | None) -> None:
        self._db.execute("UPDATE runs SET project_id = ?, started_by = ? WHERE run_id = ?",
                         (project_id, started_by, run_id))

    def run_project(self, run_id: str) -> str | None:
        row = self._db.execute("SELECT project_id FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return row[0] if row else None

    def run_projects(self) -> dict[str, str]:
        return {row[0]: row[1] for row in self._db.execute("SELECT run_id, project_id FROM runs")}

    def assign_audit(self, audit_id: str, project_id: str) -> None:
        self._db.execute("UPDATE audits SET project_id = ? WHERE audit_id = ?", (project_id, audit_id))

    def audit_project(self, audit_id: str) -> str | None:
        row = self._db.execute("SELECT project_id FROM audits WHERE audit_id = ?", (audit_id,)).fetchone()
        return row[0] if row else None

    def audit_projects(self) -> dict[str, str]:
        return {row[0]: row[1] for row in self._db.execute("SELECT audit_id, project_id FROM audits")}

    def key_ids(self, project_id: str) -> set[str]:
        """Every key of the project, revoked ones too: their traffic is still the project's."""
        return {row[0] for row in self._db.execute("SELECT key_id FROM api_keys WHERE project_id = ?",
                                                   (project_id,))}

    def _insert(self, record: ProjectRecord) -> None:
        values = {**record.__dict__, "models": json.dumps(record.models), "regulator_text": int(record.regulator_text)}
        self._db.execute(f"INSERT INTO projects ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})",
                         tuple(values[name] for name in _COLUMNS))


class ProjectAdmin:
    """What an admin does to projects, each act checked and recorded on the ledger."""

    def __init__(self, store: SQLStore, recorder: AdminRecorder):
        self._projects, self._recorder = ProjectStore(store), recorder

    def create(self, actor: Principal, project_id: str, title: str = "", *, privacy: str = "hashes",
               regulator_text: bool = False, models: list[str] | None = None) -> ProjectRecord:
        require(actor, "projects.manage")
        record = self._projects.create(project_id, title, actor.key_id, privacy=privacy,
                                       regulator_text=regulator_text, models=models)
        self._recorder.record(actor, "project.created", project_id, {
            "title": record.title, "privacy": record.privacy, "regulator_text": record.regulator_text,
            "models": record.models})
        return record

    def change(self, actor: Principal, project_id: str, changes: dict) -> ProjectRecord:
        require(actor, "projects.manage")
        before = self._projects.get(project_id)
        if before.created_by == "operator" and not before.created_at:  # the implicit default: make it a row first
            self._projects.create(DEFAULT_PROJECT, before.title, actor.key_id)
        record = self._projects.change(project_id, changes)
        self._recorder.record(actor, "project.changed", project_id, {
            name: {"from": getattr(before, name), "to": getattr(record, name)} for name in sorted(changes)})
        return record


def check_project_id(project_id: str) -> None:
    if not _PROJECT_ID.match(project_id or ""):
        raise UserError(f"`{project_id}` is not a project id: use 1-40 lower-case letters, digits, - or _, "
                        "starting with a letter or digit (e.g. `acme-chatbot`)")


def _privacy(value: str) -> str:
    if value not in PRIVACY_MODES:
        raise UserError(f"privacy `{value}` is not one of {', '.join(PRIVACY_MODES)}")
    return value


def _record(row: tuple) -> ProjectRecord:
    values = dict(zip(_COLUMNS, row, strict=True))
    return ProjectRecord(**{**values, "models": json.loads(values["models"]),
                            "regulator_text": bool(values["regulator_text"])})
