"""The store's schema history: an ordered list of named migrations, each a list of SQL statements.

Never edit a migration that has shipped; add a new one. Statements are plain SQL so the PostgreSQL
backend can share them where the dialects agree.
"""

from __future__ import annotations

_RUNS = """
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    models TEXT NOT NULL,
    suites TEXT NOT NULL,
    settings TEXT NOT NULL
)"""

_SAMPLES_V1 = """
CREATE TABLE samples (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    model TEXT NOT NULL,
    suite TEXT NOT NULL,
    item_id TEXT NOT NULL,
    category TEXT NOT NULL,
    language TEXT NOT NULL,
    request TEXT NOT NULL,
    response_text TEXT,
    finish_reason TEXT,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    latency_s REAL,
    cost_usd REAL NOT NULL,
    score REAL,
    scorer TEXT NOT NULL,
    reason TEXT NOT NULL,
    error TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (run_id, model, suite, item_id)
)"""

# Repeats (epochs) need the epoch in the unique key, which SQLite cannot alter in place: rebuild.
_SAMPLES_V2 = """
CREATE TABLE samples_v2 (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    model TEXT NOT NULL,
    suite TEXT NOT NULL,
    item_id TEXT NOT NULL,
    epoch INTEGER NOT NULL DEFAULT 0,
    category TEXT NOT NULL,
    language TEXT NOT NULL,
    request TEXT NOT NULL,
    response_text TEXT,
    finish_reason TEXT,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    latency_s REAL,
    cost_usd REAL NOT NULL,
    score REAL,
    scorer TEXT NOT NULL,
    reason TEXT NOT NULL,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    cached INTEGER NOT NULL DEFAULT 0,
    served_model TEXT,
    flags TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    UNIQUE (run_id, model, suite, item_id, epoch)
)"""

_V1_COLUMNS = ("id, run_id, model, suite, item_id, category, language, request, response_text, finish_reason, "
               "input_tokens, output_tokens, latency_s, cost_usd, score, scorer, reason, error, created_at")

MIGRATIONS: list[tuple[str, list[str]]] = [
    ("001_runs_and_samples", [_RUNS, _SAMPLES_V1]),
    ("002_epochs_cache_and_provenance", [
        _SAMPLES_V2,
        f"INSERT INTO samples_v2 ({_V1_COLUMNS}) SELECT {_V1_COLUMNS} FROM samples",
        "DROP TABLE samples",
        "ALTER TABLE samples_v2 RENAME TO samples",
        "CREATE INDEX samples_by_run ON samples (run_id, id)",
        "CREATE TABLE response_cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, created_at TEXT NOT NULL)",
    ]),
    ("003_gateway_keys_and_requests", [
        """CREATE TABLE api_keys (
            key_id TEXT PRIMARY KEY,
            key_hash TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            label TEXT,
            budget_usd REAL,
            spent_usd REAL NOT NULL DEFAULT 0,
            rpm INTEGER,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        )""",
        """CREATE TABLE gateway_requests (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            key_id TEXT NOT NULL,
            requested_model TEXT NOT NULL,
            route TEXT NOT NULL,
            route_reason TEXT NOT NULL,
            model TEXT,
            status INTEGER NOT NULL,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            latency_s REAL,
            stream INTEGER NOT NULL DEFAULT 0,
            error TEXT
        )""",
        "CREATE INDEX gateway_requests_by_model ON gateway_requests (model, id)",
    ]),
    ("004_audits", [
        """CREATE TABLE audits (
            audit_id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            created_at TEXT NOT NULL,
            title TEXT NOT NULL,
            result TEXT NOT NULL
        )""",
        "CREATE INDEX audits_by_kind ON audits (kind, created_at)",
    ]),
    # Budget leases: each gateway process holds part of a key's budget, so several processes never overspend.
    ("005_budget_leases", [
        """CREATE TABLE budget_leases (
            key_id TEXT NOT NULL,
            holder TEXT NOT NULL,
            amount_usd REAL NOT NULL,
            renewed_at REAL NOT NULL,
            PRIMARY KEY (key_id, holder)
        )""",
    ]),
    # Reasoning kept apart from the answer. ADD COLUMN, not a rebuild: both engines add a column in place.
    ("006_reasoning", [
        "ALTER TABLE samples ADD COLUMN reasoning_text TEXT",
        "ALTER TABLE samples ADD COLUMN reasoning_tokens INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE samples ADD COLUMN first_answer_s REAL",
    ]),
    # The judge call that graded a sample, stored with it (its cost as a column, summed by a resumed run's cap).
    ("007_judge_calls", [
        "ALTER TABLE samples ADD COLUMN judge_call TEXT",
        "ALTER TABLE samples ADD COLUMN judge_cost_usd REAL NOT NULL DEFAULT 0",
    ]),
    # Responses API answers an app may continue from (previous_response_id), each readable only with its key.
    ("008_stored_responses", [
        """CREATE TABLE stored_responses (
            response_id TEXT PRIMARY KEY,
            key_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            conversation TEXT NOT NULL
        )""",
    ]),
    # An agent task's whole episode (its steps, final state and counts), kept with its sample.
    ("009_agent_episodes", ["ALTER TABLE samples ADD COLUMN episode TEXT"]),
    # Projects (tenants): each key, run and audit belongs to one; what existed before belongs to "default".
    ("010_projects", [
        """CREATE TABLE projects (
            project_id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            privacy TEXT NOT NULL DEFAULT 'hashes',
            regulator_text INTEGER NOT NULL DEFAULT 0,
            models TEXT NOT NULL DEFAULT '["*"]',
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL
        )""",
        "ALTER TABLE api_keys ADD COLUMN project_id TEXT NOT NULL DEFAULT 'default'",
        "ALTER TABLE runs ADD COLUMN project_id TEXT NOT NULL DEFAULT 'default'",
        "ALTER TABLE runs ADD COLUMN started_by TEXT",
        "ALTER TABLE audits ADD COLUMN project_id TEXT NOT NULL DEFAULT 'default'",
        "CREATE INDEX runs_by_project ON runs (project_id, created_at)",
    ]),
    # Models an admin registered at runtime (store/models.py), served beside gensandbox.toml's. The definition is
    # the [[models]] entry as JSON; the key itself is never stored, only the name of the variable that holds it.
    ("011_registered_models", [
        """CREATE TABLE registered_models (
            name TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            base_url TEXT,
            upstream_model TEXT NOT NULL,
            api_key_env TEXT,
            definition TEXT NOT NULL,
            allow_internal INTEGER NOT NULL DEFAULT 0,
            registered_by TEXT NOT NULL,
            registered_at TEXT NOT NULL
        )""",
    ]),
]
