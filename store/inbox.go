package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// InboxState is where a received message is in its handling.
type InboxState string

// Inbox states. Pending rows are handled again after a restart.
const (
	InboxPending InboxState = "pending"
	InboxDone    InboxState = "done"
	InboxFailed  InboxState = "failed"
	InboxSkipped InboxState = "skipped" // deliberately not answered (access, rate limit)
)

func (st InboxState) valid() bool {
	switch st {
	case InboxPending, InboxDone, InboxFailed, InboxSkipped:
		return true
	}
	return false
}

// InboxItem is a received message, recorded before it is handled so that a
// crash loses nothing. A message is identified by chat, sender and id.
type InboxItem struct {
	ID         int64
	ChatID     string
	SenderID   string
	MsgID      string
	Payload    []byte // opaque to the store
	State      InboxState
	Attempts   int
	Reason     string // why it failed or was skipped
	ReceivedAt time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

const inboxColumns = `id, chat_id, sender_id, msg_id, payload, state, attempts, reason, received_at, created_at, updated_at`

func scanInboxItem(row scanner) (InboxItem, error) {
	var it InboxItem
	var received, created, updated int64
	err := row.Scan(&it.ID, &it.ChatID, &it.SenderID, &it.MsgID, &it.Payload, &it.State,
		&it.Attempts, &it.Reason, &received, &created, &updated)
	it.ReceivedAt, it.CreatedAt, it.UpdatedAt = fromMillis(received), fromMillis(created), fromMillis(updated)
	return it, err
}

const (
	inboxAddQuery = `
INSERT INTO inbox (chat_id, sender_id, msg_id, payload, state, attempts, reason, received_at, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?)
ON CONFLICT (chat_id, sender_id, msg_id) DO NOTHING`
	inboxIDQuery = `SELECT id FROM inbox WHERE chat_id = ? AND sender_id = ? AND msg_id = ?`
)

// InboxAdd records a received message and returns its id. A message already
// recorded (same chat, sender and id) is left as it was and reported with
// added false and the existing id. The state defaults to InboxPending;
// it.ID, it.Attempts and the created and updated times are ignored.
func (s *Store) InboxAdd(ctx context.Context, it InboxItem) (id int64, added bool, err error) {
	if it.State == "" {
		it.State = InboxPending
	}
	if !it.State.valid() {
		return 0, false, fmt.Errorf("add to inbox: invalid state %q", it.State)
	}
	payload := it.Payload
	if payload == nil {
		payload = []byte{} // nil would be NULL
	}
	now := millis(s.now())
	res, err := s.db.ExecContext(ctx, inboxAddQuery, it.ChatID, it.SenderID, it.MsgID, payload,
		it.State, it.Reason, millis(it.ReceivedAt), now, now)
	if err != nil {
		return 0, false, fmt.Errorf("add to inbox: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, false, fmt.Errorf("add to inbox: %w", err)
	}
	if n == 1 {
		id, err := res.LastInsertId()
		if err != nil {
			return 0, false, fmt.Errorf("add to inbox: %w", err)
		}
		return id, true, nil
	}
	if err := s.db.QueryRowContext(ctx, inboxIDQuery, it.ChatID, it.SenderID, it.MsgID).Scan(&id); err != nil {
		return 0, false, fmt.Errorf("add to inbox: find duplicate: %w", err)
	}
	return id, false, nil
}

const inboxPendingQuery = `SELECT ` + inboxColumns + ` FROM inbox WHERE state = 'pending' ORDER BY id`

// InboxPending returns the pending items in the order they arrived.
func (s *Store) InboxPending(ctx context.Context) ([]InboxItem, error) {
	rows, err := s.db.QueryContext(ctx, inboxPendingQuery)
	if err != nil {
		return nil, fmt.Errorf("list pending inbox: %w", err)
	}
	defer rows.Close()
	var list []InboxItem
	for rows.Next() {
		it, err := scanInboxItem(rows)
		if err != nil {
			return nil, fmt.Errorf("list pending inbox: %w", err)
		}
		list = append(list, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list pending inbox: %w", err)
	}
	return list, nil
}

const inboxStartQuery = `UPDATE inbox SET attempts = attempts + 1, updated_at = ? WHERE id = ?`

// InboxStart counts an attempt at handling the item.
func (s *Store) InboxStart(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, inboxStartQuery, millis(s.now()), id)
	if err == nil {
		err = checkAffected(res)
	}
	if err != nil {
		return fmt.Errorf("start inbox item %d: %w", id, err)
	}
	return nil
}

const inboxFinishQuery = `UPDATE inbox SET state = ?, reason = ?, updated_at = ? WHERE id = ?`

// InboxFinish sets the item's state and the reason for it, and drops its
// recorded reply from the outbox.
func (s *Store) InboxFinish(ctx context.Context, id int64, state InboxState, reason string) error {
	if !state.valid() {
		return fmt.Errorf("finish inbox item %d: invalid state %q", id, state)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, inboxFinishQuery, state, reason, millis(s.now()), id)
		if err == nil {
			err = checkAffected(res)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, outboxDelete, id) // the reply is out; keep no second copy of it
		return err
	})
	if err != nil {
		return fmt.Errorf("finish inbox item %d: %w", id, err)
	}
	return nil
}

const inboxGetQuery = `SELECT ` + inboxColumns + ` FROM inbox WHERE id = ?`

// InboxGet returns the item with the given id; false if there is none.
func (s *Store) InboxGet(ctx context.Context, id int64) (InboxItem, bool, error) {
	it, err := scanInboxItem(s.db.QueryRowContext(ctx, inboxGetQuery, id))
	if errors.Is(err, sql.ErrNoRows) {
		return InboxItem{}, false, nil
	} else if err != nil {
		return InboxItem{}, false, fmt.Errorf("get inbox item %d: %w", id, err)
	}
	return it, true, nil
}

const inboxPruneQuery = `DELETE FROM inbox WHERE state != 'pending' AND updated_at < ?
	AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.inbox_id = inbox.id)`

// InboxPrune deletes the items finished before before, and reports how
// many. Pending items are never pruned. A pruned message that WhatsApp
// delivers again is no longer recognised as a redelivery, so keep items
// for longer than redeliveries take (days, not minutes).
func (s *Store) InboxPrune(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, inboxPruneQuery, millis(before))
	if err != nil {
		return 0, fmt.Errorf("prune inbox: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune inbox: %w", err)
	}
	return n, nil
}

const inboxRevokeQuery = `UPDATE inbox SET state = 'skipped', reason = ?, updated_at = ?
	WHERE chat_id = ? AND msg_id = ? AND state = 'pending'
	AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.inbox_id = inbox.id)`

// InboxRevoke skips a message deleted for everyone in a chat (by its
// sender, or a group admin), if it is still waiting to be answered and no
// reply to it is recorded yet. It reports whether it skipped one.
func (s *Store) InboxRevoke(ctx context.Context, chatID, msgID, reason string) (bool, error) {
	res, err := s.db.ExecContext(ctx, inboxRevokeQuery, reason, millis(s.now()), chatID, msgID)
	if err != nil {
		return false, fmt.Errorf("skip a deleted message: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("skip a deleted message: %w", err)
	}
	return n > 0, nil
}

const inboxStateQuery = `SELECT state FROM inbox WHERE id = ?`

// InboxStateOf returns the state of an item; false if there is none.
func (s *Store) InboxStateOf(ctx context.Context, id int64) (InboxState, bool, error) {
	var st InboxState
	err := s.db.QueryRowContext(ctx, inboxStateQuery, id).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	} else if err != nil {
		return "", false, fmt.Errorf("read inbox item %d: %w", id, err)
	}
	return st, true, nil
}
