"""The audits pages: empty state, a saved audit's finding and method in both languages, escaping, 404."""

from __future__ import annotations

from gensandbox.config import load_config
from gensandbox.store import SQLiteStore
from gensandbox.store.audits import AuditStore
from tests.ui.conftest import dashboard_client


def test_audits_list_and_detail(home):
    config = load_config(None)
    client = dashboard_client(config)
    empty = client.get("/audits?lang=ko").text
    assert "아직 감사가 없습니다" in empty and "gensandbox audit switching" in empty

    store = SQLiteStore(config.database_path)
    record = AuditStore(store).save("switching", "switching from a to b keeps 90% of quality at 30% of the cost",
                                    {"method": "Every model answered the same workload.", "run_id": "r1",
                                     "note": "<script>alert(1)</script>"})
    listing = client.get("/audits?lang=en").text
    assert record.title in listing and f'href="/audits/{record.audit_id}"' in listing and "switching cost" in listing
    detail = client.get(f"/audits/{record.audit_id}?lang=en").text
    assert "Every model answered the same workload." in detail
    assert "<script>alert(1)</script>" not in detail and "&lt;script&gt;" in detail
    assert "전환 비용" in client.get(f"/audits/{record.audit_id}?lang=ko").text
    missing = client.get("/audits/nope")
    assert missing.status_code == 404 and "gensandbox audit list" in missing.text
