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
)

// ReadOnly is a waclaw database opened only to be looked at, by waclaw
// doctor, perhaps while waclaw runs. It has only the reads doctor needs.
type ReadOnly struct {
	db   *sql.DB
	path string
}

// OpenReadOnly opens the database at path for reading. It never creates a
// file or directory, never migrates, and changes nothing in the file. A
// missing file is an error for which errors.Is(err, fs.ErrNotExist) is
// true. A file that is not a database, or a damaged one, may only show
// when it is read: see IsNotADatabase and IsCorrupt.
func OpenReadOnly(ctx context.Context, path string) (*ReadOnly, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store read-only: %w", err)
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("open store read-only: %w", err)
	}
	db, err := sql.Open("sqlite3", readOnlyDSN(abs))
	if err != nil {
		return nil, fmt.Errorf("open store %s read-only: %w", abs, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s read-only: %w", abs, err)
	}
	return &ReadOnly{db: db, path: abs}, nil
}

// readOnlyDSN builds a read-only URI for path. When neither -wal nor -shm
// is beside the file, no connection has it open (WAL mode keeps both while
// one does), and a read-only connection would leave them behind: then the
// file is read as it is (immutable=1), without locks or journal.
func readOnlyDSN(path string) string {
	u := url.URL{Scheme: "file", Path: path, RawQuery: "mode=ro&_busy_timeout=5000"}
	if !exists(path+"-wal") && !exists(path+"-shm") {
		u.RawQuery += "&immutable=1"
	}
	return u.String()
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// Close closes the database.
func (r *ReadOnly) Close() error {
	if err := r.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Path returns the absolute path of the database file.
func (r *ReadOnly) Path() string { return r.path }

const integrityCheckQuery = `PRAGMA integrity_check(5)`

// IntegrityCheck returns the first problems (at most five) SQLite finds in
// the file, or "ok" alone when it is sound.
func (r *ReadOnly) IntegrityCheck(ctx context.Context) ([]string, error) {
	rows, err := r.db.QueryContext(ctx, integrityCheckQuery)
	if err != nil {
		return nil, fmt.Errorf("check integrity: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("check integrity: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("check integrity: %w", err)
	}
	return out, nil
}

const tableExistsQuery = `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`

// tableExists reports whether the file has a table called name: a file
// waclaw has not migrated, or whatsmeow not yet set up, lacks some.
func (r *ReadOnly) tableExists(ctx context.Context, name string) (bool, error) {
	var n int
	if err := r.db.QueryRowContext(ctx, tableExistsQuery, name).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}

const linkedAccountQuery = `SELECT jid FROM whatsmeow_device LIMIT 1`

// LinkedAccount returns the JID of the linked WhatsApp account, from
// whatsmeow's device table; false when none is linked or whatsmeow has
// not created its tables yet.
func (r *ReadOnly) LinkedAccount(ctx context.Context) (jid string, ok bool, err error) {
	if ok, err := r.tableExists(ctx, "whatsmeow_device"); err != nil {
		return "", false, fmt.Errorf("read linked account: %w", err)
	} else if !ok {
		return "", false, nil
	}
	err = r.db.QueryRowContext(ctx, linkedAccountQuery).Scan(&jid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	} else if err != nil {
		return "", false, fmt.Errorf("read linked account: %w", err)
	}
	return jid, jid != "", nil
}

const lastReceivedQuery = `SELECT coalesce(max(created_at), 0) FROM inbox`

// LastReceived returns when the newest message in the inbox was recorded;
// false when there is none (or no inbox table yet).
func (r *ReadOnly) LastReceived(ctx context.Context) (time.Time, bool, error) {
	if ok, err := r.tableExists(ctx, "inbox"); err != nil {
		return time.Time{}, false, fmt.Errorf("read last received: %w", err)
	} else if !ok {
		return time.Time{}, false, nil
	}
	var ms int64
	if err := r.db.QueryRowContext(ctx, lastReceivedQuery).Scan(&ms); err != nil {
		return time.Time{}, false, fmt.Errorf("read last received: %w", err)
	}
	return fromMillis(ms), ms > 0, nil
}

// LastConnected returns when `waclaw run` last connected to WhatsApp (see
// Store.SetLastConnected); false when it never has (or there is no
// settings table yet).
func (r *ReadOnly) LastConnected(ctx context.Context) (time.Time, bool, error) {
	if ok, err := r.tableExists(ctx, "settings"); err != nil {
		return time.Time{}, false, fmt.Errorf("read last connected: %w", err)
	} else if !ok {
		return time.Time{}, false, nil
	}
	var v string
	err := r.db.QueryRowContext(ctx, settingQuery, lastConnectedKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	} else if err != nil {
		return time.Time{}, false, fmt.Errorf("read last connected: %w", err)
	}
	at, err := time.Parse(lastConnectedLayout, v)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read last connected: %w", err)
	}
	return at, true, nil
}
