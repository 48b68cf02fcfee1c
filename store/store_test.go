package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"waclaw/config/clock"

	"github.com/google/go-cmp/cmp"
)

// t0 is whole milliseconds, as stored.
var t0 = time.UnixMilli(1_750_000_000_000)

// openTest opens a fresh store in a temporary directory with a fake clock
// at t0 and closes it when the test ends.
func openTest(t testing.TB) (*Store, *clock.Manual) {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "waclaw.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	clk := clock.NewManual(t0)
	s.SetClock(clk.Now)
	return s, clk
}

func newestVersion(t testing.TB) int {
	t.Helper()
	migs, err := loadMigrations()
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	return len(migs)
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func tableNames(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}

func TestMigrationsNumbered(t *testing.T) {
	migs, err := loadMigrations()
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	if len(migs) == 0 {
		t.Fatal("no migrations embedded")
	}
	for i, m := range migs {
		if m.version != i+1 || m.name == "" || strings.TrimSpace(m.sql) == "" {
			t.Errorf("migration %d = {%d %q, %d bytes}; want version %d with a name and SQL", i, m.version, m.name, len(m.sql), i+1)
		}
	}
}

func TestOpenEmpty(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)

	want := []string{"access", "inbox", "messages", "outbox", "sessions", "settings", "summaries", "usage", "waclaw_version"}
	if diff := cmp.Diff(want, tableNames(t, s.DB())); diff != "" {
		t.Errorf("tables (-want +got):\n%s", diff)
	}
	v, err := schemaVersion(ctx, s.DB())
	if err != nil || v != newestVersion(t) {
		t.Errorf("schemaVersion = %d, %v; want %d", v, err, newestVersion(t))
	}
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "5000"} {
		var got string
		if err := s.DB().QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q, %v; want %q", pragma, got, err, want)
		}
	}
	if !filepath.IsAbs(s.Path()) {
		t.Errorf("Path() = %q; want an absolute path", s.Path())
	}
}

func TestReopenKeepsDataAndDoesNotRemigrate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "waclaw.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.SetSetting(ctx, "owner", "+15551234567"); err != nil {
		t.Fatal(err)
	}
	versions := func(s *Store) string {
		var got string
		err := s.DB().QueryRow(`SELECT group_concat(version || ':' || name || ':' || applied_at, ',') FROM waclaw_version`).Scan(&got)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	before := versions(s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	s.SetClock(func() time.Time { return t0.Add(24 * time.Hour) })
	if got := versions(s); got != before {
		t.Errorf("waclaw_version after reopen = %q; want unchanged %q", got, before)
	}
	if v, ok, err := s.Setting(ctx, "owner"); v != "+15551234567" || !ok || err != nil {
		t.Errorf("Setting(owner) after reopen = %q, %v, %v; want +15551234567, true, nil", v, ok, err)
	}
}

// whatsmeow shares the file; its tables must survive our migrations.
func TestOpenLeavesOtherTablesAlone(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "waclaw.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE whatsmeow_version (version INTEGER); INSERT INTO whatsmeow_version VALUES (8)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	var v int
	if err := s.DB().QueryRow(`SELECT version FROM whatsmeow_version`).Scan(&v); err != nil || v != 8 {
		t.Errorf("whatsmeow_version = %d, %v; want 8", v, err)
	}
	if v, err := schemaVersion(ctx, s.DB()); err != nil || v != newestVersion(t) {
		t.Errorf("schemaVersion = %d, %v; want %d", v, err, newestVersion(t))
	}
}

func TestFileModes(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(t *testing.T, path string) // prepares an existing file, or nothing
	}{
		{"new file in new directory", func(t *testing.T, path string) {}},
		{"existing empty 0644 file", func(t *testing.T, path string) {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chmod(path, 0o644)
		}},
		{"existing 0644 database", func(t *testing.T, path string) {
			s, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SetSetting(ctx, "k", "v"); err != nil {
				t.Fatal(err)
			}
			s.Close()
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data", "nested")
			path := filepath.Join(dir, "waclaw.db")
			tt.setup(t, path)
			s, err := Open(ctx, path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			if err := s.SetSetting(ctx, "touched", "yes"); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				fi, err := os.Stat(p)
				if err != nil {
					t.Errorf("stat: %v", err)
					continue
				}
				if got := fi.Mode().Perm(); got != 0o600 {
					t.Errorf("mode of %s = %v; want 0600", filepath.Base(p), got)
				}
			}
			if tt.name == "new file in new directory" {
				fi, err := os.Stat(dir)
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode().Perm(); got != 0o700 {
					t.Errorf("mode of created directory = %v; want 0700", got)
				}
			}
		})
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "waclaw.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	newest := newestVersion(t)
	future := newest + 5
	if _, err := s.DB().Exec(`INSERT INTO waclaw_version (version, name, applied_at) VALUES (?, 'future', 0)`, future); err != nil {
		t.Fatal(err)
	}
	// Back to a rollback journal, so that switching to WAL before the
	// version check would change the file header.
	var mode string
	if err := s.DB().QueryRow(`PRAGMA journal_mode = DELETE`).Scan(&mode); err != nil || mode != "delete" {
		t.Fatalf("PRAGMA journal_mode = DELETE: %q, %v", mode, err)
	}
	s.Close()
	before := fileHash(t, path)

	for range 2 {
		s, err := Open(ctx, path)
		if err == nil {
			s.Close()
			t.Fatal("Open of a newer database succeeded; want ErrNewerSchema")
		}
		if !errors.Is(err, ErrNewerSchema) {
			t.Errorf("Open error = %v; want errors.Is ErrNewerSchema", err)
		}
		want := fmt.Sprintf("database %s was written by a newer waclaw (schema %d, this build knows up to %d): upgrade waclaw or point --data-dir elsewhere", path, future, newest)
		if err.Error() != want {
			t.Errorf("Open error = %q; want %q", err, want)
		}
	}
	if after := fileHash(t, path); after != before {
		t.Error("refused database file was modified")
	}
	for _, suffix := range []string{"-wal", "-journal"} {
		if _, err := os.Stat(path + suffix); err == nil {
			t.Errorf("%s left behind by a refused open", filepath.Base(path+suffix))
		}
	}
}

func TestNotADatabase(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
	}{
		{"text file", []byte(strings.Repeat("model = \"llama\"\n", 100))},
		{"binary junk", func() []byte {
			b := make([]byte, 8192)
			for i := range b {
				b[i] = byte(i*7 + 3)
			}
			return b
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "waclaw.db")
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(context.Background(), path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded; want an error")
			}
			want := path + " is not a waclaw database (file is not a database): move it away or choose another --data-dir"
			if err.Error() != want {
				t.Errorf("Open error = %q; want %q", err, want)
			}
			got, _ := os.ReadFile(path)
			if string(got) != string(tt.content) {
				t.Error("file was modified")
			}
		})
	}
}

// A database from the first release (schema 1) is upgraded in place and
// keeps its history.
func TestUpgradeFromSchema1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "waclaw.db")
	migs, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if err := createPrivate(path); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	old := &Store{db: db, path: path, now: func() time.Time { return t0 }}
	if err := old.migrate(ctx, migs[:1], 0); err != nil {
		t.Fatal(err)
	}
	sess, err := old.ActiveSession(ctx, "chat")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := old.AppendTurn(ctx, sess.ID, Message{Text: "hello", PlatformMsgID: "M1"}, Message{Text: "hi there"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("open a schema 1 database: %v", err)
	}
	defer s.Close()
	if v, err := schemaVersion(ctx, s.DB()); err != nil || v != newestVersion(t) {
		t.Errorf("schemaVersion after upgrade = %d, %v; want %d", v, err, newestVersion(t))
	}
	if got, ok, err := s.StoredReply(ctx, sess.ID, "M1"); got != "hi there" || !ok || err != nil {
		t.Errorf("history after upgrade: StoredReply = %q, %v, %v", got, ok, err)
	}
}
