package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mattn/go-sqlite3"
)

// AccessState is whether a phone number may talk to the bot.
type AccessState string

// Access states.
const (
	AccessAllowed AccessState = "allowed"
	AccessPending AccessState = "pending" // waiting for an admin to approve its pairing code
	AccessBlocked AccessState = "blocked"
)

func (st AccessState) valid() bool {
	switch st {
	case AccessAllowed, AccessPending, AccessBlocked:
		return true
	}
	return false
}

// ErrPairingCodeInUse reports a pairing code already held by another number.
var ErrPairingCodeInUse = errors.New("pairing code already in use")

// AccessEntry is one phone number on the access list.
type AccessEntry struct {
	Number        string // E.164, like "+15551234567"
	State         AccessState
	Admin         bool
	PairingCode   string    // "" when there is none
	CodeExpiresAt time.Time // zero when there is no code
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

const accessColumns = `number, state, admin, pairing_code, code_expires_at, created_at, updated_at`

func scanAccess(row scanner) (AccessEntry, error) {
	var e AccessEntry
	var expires sql.NullInt64
	var created, updated int64
	err := row.Scan(&e.Number, &e.State, &e.Admin, &e.PairingCode, &expires, &created, &updated)
	if expires.Valid {
		e.CodeExpiresAt = fromMillis(expires.Int64)
	}
	e.CreatedAt, e.UpdatedAt = fromMillis(created), fromMillis(updated)
	return e, err
}

// getAccess returns the one entry query finds; false if there is none.
func (s *Store) getAccess(ctx context.Context, query string, arg any) (AccessEntry, bool, error) {
	e, err := scanAccess(s.db.QueryRowContext(ctx, query, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return AccessEntry{}, false, nil
	} else if err != nil {
		return AccessEntry{}, false, err
	}
	return e, true, nil
}

const accessQuery = `SELECT ` + accessColumns + ` FROM access WHERE number = ?`

// Access returns the entry for number; false if it is not on the list.
func (s *Store) Access(ctx context.Context, number string) (AccessEntry, bool, error) {
	e, ok, err := s.getAccess(ctx, accessQuery, number)
	if err != nil {
		return AccessEntry{}, false, fmt.Errorf("get an access entry: %w", err)
	}
	return e, ok, nil
}

const accessByCodeQuery = `SELECT ` + accessColumns + ` FROM access WHERE pairing_code = ?`

// AccessByCode returns the entry holding the pairing code, expired or not;
// false if none does. The empty code matches nothing.
func (s *Store) AccessByCode(ctx context.Context, code string) (AccessEntry, bool, error) {
	if code == "" {
		return AccessEntry{}, false, nil
	}
	e, ok, err := s.getAccess(ctx, accessByCodeQuery, code)
	if err != nil {
		return AccessEntry{}, false, fmt.Errorf("get access by code: %w", err)
	}
	return e, ok, nil
}

const setAccessQuery = `
INSERT INTO access (number, state, admin, pairing_code, code_expires_at, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (number) DO UPDATE SET
    state = excluded.state,
    admin = excluded.admin,
    pairing_code = excluded.pairing_code,
    code_expires_at = excluded.code_expires_at,
    updated_at = excluded.updated_at`

// SetAccess adds or replaces the entry for e.Number; the creation time of
// an existing entry is kept. A pairing code held by another number is
// refused with ErrPairingCodeInUse.
func (s *Store) SetAccess(ctx context.Context, e AccessEntry) error {
	if e.Number == "" {
		return errors.New("set access: empty number")
	}
	if !e.State.valid() {
		return fmt.Errorf("set an access entry: invalid state %q", e.State)
	}
	var expires sql.NullInt64
	if !e.CodeExpiresAt.IsZero() {
		expires = sql.NullInt64{Int64: e.CodeExpiresAt.UnixMilli(), Valid: true}
	}
	now := millis(s.now())
	_, err := s.db.ExecContext(ctx, setAccessQuery, e.Number, e.State, boolInt(e.Admin),
		e.PairingCode, expires, now, now)
	var serr sqlite3.Error
	if errors.As(err, &serr) && serr.ExtendedCode == sqlite3.ErrConstraintUnique {
		err = ErrPairingCodeInUse
	}
	if err != nil {
		return fmt.Errorf("set an access entry: %w", err)
	}
	return nil
}

const accessListQuery = `SELECT ` + accessColumns + ` FROM access ORDER BY number`

// AccessList returns every entry, ordered by number.
func (s *Store) AccessList(ctx context.Context) ([]AccessEntry, error) {
	rows, err := s.db.QueryContext(ctx, accessListQuery)
	if err != nil {
		return nil, fmt.Errorf("list access: %w", err)
	}
	defer rows.Close()
	var list []AccessEntry
	for rows.Next() {
		e, err := scanAccess(rows)
		if err != nil {
			return nil, fmt.Errorf("list access: %w", err)
		}
		list = append(list, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list access: %w", err)
	}
	return list, nil
}

const pendingCountQuery = `
SELECT count(*) FROM access
WHERE state = 'pending' AND pairing_code <> '' AND code_expires_at > ?`

// PendingCount counts the pairing codes waiting for approval at now:
// pending entries holding a code that has not expired. Pending entries
// without a code (a requester remembered as told that too many were
// waiting) are not requests and do not count.
func (s *Store) PendingCount(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, pendingCountQuery, now.UnixMilli()).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending access: %w", err)
	}
	return n, nil
}

// pairingChatPrefix keys, in settings, the chat a pairing request came
// from, where its requester is told of the approval.
const pairingChatPrefix = "pairchat:"

// SetPairingChat remembers chatID as the chat number's pairing request
// came from.
func (s *Store) SetPairingChat(ctx context.Context, number, chatID string) error {
	if _, err := s.db.ExecContext(ctx, setSettingQuery, pairingChatPrefix+number, chatID); err != nil {
		return fmt.Errorf("set a pairing chat: %w", err)
	}
	return nil
}

// PairingChat returns the chat number's pairing request came from; false
// if none is remembered.
func (s *Store) PairingChat(ctx context.Context, number string) (string, bool, error) {
	var chat string
	err := s.db.QueryRowContext(ctx, settingQuery, pairingChatPrefix+number).Scan(&chat)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	} else if err != nil {
		return "", false, fmt.Errorf("get a pairing chat: %w", err)
	}
	return chat, true, nil
}

const (
	prunePendingQuery = `
DELETE FROM access
WHERE state = 'pending' AND code_expires_at IS NOT NULL
  AND ((pairing_code <> '' AND code_expires_at <= ?) OR (pairing_code = '' AND code_expires_at <= ?))`
	// A pairing chat is kept only while its number holds a code.
	prunePairingChatsQuery = `
DELETE FROM settings
WHERE substr(key, 1, ?) = ?
  AND substr(key, ? + 1) NOT IN (SELECT number FROM access WHERE state = 'pending' AND pairing_code <> '')`
)

// PrunePending deletes the pending entries that are done with: those
// holding a code that expired at or before codesBy, and those without a
// code whose expiry time is at or before othersBy. It also forgets the
// pairing chats of numbers that no longer hold a code (approved, allowed,
// blocked or deleted). It returns how many entries it deleted.
func (s *Store) PrunePending(ctx context.Context, codesBy, othersBy time.Time) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, prunePendingQuery, codesBy.UnixMilli(), othersBy.UnixMilli())
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		p := len(pairingChatPrefix)
		_, err = tx.ExecContext(ctx, prunePairingChatsQuery, p, pairingChatPrefix, p)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune pending access: %w", err)
	}
	return int(n), nil
}
