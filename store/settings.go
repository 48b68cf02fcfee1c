package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

const settingQuery = `SELECT value FROM settings WHERE key = ?`

// lastConnectedKey holds when `waclaw run` last connected to WhatsApp, as
// lastConnectedLayout (to the second, in UTC).
const (
	lastConnectedKey    = "whatsapp.last_connected"
	lastConnectedLayout = time.RFC3339
)

// Setting returns the value stored under key; false if there is none.
func (s *Store) Setting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.db.QueryRowContext(ctx, settingQuery, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	} else if err != nil {
		return "", false, fmt.Errorf("get setting %s: %w", key, err)
	}
	return v, true, nil
}

const setSettingQuery = `
INSERT INTO settings (key, value) VALUES (?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value`

// SetSetting stores value under key, replacing any earlier value.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	if _, err := s.db.ExecContext(ctx, setSettingQuery, key, value); err != nil {
		return fmt.Errorf("set setting %s: %w", key, err)
	}
	return nil
}

// SetLastConnected records that `waclaw run` connected to WhatsApp at t,
// for waclaw doctor (see ReadOnly.LastConnected).
func (s *Store) SetLastConnected(ctx context.Context, t time.Time) error {
	v := t.UTC().Format(lastConnectedLayout)
	if _, err := s.db.ExecContext(ctx, setSettingQuery, lastConnectedKey, v); err != nil {
		return fmt.Errorf("set last connected: %w", err)
	}
	return nil
}
