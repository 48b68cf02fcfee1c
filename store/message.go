package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Role says who wrote a message.
type Role string

// Message roles.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// Message is one stored turn half. Compacted messages are replaced in the
// model's context by a summary but stay in the database.
type Message struct {
	ID            int64
	SessionID     int64
	Role          Role
	Text          string
	Tokens        int    // estimated size
	PlatformMsgID string // the channel's message id, if any
	Compacted     bool
	CreatedAt     time.Time
}

const messageColumns = `id, session_id, role, text, tokens, platform_msg_id, compacted, created_at`

func scanMessage(row scanner) (Message, error) {
	var m Message
	var created int64
	err := row.Scan(&m.ID, &m.SessionID, &m.Role, &m.Text, &m.Tokens, &m.PlatformMsgID, &m.Compacted, &created)
	m.CreatedAt = fromMillis(created)
	return m, err
}

const insertMessageQuery = `
INSERT INTO messages (session_id, role, text, tokens, platform_msg_id, compacted, created_at)
VALUES (?, ?, ?, ?, ?, 0, ?)`

// execer is a *sql.DB or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Store) insertMessage(ctx context.Context, db execer, m Message) (int64, error) {
	if m.Role != RoleUser && m.Role != RoleAssistant {
		return 0, fmt.Errorf("invalid role %q", m.Role)
	}
	res, err := db.ExecContext(ctx, insertMessageQuery, m.SessionID, m.Role, m.Text, m.Tokens, m.PlatformMsgID, millis(s.now()))
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// AppendMessage stores m, uncompacted and stamped now, and returns its id.
// m.ID, m.Compacted and m.CreatedAt are ignored.
func (s *Store) AppendMessage(ctx context.Context, m Message) (int64, error) {
	id, err := s.insertMessage(ctx, s.db, m)
	if err != nil {
		return 0, fmt.Errorf("append message to session %d: %w", m.SessionID, err)
	}
	return id, nil
}

// AppendTurn stores a user message and the reply to it in one transaction,
// so a turn is never half stored. The roles and session are set here.
func (s *Store) AppendTurn(ctx context.Context, sessionID int64, user, reply Message) (userID, replyID int64, err error) {
	user.SessionID, user.Role = sessionID, RoleUser
	reply.SessionID, reply.Role = sessionID, RoleAssistant
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if userID, err = s.insertMessage(ctx, tx, user); err != nil {
			return err
		}
		replyID, err = s.insertMessage(ctx, tx, reply)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("append turn to session %d: %w", sessionID, err)
	}
	return userID, replyID, nil
}

// storedReplyQuery finds the answer stored right after the user message
// with a platform id.
const storedReplyQuery = `
SELECT a.text FROM messages u JOIN messages a ON a.session_id = u.session_id AND a.id > u.id
WHERE u.session_id = ? AND u.platform_msg_id = ? AND u.platform_msg_id != '' AND u.role = 'user' AND a.role = 'assistant'
ORDER BY u.id, a.id LIMIT 1`

// StoredReply returns the answer stored in a session to the user message
// with platform id msgID; false if there is none (or msgID is "").
func (s *Store) StoredReply(ctx context.Context, sessionID int64, msgID string) (string, bool, error) {
	if msgID == "" {
		return "", false, nil
	}
	var text string
	err := s.db.QueryRowContext(ctx, storedReplyQuery, sessionID, msgID).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	} else if err != nil {
		return "", false, fmt.Errorf("stored reply in session %d: %w", sessionID, err)
	}
	return text, true, nil
}

// recentMessagesQuery walks the index messages_session_tail backwards from
// the newest message, so its cost does not grow with the history.
const recentMessagesQuery = `
SELECT ` + messageColumns + ` FROM messages
WHERE session_id = ? AND compacted = 0
ORDER BY id DESC LIMIT ?`

// RecentMessages returns the session's newest limit uncompacted messages,
// oldest first.
func (s *Store) RecentMessages(ctx context.Context, sessionID int64, limit int) ([]Message, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, recentMessagesQuery, sessionID, limit)
	if err != nil {
		return nil, fmt.Errorf("recent messages of session %d: %w", sessionID, err)
	}
	defer rows.Close()
	list := make([]Message, 0, min(limit, 256))
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("recent messages of session %d: %w", sessionID, err)
		}
		list = append(list, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent messages of session %d: %w", sessionID, err)
	}
	slices.Reverse(list)
	return list, nil
}

const countMessagesQuery = `SELECT count(*), coalesce(sum(compacted), 0) FROM messages WHERE session_id = ?`

// CountMessages returns how many messages the session has and how many of
// them are compacted.
func (s *Store) CountMessages(ctx context.Context, sessionID int64) (total, compacted int, err error) {
	err = s.db.QueryRowContext(ctx, countMessagesQuery, sessionID).Scan(&total, &compacted)
	if err != nil {
		return 0, 0, fmt.Errorf("count messages of session %d: %w", sessionID, err)
	}
	return total, compacted, nil
}

// Summary condenses a session's messages up to and including
// ThroughMessageID.
type Summary struct {
	ID               int64
	SessionID        int64
	Text             string
	Tokens           int // estimated size
	ThroughMessageID int64
	CreatedAt        time.Time
}

const latestSummaryQuery = `
SELECT id, session_id, text, tokens, through_message_id, created_at FROM summaries
WHERE session_id = ? ORDER BY id DESC LIMIT 1`

// LatestSummary returns the session's newest summary; false if it has none.
func (s *Store) LatestSummary(ctx context.Context, sessionID int64) (Summary, bool, error) {
	var sum Summary
	var created int64
	err := s.db.QueryRowContext(ctx, latestSummaryQuery, sessionID).
		Scan(&sum.ID, &sum.SessionID, &sum.Text, &sum.Tokens, &sum.ThroughMessageID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Summary{}, false, nil
	} else if err != nil {
		return Summary{}, false, fmt.Errorf("latest summary of session %d: %w", sessionID, err)
	}
	sum.CreatedAt = fromMillis(created)
	return sum, true, nil
}

const (
	markCompactedQuery = `
UPDATE messages SET compacted = 1
WHERE session_id = ? AND compacted = 0 AND id <= ?`
	// Inserts nothing unless the covered message belongs to the session.
	insertSummaryQuery = `
INSERT INTO summaries (session_id, text, tokens, through_message_id, created_at)
SELECT session_id, ?, ?, id, ? FROM messages WHERE id = ? AND session_id = ?`
)

// Compact stores sum as the session's newest summary and marks the
// session's messages up to sum.ThroughMessageID compacted, in one
// transaction: both happen or neither. sum.ThroughMessageID must be a
// message of the session; sum.ID, sum.SessionID and sum.CreatedAt are
// ignored.
func (s *Store) Compact(ctx context.Context, sessionID int64, sum Summary) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, markCompactedQuery, sessionID, sum.ThroughMessageID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, insertSummaryQuery,
			sum.Text, sum.Tokens, millis(s.now()), sum.ThroughMessageID, sessionID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("message %d is not in this session: %w", sum.ThroughMessageID, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("compact session %d: %w", sessionID, err)
	}
	return nil
}

const revokeMessageQuery = `
WITH target AS (
	SELECT u.id, u.session_id FROM messages u JOIN sessions s ON s.id = u.session_id
	WHERE s.chat_id = ? AND u.role = 'user' AND u.platform_msg_id = ? AND u.platform_msg_id != ''
)
UPDATE messages SET text = CASE role WHEN 'user' THEN ? ELSE ? END, tokens = ?
WHERE id IN (SELECT id FROM target)
   OR (role = 'assistant' AND id IN (
	SELECT (SELECT min(m.id) FROM messages m WHERE m.session_id = t.session_id AND m.id > t.id) FROM target t))`

// RevokeMessage replaces the text of a user's message in a chat's history
// (in any of its sessions) with userText, and the reply that answered it
// with replyText, so that a message its sender deleted never reaches a
// model again, not even echoed in the answer. It reports whether one was
// found. Notes written before the deletion may still mention it.
func (s *Store) RevokeMessage(ctx context.Context, chatID, msgID, userText, replyText string, tokens int) (bool, error) {
	res, err := s.db.ExecContext(ctx, revokeMessageQuery, chatID, msgID, userText, replyText, tokens)
	if err != nil {
		return false, fmt.Errorf("forget a deleted message: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("forget a deleted message: %w", err)
	}
	return n > 0, nil
}
