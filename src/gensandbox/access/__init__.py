"""Who may do what: projects (tenants) that own runs, keys and traffic; the four roles and the rights each grants,
deny by default; the principal a key or a dashboard session stands for. The gateway, the dashboard and the
management API all ask this package, so one table decides everywhere."""

from gensandbox.access.projects import DEFAULT_PROJECT, PRIVACY_MODES, ProjectRecord, ProjectStore
from gensandbox.access.rights import (
    OPERATOR,
    RIGHTS,
    ROLES,
    Principal,
    may_read_text,
    require,
    require_project,
    visible_projects,
)

__all__ = ["DEFAULT_PROJECT", "OPERATOR", "PRIVACY_MODES", "RIGHTS", "ROLES", "Principal", "ProjectRecord",
           "ProjectStore", "may_read_text", "require", "require_project", "visible_projects"]
