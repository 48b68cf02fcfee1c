package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestActiveSessionCreatesOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)

	var wg sync.WaitGroup
	ids := make([]int64, 8)
	errs := make([]error, 8)
	for i := range ids {
		wg.Go(func() {
			ss, err := s.ActiveSession(ctx, "chat-a")
			ids[i], errs[i] = ss.ID, err
		})
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Errorf("ActiveSession #%d = %d, %v; want %d, nil", i, ids[i], errs[i], ids[0])
		}
	}
	want := []Session{{ID: ids[0], ChatID: "chat-a", State: SessionActive, CreatedAt: t0, UpdatedAt: t0}}
	got, err := s.Sessions(ctx, "chat-a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sessions (-want +got):\n%s", diff)
	}
	other, err := s.ActiveSession(ctx, "chat-b")
	if err != nil || other.ID == ids[0] {
		t.Errorf("ActiveSession(chat-b) = %d, %v; want a session of its own", other.ID, err)
	}
}

func TestNewSessionArchivesAndKeepsSettings(t *testing.T) {
	ctx := context.Background()
	s, clock := openTest(t)

	old, err := s.ActiveSession(ctx, "chat")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetModelOverride(ctx, old.ID, "local/qwen3"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPrivacy(ctx, old.ID, PrivacyLocal); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendMessage(ctx, Message{SessionID: old.ID, Role: RoleUser, Text: "remember me"}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	t1 := t0.Add(time.Minute)

	fresh, err := s.NewSession(ctx, "chat")
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	want := []Session{
		{ID: old.ID, ChatID: "chat", State: SessionArchived, ModelOverride: "local/qwen3", Privacy: "local", CreatedAt: t0, UpdatedAt: t1},
		{ID: fresh.ID, ChatID: "chat", State: SessionActive, ModelOverride: "local/qwen3", Privacy: "local", CreatedAt: t1, UpdatedAt: t1},
	}
	got, err := s.Sessions(ctx, "chat")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sessions after NewSession (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[1], fresh); diff != "" {
		t.Errorf("NewSession result (-want +got):\n%s", diff)
	}
	if active, err := s.ActiveSession(ctx, "chat"); err != nil || active.ID != fresh.ID {
		t.Errorf("ActiveSession = %d, %v; want the new session %d", active.ID, err, fresh.ID)
	}
	if total, _, err := s.CountMessages(ctx, old.ID); err != nil || total != 1 {
		t.Errorf("CountMessages(archived) = %d, %v; want 1 (nothing deleted)", total, err)
	}
	if recent, err := s.RecentMessages(ctx, fresh.ID, 10); err != nil || len(recent) != 0 {
		t.Errorf("RecentMessages(new session) = %v, %v; want none", recent, err)
	}

	// A chat without any session gets a plain fresh one.
	first, err := s.NewSession(ctx, "other")
	if err != nil || first.State != SessionActive || first.ModelOverride != "" {
		t.Errorf("NewSession(other) = %+v, %v; want an active session without override", first, err)
	}
}

func TestSessionSettersNotFound(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	if err := s.SetModelOverride(ctx, 42, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetModelOverride(missing) = %v; want ErrNotFound", err)
	}
	if err := s.SetPrivacy(ctx, 42, PrivacyLocal); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetPrivacy(missing) = %v; want ErrNotFound", err)
	}
}

// fill appends n alternating user/assistant messages "m1".."mn" and returns
// their ids.
func fill(t testing.TB, s *Store, sessionID int64, n int) []int64 {
	t.Helper()
	var ids []int64
	for i := 1; i <= n; i++ {
		role := RoleUser
		if i%2 == 0 {
			role = RoleAssistant
		}
		id, err := s.AppendMessage(context.Background(), Message{SessionID: sessionID, Role: role, Text: fmt.Sprintf("m%d", i), Tokens: i})
		if err != nil {
			t.Fatalf("AppendMessage: %v", err)
		}
		ids = append(ids, id)
	}
	return ids
}

func texts(ms []Message) string {
	var b []string
	for _, m := range ms {
		b = append(b, m.Text)
	}
	return strings.Join(b, " ")
}

func TestRecentMessages(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	a, _ := s.ActiveSession(ctx, "a")
	b, _ := s.ActiveSession(ctx, "b")
	ids := fill(t, s, a.ID, 10)
	fill(t, s, b.ID, 3) // interleaved ids must not leak into a
	fill(t, s, a.ID, 0)
	if err := s.Compact(ctx, a.ID, Summary{Text: "m1-m4", ThroughMessageID: ids[3]}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		limit int
		want  string
	}{
		{3, "m8 m9 m10"},
		{6, "m5 m6 m7 m8 m9 m10"},
		{100, "m5 m6 m7 m8 m9 m10"}, // compacted m1-m4 excluded
		{0, ""},
	}
	for _, tt := range tests {
		got, err := s.RecentMessages(ctx, a.ID, tt.limit)
		if err != nil {
			t.Fatalf("RecentMessages(%d): %v", tt.limit, err)
		}
		if texts(got) != tt.want {
			t.Errorf("RecentMessages(%d) = %q; want %q", tt.limit, texts(got), tt.want)
		}
	}

	got, _ := s.RecentMessages(ctx, a.ID, 1)
	want := []Message{{ID: ids[9], SessionID: a.ID, Role: RoleAssistant, Text: "m10", Tokens: 10, CreatedAt: t0}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RecentMessages(1) (-want +got):\n%s", diff)
	}
}

// The context window must not cost more as the history grows.
func TestRecentMessagesUsesIndex(t *testing.T) {
	s, _ := openTest(t)
	rows, err := s.DB().Query("EXPLAIN QUERY PLAN "+recentMessagesQuery, 1, 40)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	got := strings.Join(plan, "; ")
	if !strings.Contains(got, "USING INDEX messages_session_tail") || strings.Contains(got, "TEMP B-TREE") {
		t.Errorf("query plan = %q; want a search of messages_session_tail without a sort", got)
	}
}

func TestAppendTurn(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	ss, _ := s.ActiveSession(ctx, "chat")

	userID, replyID, err := s.AppendTurn(ctx, ss.ID,
		Message{Text: "hi", Tokens: 1, PlatformMsgID: "WA1"},
		Message{Text: "hello!", Tokens: 2})
	if err != nil {
		t.Fatalf("AppendTurn: %v", err)
	}
	want := []Message{
		{ID: userID, SessionID: ss.ID, Role: RoleUser, Text: "hi", Tokens: 1, PlatformMsgID: "WA1", CreatedAt: t0},
		{ID: replyID, SessionID: ss.ID, Role: RoleAssistant, Text: "hello!", Tokens: 2, CreatedAt: t0},
	}
	got, err := s.RecentMessages(ctx, ss.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RecentMessages after AppendTurn (-want +got):\n%s", diff)
	}

	// A turn for a session that does not exist stores neither half.
	if _, _, err := s.AppendTurn(ctx, 999, Message{Text: "q"}, Message{Text: "a"}); err == nil {
		t.Error("AppendTurn(missing session) succeeded; want a foreign key error")
	}
	var n int
	s.DB().QueryRow(`SELECT count(*) FROM messages`).Scan(&n)
	if n != 2 {
		t.Errorf("messages stored = %d; want 2", n)
	}

	if _, err := s.AppendMessage(ctx, Message{SessionID: ss.ID, Role: "system", Text: "x"}); err == nil {
		t.Error("AppendMessage(role system) succeeded; want an error")
	}
}

func TestCompact(t *testing.T) {
	ctx := context.Background()
	s, clock := openTest(t)
	ss, _ := s.ActiveSession(ctx, "chat")
	ids := fill(t, s, ss.ID, 6)

	if _, ok, err := s.LatestSummary(ctx, ss.ID); ok || err != nil {
		t.Errorf("LatestSummary before Compact = %v, %v; want false, nil", ok, err)
	}
	if err := s.Compact(ctx, ss.ID, Summary{Text: "first", Tokens: 5, ThroughMessageID: ids[1]}); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	clock.Advance(time.Second)
	if err := s.Compact(ctx, ss.ID, Summary{Text: "second", Tokens: 7, ThroughMessageID: ids[3]}); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	got, ok, err := s.LatestSummary(ctx, ss.ID)
	if !ok || err != nil {
		t.Fatalf("LatestSummary = %v, %v; want true, nil", ok, err)
	}
	want := Summary{ID: got.ID, SessionID: ss.ID, Text: "second", Tokens: 7, ThroughMessageID: ids[3], CreatedAt: t0.Add(time.Second)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LatestSummary (-want +got):\n%s", diff)
	}
	if total, compacted, err := s.CountMessages(ctx, ss.ID); total != 6 || compacted != 4 || err != nil {
		t.Errorf("CountMessages = %d, %d, %v; want 6, 4, nil", total, compacted, err)
	}
}

func TestCompactIsAtomic(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	a, _ := s.ActiveSession(ctx, "a")
	b, _ := s.ActiveSession(ctx, "b")
	fill(t, s, a.ID, 4)
	idsB := fill(t, s, b.ID, 2) // newer than all of a's

	tests := []struct {
		name      string
		sessionID int64
		through   int64
	}{
		// Each would mark a's messages before the summary insert fails.
		{"message of another session", a.ID, idsB[1]},
		{"message that does not exist", a.ID, 99999},
		{"session that does not exist", 999, idsB[1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Compact(ctx, tt.sessionID, Summary{Text: "bad", ThroughMessageID: tt.through})
			if err == nil {
				t.Fatal("Compact succeeded; want an error")
			}
			for _, id := range []int64{a.ID, b.ID} {
				if total, compacted, err := s.CountMessages(ctx, id); compacted != 0 || err != nil {
					t.Errorf("CountMessages(%d) = %d, %d, %v; want nothing compacted", id, total, compacted, err)
				}
			}
			var n int
			s.DB().QueryRow(`SELECT count(*) FROM summaries`).Scan(&n)
			if n != 0 {
				t.Errorf("summaries stored = %d; want 0", n)
			}
		})
	}
}

// A deleted message's text, and the reply that answered it, are replaced
// in every session of its chat, and only there.
func TestRevokeMessage(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	mine, err := s.ActiveSession(ctx, "chat")
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.ActiveSession(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	for _, sess := range []Session{mine, other} {
		for _, turn := range [][2]string{{"M1", "my PIN is 1234"}, {"M2", "thanks"}} {
			if _, _, err := s.AppendTurn(ctx, sess.ID, Message{Role: RoleUser, Text: turn[1], PlatformMsgID: turn[0]}, Message{Role: RoleAssistant, Text: "re: " + turn[1]}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if ok, err := s.RevokeMessage(ctx, "chat", "M1", "(deleted)", "(answer to a deleted message)", 1); err != nil || !ok {
		t.Fatalf("RevokeMessage = %v, %v; want true", ok, err)
	}
	if ok, err := s.RevokeMessage(ctx, "chat", "unknown", "(deleted)", "", 1); err != nil || ok {
		t.Errorf("RevokeMessage of an unknown id = %v, %v; want false", ok, err)
	}
	for sess, want := range map[int64]string{
		mine.ID:  "(deleted) (answer to a deleted message) thanks re: thanks",
		other.ID: "my PIN is 1234 re: my PIN is 1234 thanks re: thanks",
	} {
		ms, err := s.RecentMessages(ctx, sess, 10)
		if err != nil {
			t.Fatal(err)
		}
		if got := texts(ms); got != want {
			t.Errorf("session %d = %q; want %q", sess, got, want)
		}
	}
}
