package store

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A reply is recorded once per message, parts are marked as they go out,
// and finishing the message drops its copy of the reply.
func TestOutbox(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	id, _, err := s.InboxAdd(ctx, InboxItem{ChatID: "chat", SenderID: "alice", MsgID: "M1", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.OutboxAdd(ctx, id, []OutboxPart{
		{ChatID: "chat", MsgID: "OUT1", Text: "part one", QuoteID: "M1"},
		{ChatID: "chat", MsgID: "OUT2", Text: "part two", ThenState: InboxFailed, ThenReason: "no model answered"},
	})
	if err != nil || len(first) != 2 {
		t.Fatalf("OutboxAdd = %v, %v", first, err)
	}
	// A second answer to the same message (a retry after a crash) does
	// not replace the first.
	again, err := s.OutboxAdd(ctx, id, []OutboxPart{{ChatID: "chat", MsgID: "OUT9", Text: "another answer"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("second OutboxAdd (-first +again):\n%s", diff)
	}
	if err := s.OutboxSent(ctx, first[0].ID); err != nil {
		t.Fatal(err)
	}
	got, err := s.Outbox(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := []OutboxPart{
		{ID: first[0].ID, InboxID: id, Part: 0, ChatID: "chat", MsgID: "OUT1", Text: "part one", QuoteID: "M1", Sent: true, ThenState: InboxDone},
		{ID: first[1].ID, InboxID: id, Part: 1, ChatID: "chat", MsgID: "OUT2", Text: "part two", ThenState: InboxFailed, ThenReason: "no model answered"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Outbox (-want +got):\n%s", diff)
	}
	if err := s.InboxFinish(ctx, id, InboxDone, ""); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Outbox(ctx, id); err != nil || len(got) != 0 {
		t.Errorf("after InboxFinish the outbox holds %v, %v; want nothing", got, err)
	}
}

// The answer to a platform message is found in its session, and only
// there.
func TestStoredReply(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	sess, err := s.ActiveSession(ctx, "chat")
	if err != nil {
		t.Fatal(err)
	}
	for _, turn := range [][3]string{{"Q1", "first?", "one"}, {"", "untracked", "x"}, {"Q2", "second?", "two"}} {
		if _, _, err := s.AppendTurn(ctx, sess.ID, Message{Text: turn[1], PlatformMsgID: turn[0]}, Message{Text: turn[2]}); err != nil {
			t.Fatal(err)
		}
	}
	other, err := s.ActiveSession(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		session int64
		msgID   string
		want    string
		found   bool
	}{
		{sess.ID, "Q1", "one", true},
		{sess.ID, "Q2", "two", true},
		{sess.ID, "", "", false},
		{sess.ID, "Q3", "", false},
		{other.ID, "Q1", "", false},
	} {
		got, found, err := s.StoredReply(ctx, tt.session, tt.msgID)
		if err != nil || got != tt.want || found != tt.found {
			t.Errorf("StoredReply(%d, %q) = %q, %v, %v; want %q, %v", tt.session, tt.msgID, got, found, err, tt.want, tt.found)
		}
	}
	var plan string
	var a, b, c int
	rows, err := s.DB().QueryContext(ctx, "EXPLAIN QUERY PLAN "+storedReplyQuery, sess.ID, "Q1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		rows.Scan(&a, &b, &c, &plan)
		steps = append(steps, plan)
	}
	if !strings.Contains(strings.Join(steps, "\n"), "messages_platform_id") {
		t.Errorf("the lookup does not use the index; plan:\n%s", strings.Join(steps, "\n"))
	}
}

// A full disk is an error IsDiskFull recognises, the failed write leaves
// nothing half done, and the store works again once there is room.
// (SQLite's max_page_count gives the same SQLITE_FULL a full filesystem
// does; the bridge's fault test fills a real one.)
func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.DB().SetMaxOpenConns(1) // the pragma is per connection
	id, _, err := s.InboxAdd(ctx, InboxItem{ChatID: "chat", SenderID: "alice", MsgID: "kept", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	var pages int
	s.DB().QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages)
	if _, err := s.DB().ExecContext(ctx, "PRAGMA max_page_count = "+strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.InboxAdd(ctx, InboxItem{ChatID: "chat", SenderID: "alice", MsgID: "big", Payload: []byte(strings.Repeat("x", 64<<10))})
	if !IsDiskFull(err) {
		t.Fatalf("InboxAdd on a full disk = %v; want a disk-full error", err)
	}
	if !strings.Contains(err.Error(), "database or disk is full") {
		t.Errorf("error %q does not say the disk is full", err)
	}
	if IsDiskFull(ErrNotFound) {
		t.Error("IsDiskFull(ErrNotFound) = true")
	}
	if _, err := s.DB().ExecContext(ctx, "PRAGMA max_page_count = 1073741823"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.InboxGet(ctx, id); !ok || err != nil {
		t.Errorf("the row stored before the disk filled: %v, %v", ok, err)
	}
	if _, added, err := s.InboxAdd(ctx, InboxItem{ChatID: "chat", SenderID: "alice", MsgID: "big", Payload: []byte(strings.Repeat("x", 64<<10))}); !added || err != nil {
		t.Errorf("InboxAdd with room again = %v, %v", added, err)
	}
	var check string
	if err := s.DB().QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v", check, err)
	}
}
