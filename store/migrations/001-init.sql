-- waclaw's own tables. whatsmeow keeps its whatsmeow_* tables in the same
-- file; nothing here may refer to them.

CREATE TABLE sessions (
    id             INTEGER PRIMARY KEY,
    chat_id        TEXT    NOT NULL,
    state          TEXT    NOT NULL CHECK (state IN ('active', 'archived')),
    model_override TEXT    NOT NULL DEFAULT '',
    privacy        TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
-- At most one active session per chat.
CREATE UNIQUE INDEX sessions_one_active ON sessions (chat_id) WHERE state = 'active';
CREATE INDEX sessions_chat ON sessions (chat_id, id);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    session_id      INTEGER NOT NULL REFERENCES sessions (id),
    role            TEXT    NOT NULL CHECK (role IN ('user', 'assistant')),
    text            TEXT    NOT NULL,
    tokens          INTEGER NOT NULL DEFAULT 0,
    platform_msg_id TEXT    NOT NULL DEFAULT '',
    compacted       INTEGER NOT NULL DEFAULT 0 CHECK (compacted IN (0, 1)),
    created_at      INTEGER NOT NULL
);
-- Serves the context window: the newest non-compacted messages of a session
-- without reading the rest of its history.
CREATE INDEX messages_session_tail ON messages (session_id, compacted, id);

CREATE TABLE summaries (
    id                 INTEGER PRIMARY KEY,
    session_id         INTEGER NOT NULL REFERENCES sessions (id),
    text               TEXT    NOT NULL,
    tokens             INTEGER NOT NULL DEFAULT 0,
    through_message_id INTEGER NOT NULL REFERENCES messages (id),
    created_at         INTEGER NOT NULL
);
CREATE INDEX summaries_session ON summaries (session_id, id);

CREATE TABLE inbox (
    id          INTEGER PRIMARY KEY,
    chat_id     TEXT    NOT NULL,
    sender_id   TEXT    NOT NULL,
    msg_id      TEXT    NOT NULL,
    payload     BLOB    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'done', 'failed', 'skipped')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    reason      TEXT    NOT NULL DEFAULT '',
    received_at INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (chat_id, sender_id, msg_id)
);
CREATE INDEX inbox_state ON inbox (state, id);

CREATE TABLE usage (
    id              INTEGER PRIMARY KEY,
    chat_id         TEXT    NOT NULL,
    provider        TEXT    NOT NULL,
    model           TEXT    NOT NULL,
    tokens_in       INTEGER NOT NULL DEFAULT 0,
    tokens_out      INTEGER NOT NULL DEFAULT 0,
    tokens_cached   INTEGER NOT NULL DEFAULT 0,
    cost            REAL    NOT NULL DEFAULT 0,
    latency_ms      INTEGER NOT NULL DEFAULT 0,
    ok              INTEGER NOT NULL CHECK (ok IN (0, 1)),
    fallback_reason TEXT    NOT NULL DEFAULT '',
    error           TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL
);
CREATE INDEX usage_time ON usage (created_at);
CREATE INDEX usage_chat_time ON usage (chat_id, created_at);

CREATE TABLE access (
    number          TEXT    PRIMARY KEY,
    state           TEXT    NOT NULL CHECK (state IN ('allowed', 'pending', 'blocked')),
    admin           INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
    pairing_code    TEXT    NOT NULL DEFAULT '',
    code_expires_at INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- Unique so a code can never approve the wrong number; '' means no code.
CREATE UNIQUE INDEX access_pairing_code ON access (pairing_code) WHERE pairing_code <> '';

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
