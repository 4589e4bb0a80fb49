"""README's "Parties and rights" table says what gensandbox.access.RIGHTS enforces: row for row, mark for mark."""

from __future__ import annotations

import re
from pathlib import Path

from gensandbox.access import RIGHTS

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_table() -> dict[str, set[str]]:
    text = README.read_text(encoding="utf-8")
    table = text.split("<!-- rights-table")[1].split("<!-- /rights-table -->")[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "`" in line]
    header = [cell.strip() for cell in table.splitlines()[1].strip("|").split("|")]
    roles = header[2:]
    found = {}
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        right = re.search(r"`([\w.]+)`", cells[1]).group(1)
        found[right] = {role for role, mark in zip(roles, cells[2:], strict=True) if mark.startswith("✓")}
    return found


def test_the_readme_table_is_the_rights_table():
    assert readme_table() == {action: set(roles) for action, roles in RIGHTS.items()}


def test_the_readme_lists_every_management_endpoint():
    from gensandbox.ui.api_routes import ENDPOINTS

    text = README.read_text(encoding="utf-8")
    missing = [f"{e.method} {e.path}" for e in ENDPOINTS if f"`{e.method} {e.path}`" not in text]
    assert not missing, f"README's management API table lacks {missing}"
