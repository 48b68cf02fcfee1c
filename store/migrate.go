package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// migrationFiles are named NNN-name.sql and numbered from 001 without gaps.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations returns the embedded migrations in order.
func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var migs []migration
	for _, e := range entries {
		num, name, _ := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "-")
		v, err := strconv.Atoi(num)
		if err != nil || v != len(migs)+1 {
			return nil, fmt.Errorf("migration %s: want number %03d", e.Name(), len(migs)+1)
		}
		body, err := fs.ReadFile(migrationFiles, "migrations/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		migs = append(migs, migration{version: v, name: name, sql: string(body)})
	}
	return migs, nil
}

// waclaw_version has one row per applied migration; the schema version is
// the largest. whatsmeow keeps its own whatsmeow_version.
const (
	versionTableExistsQuery = `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'waclaw_version'`
	versionQuery            = `SELECT coalesce(max(version), 0) FROM waclaw_version`
	createVersionTableQuery = `
CREATE TABLE IF NOT EXISTS waclaw_version (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
)`
	insertVersionQuery = `INSERT INTO waclaw_version (version, name, applied_at) VALUES (?, ?, ?)`
)

// schemaVersion reads the schema version without writing anything; a file
// without waclaw_version (new, or whatsmeow's alone) is version 0.
func schemaVersion(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, versionTableExistsQuery).Scan(&n); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	var v int
	if err := q.QueryRowContext(ctx, versionQuery).Scan(&v); err != nil {
		return 0, err
	}
	return v, nil
}

// migrate applies the migrations newer than version, each in its own
// transaction together with its waclaw_version row.
func (s *Store) migrate(ctx context.Context, migs []migration, version int) error {
	for _, m := range migs {
		if m.version <= version {
			continue
		}
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, createVersionTableQuery); err != nil {
				return err
			}
			// Another process may have migrated since we looked.
			cur, err := schemaVersion(ctx, tx)
			if err != nil || cur >= m.version {
				return err
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, insertVersionQuery, m.version, m.name, millis(s.now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate to schema %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}
