package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestInboxDuplicates(t *testing.T) {
	ctx := context.Background()
	s, clock := openTest(t)
	recv := t0.Add(-time.Minute)

	firstID, added, err := s.InboxAdd(ctx, InboxItem{ChatID: "chat", SenderID: "alice", MsgID: "M1", Payload: []byte(`{"text":"first"}`), ReceivedAt: recv})
	if err != nil || !added {
		t.Fatalf("InboxAdd = %d, %v, %v; want added", firstID, added, err)
	}
	// Handled already: a redelivery must not bring it back.
	if err := s.InboxFinish(ctx, firstID, InboxDone, ""); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)

	tests := []struct {
		name              string
		chat, sender, msg string
		wantAdded         bool
	}{
		{"same chat, sender and id", "chat", "alice", "M1", false},
		{"same id from another sender", "chat", "bob", "M1", true},
		{"same id in another chat", "group", "alice", "M1", true},
		{"another id", "chat", "alice", "M2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, added, err := s.InboxAdd(ctx, InboxItem{ChatID: tt.chat, SenderID: tt.sender, MsgID: tt.msg, Payload: []byte(`{"text":"second"}`)})
			if err != nil || added != tt.wantAdded {
				t.Fatalf("InboxAdd = %d, %v, %v; want added %v", id, added, err, tt.wantAdded)
			}
			if !tt.wantAdded && id != firstID {
				t.Errorf("duplicate InboxAdd id = %d; want the original %d", id, firstID)
			}
		})
	}

	got, ok, err := s.InboxGet(ctx, firstID)
	if !ok || err != nil {
		t.Fatalf("InboxGet = %v, %v", ok, err)
	}
	want := InboxItem{ID: firstID, ChatID: "chat", SenderID: "alice", MsgID: "M1", Payload: []byte(`{"text":"first"}`),
		State: InboxDone, ReceivedAt: recv, CreatedAt: t0, UpdatedAt: t0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("original row after duplicate (-want +got):\n%s", diff)
	}
}

func TestInboxLifecycle(t *testing.T) {
	ctx := context.Background()
	s, clock := openTest(t)

	var ids []int64
	for _, msg := range []string{"A", "B", "C"} {
		id, _, err := s.InboxAdd(ctx, InboxItem{ChatID: "chat", SenderID: "alice", MsgID: msg})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	pendingIDs := func() []string {
		items, err := s.InboxPending(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var msgs []string
		for _, it := range items {
			msgs = append(msgs, it.MsgID)
		}
		return msgs
	}
	if diff := cmp.Diff([]string{"A", "B", "C"}, pendingIDs()); diff != "" {
		t.Errorf("InboxPending (-want +got):\n%s", diff)
	}

	clock.Advance(time.Second)
	for range 2 {
		if err := s.InboxStart(ctx, ids[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.InboxFinish(ctx, ids[1], InboxFailed, "model unavailable"); err != nil {
		t.Fatal(err)
	}
	if err := s.InboxFinish(ctx, ids[0], InboxSkipped, "not allowed"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"C"}, pendingIDs()); diff != "" {
		t.Errorf("InboxPending after finishing A and B (-want +got):\n%s", diff)
	}
	got, _, _ := s.InboxGet(ctx, ids[1])
	want := InboxItem{ID: ids[1], ChatID: "chat", SenderID: "alice", MsgID: "B", Payload: []byte{},
		State: InboxFailed, Attempts: 2, Reason: "model unavailable", CreatedAt: t0, UpdatedAt: t0.Add(time.Second)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("InboxGet(B) (-want +got):\n%s", diff)
	}

	if err := s.InboxFinish(ctx, ids[2], "lost", ""); err == nil {
		t.Error("InboxFinish(state lost) succeeded; want an error")
	}
	if err := s.InboxStart(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("InboxStart(missing) = %v; want ErrNotFound", err)
	}
	if _, ok, err := s.InboxGet(ctx, 999); ok || err != nil {
		t.Errorf("InboxGet(missing) = %v, %v; want false, nil", ok, err)
	}
}

func TestInboxConcurrentAdd(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)

	const n = 8
	var wg sync.WaitGroup
	ids := make([]int64, n)
	added := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			ids[i], added[i], errs[i] = s.InboxAdd(ctx, InboxItem{ChatID: "chat", SenderID: "alice", MsgID: "same", Payload: []byte{byte(i)}})
		})
	}
	wg.Wait()
	adds := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("InboxAdd #%d: %v", i, errs[i])
		}
		if added[i] {
			adds++
		}
		if ids[i] != ids[0] {
			t.Errorf("InboxAdd #%d id = %d; want %d like the others", i, ids[i], ids[0])
		}
	}
	if adds != 1 {
		t.Errorf("InboxAdd added %d times; want exactly once", adds)
	}
	if items, err := s.InboxPending(ctx); len(items) != 1 || err != nil {
		t.Errorf("InboxPending = %d items, %v; want 1", len(items), err)
	}
}

// Finished messages are pruned after the retention period, so strangers
// cannot grow the database for ever; a message still waiting, or one whose
// reply is recorded but not yet out, is kept whatever its age.
func TestInboxPrune(t *testing.T) {
	ctx := context.Background()
	s, clock := openTest(t)
	add := func(msg string) int64 {
		id, _, err := s.InboxAdd(ctx, InboxItem{ChatID: "chat", SenderID: "alice", MsgID: msg, Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	old := add("old")
	if err := s.InboxFinish(ctx, old, InboxSkipped, "stranger"); err != nil {
		t.Fatal(err)
	}
	waiting := add("waiting")
	sending := add("sending")
	if _, err := s.OutboxAdd(ctx, sending, []OutboxPart{{ChatID: "chat", MsgID: "R1", Text: "hi"}}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(72 * time.Hour)
	recent := add("recent")
	if err := s.InboxFinish(ctx, recent, InboxDone, ""); err != nil {
		t.Fatal(err)
	}

	n, err := s.InboxPrune(ctx, clock.Now().Add(-time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("InboxPrune = %d, %v; want 1 row pruned", n, err)
	}
	for id, want := range map[int64]bool{old: false, waiting: true, sending: true, recent: true} {
		if _, ok, err := s.InboxGet(ctx, id); err != nil || ok != want {
			t.Errorf("row %d kept = %v, %v; want %v", id, ok, err, want)
		}
	}
	// Pruned, a redelivery of it is new again: that is why retention is
	// days long.
	if _, added, err := s.InboxAdd(ctx, InboxItem{ChatID: "chat", SenderID: "alice", MsgID: "old", Payload: []byte(`{}`)}); err != nil || !added {
		t.Errorf("InboxAdd after prune = %v, %v; want added", added, err)
	}
}

// A message deleted while it waits is skipped; once its reply is
// recorded, or it is finished, deleting it changes nothing here.
func TestInboxRevoke(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	add := func(msg string) int64 {
		id, _, err := s.InboxAdd(ctx, InboxItem{ChatID: "chat", SenderID: "alice", MsgID: msg, Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	waiting, answered, done := add("M1"), add("M2"), add("M3")
	if _, err := s.OutboxAdd(ctx, answered, []OutboxPart{{ChatID: "chat", MsgID: "R2", Text: "hi"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.InboxFinish(ctx, done, InboxDone, ""); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		chat, msg string
		id        int64
		want      bool
		state     InboxState
	}{
		{"other", "M1", waiting, false, InboxPending}, // the same id in another chat is another message
		{"chat", "M1", waiting, true, InboxSkipped},
		{"chat", "M2", answered, false, InboxPending},
		{"chat", "M3", done, false, InboxDone},
	} {
		got, err := s.InboxRevoke(ctx, tt.chat, tt.msg, "deleted by the sender")
		if err != nil || got != tt.want {
			t.Errorf("InboxRevoke(%s, %s) = %v, %v; want %v", tt.chat, tt.msg, got, err, tt.want)
		}
		if st, _, _ := s.InboxStateOf(ctx, tt.id); st != tt.state {
			t.Errorf("after InboxRevoke(%s, %s) the row is %s; want %s", tt.chat, tt.msg, st, tt.state)
		}
	}
}
