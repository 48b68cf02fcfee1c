package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SessionState says whether a session is the chat's current conversation.
type SessionState string

// Session states. A chat has at most one active session; /new archives it.
const (
	SessionActive   SessionState = "active"
	SessionArchived SessionState = "archived"
)

// Session is one conversation in a chat. Archived sessions and their
// messages are kept.
type Session struct {
	ID            int64
	ChatID        string
	State         SessionState
	ModelOverride string  // model ref chosen with /model for this chat; "" = configured primary
	Privacy       Privacy // set with /privacy
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

const sessionColumns = `id, chat_id, state, model_override, privacy, created_at, updated_at`

func scanSession(row scanner) (Session, error) {
	var ss Session
	var created, updated int64
	err := row.Scan(&ss.ID, &ss.ChatID, &ss.State, &ss.ModelOverride, &ss.Privacy, &created, &updated)
	ss.CreatedAt, ss.UpdatedAt = fromMillis(created), fromMillis(updated)
	return ss, err
}

const (
	activeSessionQuery = `SELECT ` + sessionColumns + ` FROM sessions WHERE chat_id = ? AND state = 'active'`
	// The conflict target is the partial unique index sessions_one_active.
	ensureSessionQuery = `
INSERT INTO sessions (chat_id, state, created_at, updated_at) VALUES (?, 'active', ?, ?)
ON CONFLICT (chat_id) WHERE state = 'active' DO NOTHING`
)

// ActiveSession returns the chat's active session, creating it if the chat
// has none.
func (s *Store) ActiveSession(ctx context.Context, chatID string) (Session, error) {
	ss, err := scanSession(s.db.QueryRowContext(ctx, activeSessionQuery, chatID))
	switch {
	case err == nil:
		return ss, nil
	case !errors.Is(err, sql.ErrNoRows):
		return Session{}, fmt.Errorf("get active session: %w", err)
	}
	now := millis(s.now())
	if _, err := s.db.ExecContext(ctx, ensureSessionQuery, chatID, now, now); err != nil {
		return Session{}, fmt.Errorf("create session: %w", err)
	}
	ss, err = scanSession(s.db.QueryRowContext(ctx, activeSessionQuery, chatID))
	if err != nil {
		return Session{}, fmt.Errorf("get active session: %w", err)
	}
	return ss, nil
}

const (
	archiveSessionQuery = `UPDATE sessions SET state = 'archived', updated_at = ? WHERE id = ?`
	insertSessionQuery  = `
INSERT INTO sessions (chat_id, state, model_override, privacy, created_at, updated_at)
VALUES (?, 'active', ?, ?, ?, ?)`
)

// NewSession archives the chat's active session, if any, and starts a fresh
// one that keeps its model override and privacy mode. Nothing is deleted.
func (s *Store) NewSession(ctx context.Context, chatID string) (Session, error) {
	var fresh Session
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := scanSession(tx.QueryRowContext(ctx, activeSessionQuery, chatID))
		if errors.Is(err, sql.ErrNoRows) {
			old = Session{}
		} else if err != nil {
			return err
		}
		now := s.now()
		if old.ID != 0 {
			if _, err := tx.ExecContext(ctx, archiveSessionQuery, millis(now), old.ID); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, insertSessionQuery, chatID, old.ModelOverride, old.Privacy, millis(now), millis(now))
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		fresh = Session{
			ID:            id,
			ChatID:        chatID,
			State:         SessionActive,
			ModelOverride: old.ModelOverride,
			Privacy:       old.Privacy,
			CreatedAt:     fromMillis(millis(now)),
			UpdatedAt:     fromMillis(millis(now)),
		}
		return nil
	})
	if err != nil {
		return Session{}, fmt.Errorf("new session: %w", err)
	}
	return fresh, nil
}

const setModelOverrideQuery = `UPDATE sessions SET model_override = ?, updated_at = ? WHERE id = ?`

// SetModelOverride sets the session's model ref; "" goes back to the
// configured primary.
func (s *Store) SetModelOverride(ctx context.Context, sessionID int64, ref string) error {
	res, err := s.db.ExecContext(ctx, setModelOverrideQuery, ref, millis(s.now()), sessionID)
	if err == nil {
		err = checkAffected(res)
	}
	if err != nil {
		return fmt.Errorf("set model override of session %d: %w", sessionID, err)
	}
	return nil
}

const setPrivacyQuery = `UPDATE sessions SET privacy = ?, updated_at = ? WHERE id = ?`

// Privacy says where a chat's text may go.
type Privacy string

// Privacy modes, as /privacy sets them.
const (
	PrivacyDefault Privacy = ""      // local models first, hosted fallbacks allowed
	PrivacyLocal   Privacy = "local" // local providers only, even when they are down
)

// SetPrivacy sets the session's privacy mode.
func (s *Store) SetPrivacy(ctx context.Context, sessionID int64, mode Privacy) error {
	res, err := s.db.ExecContext(ctx, setPrivacyQuery, mode, millis(s.now()), sessionID)
	if err == nil {
		err = checkAffected(res)
	}
	if err != nil {
		return fmt.Errorf("set privacy of session %d: %w", sessionID, err)
	}
	return nil
}

const sessionsQuery = `SELECT ` + sessionColumns + ` FROM sessions WHERE chat_id = ? ORDER BY id`

// Sessions lists the chat's sessions, oldest first.
func (s *Store) Sessions(ctx context.Context, chatID string) ([]Session, error) {
	rows, err := s.db.QueryContext(ctx, sessionsQuery, chatID)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var list []Session
	for rows.Next() {
		ss, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		list = append(list, ss)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return list, nil
}
