package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3"
)

// OutboxPart is one part of a reply on its way out.
type OutboxPart struct {
	ID      int64
	InboxID int64
	Part    int // 0, 1, ... in sending order
	ChatID  string
	MsgID   string // the id the channel sends it under
	Text    string
	QuoteID string
	Sent    bool
	// What the inbox item becomes once every part is sent (done when
	// empty), and why.
	ThenState  InboxState
	ThenReason string
}

const (
	outboxColumns = `id, inbox_id, part, chat_id, msg_id, text, quote_id, sent, then_state, then_reason`
	outboxQuery   = `SELECT ` + outboxColumns + ` FROM outbox WHERE inbox_id = ? ORDER BY part`
	outboxInsert  = `INSERT INTO outbox (inbox_id, part, chat_id, msg_id, text, quote_id, then_state, then_reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	outboxSent    = `UPDATE outbox SET sent = 1 WHERE id = ?`
	outboxDelete  = `DELETE FROM outbox WHERE inbox_id = ?`
)

// Outbox returns the reply recorded for an inbox item, in sending order;
// none if no reply was recorded.
func (s *Store) Outbox(ctx context.Context, inboxID int64) ([]OutboxPart, error) {
	parts, err := queryOutbox(ctx, s.db, inboxID)
	if err != nil {
		return nil, fmt.Errorf("read outbox of inbox item %d: %w", inboxID, err)
	}
	return parts, nil
}

// OutboxAdd records parts as the reply to an inbox item and returns them
// with their ids. If a reply is already recorded for it, that one is
// returned instead and parts are dropped: a message gets one reply.
func (s *Store) OutboxAdd(ctx context.Context, inboxID int64, parts []OutboxPart) ([]OutboxPart, error) {
	var out []OutboxPart
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		existing, err := queryOutbox(ctx, tx, inboxID)
		if err != nil || len(existing) > 0 {
			out = existing
			return err
		}
		now := millis(s.now())
		for i, p := range parts {
			if p.ThenState == "" {
				p.ThenState = InboxDone
			}
			if !p.ThenState.valid() {
				return fmt.Errorf("invalid state %q", p.ThenState)
			}
			res, err := tx.ExecContext(ctx, outboxInsert, inboxID, i, p.ChatID, p.MsgID, p.Text, p.QuoteID, p.ThenState, p.ThenReason, now)
			if err != nil {
				return err
			}
			p.ID, err = res.LastInsertId()
			if err != nil {
				return err
			}
			p.InboxID, p.Part, p.Sent = inboxID, i, false
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record reply to inbox item %d: %w", inboxID, err)
	}
	return out, nil
}

// OutboxSent marks a part as delivered to the channel.
func (s *Store) OutboxSent(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, outboxSent, id)
	if err == nil {
		err = checkAffected(res)
	}
	if err != nil {
		return fmt.Errorf("mark reply part %d sent: %w", id, err)
	}
	return nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryOutbox(ctx context.Context, q querier, inboxID int64) ([]OutboxPart, error) {
	rows, err := q.QueryContext(ctx, outboxQuery, inboxID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var parts []OutboxPart
	for rows.Next() {
		var p OutboxPart
		if err := rows.Scan(&p.ID, &p.InboxID, &p.Part, &p.ChatID, &p.MsgID, &p.Text, &p.QuoteID, &p.Sent, &p.ThenState, &p.ThenReason); err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	return parts, rows.Err()
}

// IsDiskFull reports whether err comes from SQLite finding the disk (or
// the filesystem holding the database) full. Nothing already committed is
// lost when that happens; the write that failed was rolled back.
func IsDiskFull(err error) bool {
	var serr sqlite3.Error
	return errors.As(err, &serr) && serr.Code == sqlite3.ErrFull
}

// OutboxAppend records parts after those already recorded for an inbox
// item (a reply sent in parts while the model writes it) and returns every
// part recorded for it, in sending order.
func (s *Store) OutboxAppend(ctx context.Context, inboxID int64, parts []OutboxPart) ([]OutboxPart, error) {
	var out []OutboxPart
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		existing, err := queryOutbox(ctx, tx, inboxID)
		if err != nil {
			return err
		}
		out = existing
		now := millis(s.now())
		for i, p := range parts {
			if p.ThenState == "" {
				p.ThenState = InboxDone
			}
			if !p.ThenState.valid() {
				return fmt.Errorf("invalid state %q", p.ThenState)
			}
			n := len(existing) + i
			if len(existing) > 0 {
				n = existing[len(existing)-1].Part + 1 + i
			}
			res, err := tx.ExecContext(ctx, outboxInsert, inboxID, n, p.ChatID, p.MsgID, p.Text, p.QuoteID, p.ThenState, p.ThenReason, now)
			if err != nil {
				return err
			}
			if p.ID, err = res.LastInsertId(); err != nil {
				return err
			}
			p.InboxID, p.Part, p.Sent = inboxID, n, false
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record reply parts to inbox item %d: %w", inboxID, err)
	}
	return out, nil
}
