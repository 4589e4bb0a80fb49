"""db/: addresses read one way for the store and the ledger, and the engines' integrity errors in the error tree
(on real SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from gensandbox.access.keys import new_key
from gensandbox.db import parse_database_url
from gensandbox.errors import ConfigError, DuplicateRecordError
from gensandbox.ledger.writer import open_backend
from gensandbox.store import store_at
from gensandbox.store.gateway import GatewayStore


@pytest.mark.parametrize(("url", "what", "parsed"), [
    ("sqlite:///tmp/a.db", "store", ("sqlite", "tmp/a.db")),
    ("sqlite:////tmp/a.db", "ledger", ("sqlite", "/tmp/a.db")),
    ("postgresql://u:pw@h/db", "ledger", ("postgresql", "postgresql://u:pw@h/db")),
    ("postgres://u@h/db", "store", ("postgresql", "postgres://u@h/db")),
    ("plain/file.db", "store", ("sqlite", "plain/file.db")),
])
def test_one_reading_of_addresses(url, what, parsed):
    assert parse_database_url(url, what) == parsed


@pytest.mark.parametrize(("url", "what", "message"), [
    ("mysql://app:s3cret@db/x", "store", r"not a store address \(mysql:…\)"),
    ("mysql://app:s3cret@db/x", "ledger", r"unknown ledger address \(mysql:…\); use postgresql://"),
    ("plain/file.db", "ledger", r"unknown ledger address \(plain/file.db:…\)"),
    ("", "store", r"not a store address \(an empty address\)"),
])
def test_bad_addresses_are_one_line_without_the_password(url, what, message):
    with pytest.raises(ConfigError, match=message) as raised:
        parse_database_url(url, what)
    assert "s3cret" not in str(raised.value)


def test_the_ledger_opens_through_the_same_reading(tmp_path):
    with pytest.raises(ConfigError, match="unknown ledger address"):
        open_backend("mysql://app:s3cret@db/x")
    backend = open_backend(f"sqlite:///{tmp_path / 'ledger.db'}")
    assert backend.location == str(tmp_path / "ledger.db") and backend.head().seq == 0
    backend.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}" if request.param == "sqlite" \
        else request.getfixturevalue("postgres_server").create_database()
    opened = store_at(url)
    yield opened
    opened.close()


def test_a_broken_unique_key_is_a_duplicate_record_error_and_writes_nothing(store):
    gateway = GatewayStore(store)
    _, record = new_key("developer", 1.0, None, "first")
    gateway.add_key(record)
    with pytest.raises(DuplicateRecordError, match="already holds a record like this one.*nothing was written"):
        gateway.add_key(record)
    with pytest.raises(DuplicateRecordError):  # executemany too, inside a transaction: rolled back whole
        with store.transaction():
            store.db.executemany("INSERT INTO api_keys (key_id, key_hash, role, spent_usd, created_at) VALUES "
                                 "(?, ?, ?, ?, ?)", [("key_new", "h", "developer", 0.0, "t"),
                                                     (record.key_id, "h", "developer", 0.0, "t")])
    assert [k.key_id for k in gateway.keys()] == [record.key_id]
