// Package store keeps waclaw's state in one SQLite file: chat sessions and
// their messages, compaction summaries, the durable inbox of received
// messages, model usage, the access list and small settings. The same file
// later holds whatsmeow's tables, which this package never writes;
// ReadOnly.LinkedAccount, for waclaw doctor, is the one place it reads
// them.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/mattn/go-sqlite3"
)

// ErrNewerSchema reports a database written by a newer waclaw than this
// build. Such a file is left untouched.
var ErrNewerSchema = errors.New("database schema is newer than this build")

// ErrNotFound reports that the row a method was asked to change does not
// exist.
var ErrNotFound = errors.New("not found")

// NewerSchemaError is returned by Open for a database whose schema version is
// newer than the newest migration this build knows. errors.Is(err,
// ErrNewerSchema) is true for it.
type NewerSchemaError struct {
	Path    string // database file
	Version int    // schema version recorded in the file
	Known   int    // newest schema version this build knows
}

// Error names the file, both versions and what the user can do.
func (e *NewerSchemaError) Error() string {
	return fmt.Sprintf("database %s was written by a newer waclaw (schema %d, this build knows up to %d): upgrade waclaw or point --data-dir elsewhere",
		e.Path, e.Version, e.Known)
}

// Is makes errors.Is(err, ErrNewerSchema) true.
func (e *NewerSchemaError) Is(target error) bool { return target == ErrNewerSchema }

// IsNotADatabase reports whether err comes from SQLite finding that the
// file is not a SQLite database at all.
func IsNotADatabase(err error) bool {
	var serr sqlite3.Error
	return errors.As(err, &serr) && serr.Code == sqlite3.ErrNotADB
}

// IsCorrupt reports whether err comes from SQLite finding the database
// file damaged.
func IsCorrupt(err error) bool {
	var serr sqlite3.Error
	return errors.As(err, &serr) && serr.Code == sqlite3.ErrCorrupt
}

// Store is waclaw's state in one SQLite file. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
	now  func() time.Time
}

// Open opens or creates the database at path and brings its schema up to
// date. The file and its parent directory are made private to the user
// (0600 and 0700). A database written by a newer waclaw is refused with
// ErrNewerSchema before anything in it is changed.
func Open(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := createPrivate(abs); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	migs, err := loadMigrations()
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	db, err := sql.Open("sqlite3", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{db: db, path: abs, now: time.Now}
	if err := s.prepare(ctx, migs); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// prepare checks the schema version, switches to WAL and migrates, in that
// order, so that a refused file is only ever read.
func (s *Store) prepare(ctx context.Context, migs []migration) error {
	version, err := schemaVersion(ctx, s.db)
	if err != nil {
		if IsNotADatabase(err) {
			return fmt.Errorf("%s is not a waclaw database (%w): move it away or choose another --data-dir", s.path, err)
		}
		return fmt.Errorf("open store %s: read schema version: %w", s.path, err)
	}
	known := len(migs)
	if version > known {
		return &NewerSchemaError{Path: s.path, Version: version, Known: known}
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return fmt.Errorf("open store %s: set WAL journal mode: %w", s.path, err)
	}
	if mode != "wal" {
		return fmt.Errorf("open store %s: set WAL journal mode: journal mode is still %q", s.path, mode)
	}
	if err := s.migrate(ctx, migs, version); err != nil {
		return fmt.Errorf("open store %s: %w", s.path, err)
	}
	return nil
}

// createPrivate creates the parent directory (0700) and the file (0600) if
// they are missing, and tightens an existing file that others can read.
// SQLite gives the -wal and -shm files the database file's mode.
func createPrivate(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&^0o600 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return err
		}
	}
	return nil
}

// dsn builds a URI for path: foreign keys on, a busy timeout so concurrent
// writers wait instead of failing, and write transactions that take the
// write lock at BEGIN (a deferred one could fail on upgrade without
// waiting).
func dsn(path string) string {
	u := url.URL{Scheme: "file", Path: path}
	return u.String() + "?_foreign_keys=on&_busy_timeout=5000&_txlock=immediate"
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// DB returns the underlying database, for whatsmeow's session store.
func (s *Store) DB() *sql.DB { return s.db }

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// SetClock replaces the clock used for timestamps (time.Now by default).
// Call it before the store is used concurrently; it is meant for tests.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// inTx runs fn in one transaction, committing if fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// millis stores t as unix milliseconds; the zero time is stored as 0.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis is the inverse of millis.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// boolInt stores a bool as 0 or 1.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkAffected turns an update that matched no row into ErrNotFound.
func checkAffected(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
