-- Replies on their way out. A reply is written here, split into the parts
-- the channel will send and each with the message id it will be sent
-- under, before the first part is sent; a part is marked sent once the
-- channel confirms it. After a crash the unsent parts are sent again under
-- the same ids, which WhatsApp delivers once. The rows of a message are
-- deleted when its inbox row is finished.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    inbox_id   INTEGER NOT NULL REFERENCES inbox (id),
    part       INTEGER NOT NULL,
    chat_id    TEXT    NOT NULL,
    msg_id     TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    quote_id   TEXT    NOT NULL DEFAULT '',
    sent       INTEGER NOT NULL DEFAULT 0 CHECK (sent IN (0, 1)),
    -- What the inbox row becomes once every part is sent.
    then_state  TEXT    NOT NULL DEFAULT 'done' CHECK (then_state IN ('done', 'failed', 'skipped')),
    then_reason TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    UNIQUE (inbox_id, part)
);

-- Finds the stored answer to a platform message, so a message whose turn
-- was stored before a crash is not sent to a model again.
CREATE INDEX messages_platform_id ON messages (session_id, platform_msg_id) WHERE platform_msg_id != '';
