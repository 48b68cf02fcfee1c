package store

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"waclaw/config/clock"
)

// closedStore creates a waclaw database at path, lets fill write to it,
// and closes it.
func closedStore(t *testing.T, path string, fill func(s *Store)) {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s.SetClock(func() time.Time { return t0 })
	fill(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// openReadOnly opens path read-only and closes it when the test ends.
func openReadOnly(t *testing.T, path string) *ReadOnly {
	t.Helper()
	r, err := OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatalf("OpenReadOnly: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestOpenReadOnlyMissing(t *testing.T) {
	tests := []struct {
		name string
		path func(dir string) string
	}{
		{"missing file", func(dir string) string { return filepath.Join(dir, "waclaw.db") }},
		{"missing directory", func(dir string) string { return filepath.Join(dir, "data", "waclaw.db") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.path(dir)
			r, err := OpenReadOnly(context.Background(), path)
			if err == nil {
				r.Close()
			}
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("OpenReadOnly(%s) error = %v; want fs.ErrNotExist", path, err)
			}
			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("after OpenReadOnly the directory holds %v; want nothing", names)
			}
		})
	}
}

// TestOpenReadOnlyChangesNothing: reading a closed database leaves no
// -wal or -shm file beside it and the file as it was; reading an open one
// (the bot running) works too.
func TestOpenReadOnlyChangesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "waclaw.db")
	closedStore(t, path, func(s *Store) {
		if err := s.SetLastConnected(ctx, t0); err != nil {
			t.Fatal(err)
		}
	})
	before := fileHash(t, path)

	r := openReadOnly(t, path)
	if _, err := r.IntegrityCheck(ctx); err != nil {
		t.Errorf("IntegrityCheck: %v", err)
	}
	if _, _, err := r.LinkedAccount(ctx); err != nil {
		t.Errorf("LinkedAccount: %v", err)
	}
	if _, _, err := r.LastReceived(ctx); err != nil {
		t.Errorf("LastReceived: %v", err)
	}
	if _, ok, err := r.LastConnected(ctx); !ok || err != nil {
		t.Errorf("LastConnected = %v, %v; want true, nil", ok, err)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"waclaw.db"}) {
		t.Errorf("while read-only open the directory holds %v; want only waclaw.db", names)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"waclaw.db"}) {
		t.Errorf("after read-only open the directory holds %v; want only waclaw.db", names)
	}
	if fileHash(t, path) != before {
		t.Error("the database file changed")
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetClock(func() time.Time { return t0 })
	if _, _, err := s.InboxAdd(ctx, InboxItem{ChatID: "c", SenderID: "s", MsgID: "m"}); err != nil {
		t.Fatal(err)
	}
	r = openReadOnly(t, path)
	if at, ok, err := r.LastReceived(ctx); !at.Equal(t0) || !ok || err != nil {
		t.Errorf("LastReceived while the store is open = %v, %v, %v; want %v, true, nil", at, ok, err, t0)
	}
}

func TestIntegrityCheck(t *testing.T) {
	ctx := context.Background()
	t.Run("sound", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "waclaw.db")
		closedStore(t, path, func(s *Store) {})
		got, err := openReadOnly(t, path).IntegrityCheck(ctx)
		if err != nil || !slices.Equal(got, []string{"ok"}) {
			t.Errorf("IntegrityCheck = %q, %v; want [ok], nil", got, err)
		}
	})
	t.Run("not a database", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "waclaw.db")
		if err := os.WriteFile(path, []byte("these are my notes, not a database\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := OpenReadOnly(ctx, path)
		if err == nil {
			defer r.Close()
			_, err = r.IntegrityCheck(ctx)
		}
		if !IsNotADatabase(err) || IsCorrupt(err) {
			t.Errorf("IntegrityCheck of a text file error = %v; want IsNotADatabase and not IsCorrupt", err)
		}
	})
	t.Run("damaged", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "waclaw.db")
		closedStore(t, path, func(s *Store) {})
		damage(t, path)
		got, err := openReadOnly(t, path).IntegrityCheck(ctx)
		if !IsCorrupt(err) || IsNotADatabase(err) {
			t.Errorf("IntegrityCheck of a damaged file = %q, %v; want an error for which IsCorrupt and not IsNotADatabase", got, err)
		}
	})
}

// damage overwrites the second page of the database file (the first is
// the header and schema) with garbage.
func damage(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	if len(b) < 2*page {
		t.Fatalf("database is %d bytes; want at least two pages", len(b))
	}
	for i := page; i < 2*page; i++ {
		b[i] = 0xa5
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLinkedAccount(t *testing.T) {
	ctx := context.Background()
	const jid = "15550001111.0:7@s.whatsapp.net"
	tests := []struct {
		name   string
		fill   func(t *testing.T, db *sql.DB)
		jid    string
		linked bool
	}{
		{"no whatsmeow tables", func(t *testing.T, db *sql.DB) {}, "", false},
		{"no device", func(t *testing.T, db *sql.DB) { createDeviceTable(t, db) }, "", false},
		{"a device", func(t *testing.T, db *sql.DB) {
			createDeviceTable(t, db)
			if _, err := db.Exec(`INSERT INTO whatsmeow_device (jid) VALUES (?)`, jid); err != nil {
				t.Fatal(err)
			}
		}, jid, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "waclaw.db")
			closedStore(t, path, func(s *Store) { tt.fill(t, s.DB()) })
			got, linked, err := openReadOnly(t, path).LinkedAccount(ctx)
			if got != tt.jid || linked != tt.linked || err != nil {
				t.Errorf("LinkedAccount = %q, %v, %v; want %q, %v, nil", got, linked, err, tt.jid, tt.linked)
			}
		})
	}
}

// createDeviceTable creates whatsmeow's device table with only the column
// LinkedAccount reads.
func createDeviceTable(t *testing.T, db *sql.DB) {
	t.Helper()
	if _, err := db.Exec(`CREATE TABLE whatsmeow_device (jid TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
}

// plainSQLite creates a SQLite file with one unrelated table: neither
// waclaw's tables nor whatsmeow's.
func plainSQLite(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE notes (body TEXT)`); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLastReceived(t *testing.T) {
	ctx := context.Background()
	if at, ok, err := openReadOnly(t, plainSQLite(t)).LastReceived(ctx); ok || err != nil {
		t.Errorf("LastReceived without an inbox table = %v, %v, %v; want false, nil", at, ok, err)
	}

	path := filepath.Join(t.TempDir(), "waclaw.db")
	closedStore(t, path, func(s *Store) {})
	if at, ok, err := openReadOnly(t, path).LastReceived(ctx); ok || err != nil {
		t.Errorf("LastReceived of an empty inbox = %v, %v, %v; want false, nil", at, ok, err)
	}

	clk := clock.NewManual(t0)
	closedStore(t, path, func(s *Store) {
		s.SetClock(clk.Now)
		for _, id := range []string{"m1", "m2"} {
			if _, _, err := s.InboxAdd(ctx, InboxItem{ChatID: "c", SenderID: "s", MsgID: id, ReceivedAt: t0.Add(-time.Hour)}); err != nil {
				t.Fatal(err)
			}
			clk.Advance(time.Minute)
		}
	})
	want := t0.Add(time.Minute) // when m2 was recorded, not when it was sent
	if at, ok, err := openReadOnly(t, path).LastReceived(ctx); !at.Equal(want) || !ok || err != nil {
		t.Errorf("LastReceived = %v, %v, %v; want %v, true, nil", at, ok, err, want)
	}
}

func TestLastConnected(t *testing.T) {
	ctx := context.Background()
	if at, ok, err := openReadOnly(t, plainSQLite(t)).LastConnected(ctx); ok || err != nil {
		t.Errorf("LastConnected without a settings table = %v, %v, %v; want false, nil", at, ok, err)
	}

	path := filepath.Join(t.TempDir(), "waclaw.db")
	closedStore(t, path, func(s *Store) {})
	if at, ok, err := openReadOnly(t, path).LastConnected(ctx); ok || err != nil {
		t.Errorf("LastConnected never connected = %v, %v, %v; want false, nil", at, ok, err)
	}

	at := time.Date(2026, 3, 1, 11, 0, 0, 123_000_000, time.FixedZone("CET", 3600))
	closedStore(t, path, func(s *Store) {
		if err := s.SetLastConnected(ctx, at); err != nil {
			t.Fatal(err)
		}
		// Databases written before SetLastConnected hold the same key
		// and format.
		if v, ok, err := s.Setting(ctx, "whatsapp.last_connected"); v != "2026-03-01T10:00:00Z" || !ok || err != nil {
			t.Errorf(`Setting("whatsapp.last_connected") = %q, %v, %v; want "2026-03-01T10:00:00Z", true, nil`, v, ok, err)
		}
	})
	want := at.Truncate(time.Second)
	got, ok, err := openReadOnly(t, path).LastConnected(ctx)
	if !got.Equal(want) || !ok || err != nil {
		t.Errorf("LastConnected = %v, %v, %v; want %v, true, nil", got, ok, err, want)
	}
}
