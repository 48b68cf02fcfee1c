package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// A chat's id is the channel's name for it, and a channel may change its
// mind: WhatsApp names one person's chat by their phone number or by a LID
// (an opaque id), and once the channel settles on one key per person, what
// was stored under the other has to follow. RekeyChat moves it.

// ChatMove counts what RekeyChat moved.
type ChatMove struct {
	Sessions int   // sessions, with their messages and summaries
	Archived int64 // the session archived because both chats had an active one; 0 if none
	Inbox    int   // received messages
	Dropped  int   // received messages recorded under both chats: the old chat's copy
	Outbox   int   // reply parts addressed to the chat
	Usage    int   // model requests counted for the chat
	Settings int   // pairing requests answered in the chat
}

// Moved reports whether anything was stored under the old chat.
func (m ChatMove) Moved() bool { return m != ChatMove{} }

// chatStoredQuery finds anything stored under a chat id (?1).
const chatStoredQuery = `
SELECT EXISTS (SELECT 1 FROM sessions WHERE chat_id = ?1)
    OR EXISTS (SELECT 1 FROM inbox WHERE chat_id = ?1)
    OR EXISTS (SELECT 1 FROM outbox WHERE chat_id = ?1)
    OR EXISTS (SELECT 1 FROM usage WHERE chat_id = ?1)
    OR EXISTS (SELECT 1 FROM settings WHERE substr(key, 1, ?2) = ?3 AND value = ?1)`

const (
	// lastUsedQuery is when a session was last used: its last message, or
	// its last /model or /privacy, whichever is later.
	lastUsedQuery = `
SELECT max(updated_at, coalesce((SELECT max(created_at) FROM messages WHERE session_id = ?), 0))
FROM sessions WHERE id = ?`
	keepSessionQuery    = `UPDATE sessions SET privacy = ?, updated_at = ? WHERE id = ?`
	moveSessionsQuery   = `UPDATE sessions SET chat_id = ? WHERE chat_id = ?`
	pendingPayloadQuery = `SELECT id, payload FROM inbox WHERE chat_id = ? AND state = 'pending'`
	setPayloadQuery     = `UPDATE inbox SET payload = ? WHERE id = ?`
	// A row whose message is recorded under the new chat already stays
	// behind (OR IGNORE): the unique index allows one.
	moveInboxQuery = `
UPDATE OR IGNORE inbox SET chat_id = ?1, sender_id = CASE WHEN sender_id = ?2 THEN ?1 ELSE sender_id END
WHERE chat_id = ?2`
	leftOutboxQuery = `DELETE FROM outbox WHERE inbox_id IN (SELECT id FROM inbox WHERE chat_id = ?)`
	leftInboxQuery  = `DELETE FROM inbox WHERE chat_id = ?`
	moveOutboxQuery = `UPDATE outbox SET chat_id = ? WHERE chat_id = ?`
	moveUsageQuery  = `UPDATE usage SET chat_id = ? WHERE chat_id = ?`
	// Pairing chats are the one setting that holds a chat id.
	movePairingChatsQuery = `UPDATE settings SET value = ? WHERE substr(key, 1, ?) = ? AND value = ?`
)

// RekeyChat moves everything stored under chat from to chat to, in one
// transaction: sessions (their messages and summaries hang off them),
// received messages, replies on their way out, usage, and the chats
// pairing requests came from. It returns what it moved; when nothing is
// stored under from it writes nothing.
//
// When both chats have an active session, the one used last (its last
// message, or its last /model or /privacy) stays active, with its model,
// and the other is archived: the conversation the person had last goes
// on, and the other stays in the history. If either was /privacy local,
// the kept one is too: a privacy choice is a promise, so the stricter one
// wins, while the model is only a preference.
//
// rewrite, if not nil, is given the payload of each pending received
// message under from and returns it as it should read under to (the store
// does not read payloads); an error from it moves nothing. A message
// recorded under both chats (WhatsApp delivered it again under the other
// name) keeps its row under to, which says whether it was answered; the
// copy under from is dropped, so it is not answered twice.
func (s *Store) RekeyChat(ctx context.Context, from, to string, rewrite func(payload []byte) ([]byte, error)) (ChatMove, error) {
	if from == "" || to == "" || from == to {
		return ChatMove{}, fmt.Errorf("move chat: cannot move %q to %q", from, to)
	}
	var stored bool
	p := len(pairingChatPrefix)
	if err := s.db.QueryRowContext(ctx, chatStoredQuery, from, p, pairingChatPrefix).Scan(&stored); err != nil {
		return ChatMove{}, fmt.Errorf("move chat: %w", err)
	}
	if !stored {
		return ChatMove{}, nil
	}
	var m ChatMove
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		m = ChatMove{}
		var err error
		if m.Archived, err = s.settleActive(ctx, tx, from, to); err != nil {
			return err
		}
		if m.Sessions, err = execCount(ctx, tx, moveSessionsQuery, to, from); err != nil {
			return err
		}
		if rewrite != nil {
			if err := rewritePending(ctx, tx, from, rewrite); err != nil {
				return err
			}
		}
		if m.Inbox, err = execCount(ctx, tx, moveInboxQuery, to, from); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, leftOutboxQuery, from); err != nil {
			return err
		}
		if m.Dropped, err = execCount(ctx, tx, leftInboxQuery, from); err != nil {
			return err
		}
		if m.Outbox, err = execCount(ctx, tx, moveOutboxQuery, to, from); err != nil {
			return err
		}
		if m.Usage, err = execCount(ctx, tx, moveUsageQuery, to, from); err != nil {
			return err
		}
		m.Settings, err = execCount(ctx, tx, movePairingChatsQuery, to, p, pairingChatPrefix, from)
		return err
	})
	if err != nil {
		return ChatMove{}, fmt.Errorf("move chat: %w", err)
	}
	return m, nil
}

// settleActive leaves at most one active session between the two chats,
// as RekeyChat says, and returns the id of the one it archived.
func (s *Store) settleActive(ctx context.Context, tx *sql.Tx, from, to string) (int64, error) {
	a, err := scanSession(tx.QueryRowContext(ctx, activeSessionQuery, from))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	b, err := scanSession(tx.QueryRowContext(ctx, activeSessionQuery, to))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	var usedA, usedB int64
	if err := tx.QueryRowContext(ctx, lastUsedQuery, a.ID, a.ID).Scan(&usedA); err != nil {
		return 0, err
	}
	if err := tx.QueryRowContext(ctx, lastUsedQuery, b.ID, b.ID).Scan(&usedB); err != nil {
		return 0, err
	}
	keep, drop := b, a // on a tie, the chat the person is known by from now on
	if usedA > usedB {
		keep, drop = a, b
	}
	now := millis(s.now())
	if _, err := tx.ExecContext(ctx, archiveSessionQuery, now, drop.ID); err != nil {
		return 0, err
	}
	if drop.Privacy == PrivacyLocal && keep.Privacy != PrivacyLocal {
		if _, err := tx.ExecContext(ctx, keepSessionQuery, PrivacyLocal, now, keep.ID); err != nil {
			return 0, err
		}
	}
	return drop.ID, nil
}

// rewritePending passes the payload of each pending message under chat
// through rewrite.
func rewritePending(ctx context.Context, tx *sql.Tx, chat string, rewrite func([]byte) ([]byte, error)) error {
	rows, err := tx.QueryContext(ctx, pendingPayloadQuery, chat)
	if err != nil {
		return err
	}
	type row struct {
		id      int64
		payload []byte
	}
	var pending []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.payload); err != nil {
			rows.Close()
			return err
		}
		pending = append(pending, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range pending {
		payload, err := rewrite(r.payload)
		if err != nil {
			return fmt.Errorf("rewrite pending message %d: %w", r.id, err)
		}
		if _, err := tx.ExecContext(ctx, setPayloadQuery, payload, r.id); err != nil {
			return err
		}
	}
	return nil
}

// execCount runs a statement and returns how many rows it changed.
func execCount(ctx context.Context, tx *sql.Tx, query string, args ...any) (int, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// storedChatsQuery lists the chat ids ending in a suffix (?2 characters
// long) that anything is stored under.
const storedChatsQuery = `
SELECT chat_id FROM sessions WHERE substr(chat_id, -?2) = ?1
UNION SELECT chat_id FROM inbox WHERE substr(chat_id, -?2) = ?1
UNION SELECT chat_id FROM outbox WHERE substr(chat_id, -?2) = ?1
UNION SELECT chat_id FROM usage WHERE substr(chat_id, -?2) = ?1
UNION SELECT value FROM settings WHERE substr(key, 1, ?3) = ?4 AND substr(value, -?2) = ?1
ORDER BY 1`

// StoredChats lists the chat ids ending in suffix that anything is stored
// under ("@lid": the chats a channel named by LID), in order.
func (s *Store) StoredChats(ctx context.Context, suffix string) ([]string, error) {
	if suffix == "" {
		return nil, errors.New("list stored chats: empty suffix")
	}
	rows, err := s.db.QueryContext(ctx, storedChatsQuery, suffix, len(suffix), len(pairingChatPrefix), pairingChatPrefix)
	if err != nil {
		return nil, fmt.Errorf("list stored chats: %w", err)
	}
	defer rows.Close()
	var chats []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("list stored chats: %w", err)
		}
		chats = append(chats, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list stored chats: %w", err)
	}
	return chats, nil
}
