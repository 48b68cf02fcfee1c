package bridge

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"waclaw/agent"
	"waclaw/agent/agenttest"
	"waclaw/store"
)

// crashState records msg the way a run that died would have left it:
// pending in the inbox, then whatever stage prepares.
func crashState(t *testing.T, h *harness, in Inbound, stage func(inboxID, sessionID int64)) {
	t.Helper()
	ctx := context.Background()
	stopped := wire(t, h.cfg, h.store, h.ch, agent.Options{}, Options{Now: h.clock.Now})
	stopped.Shutdown(ctx)
	if err := stopped.Handle(ctx, in); err != nil {
		t.Fatal(err)
	}
	pending, err := h.store.InboxPending(ctx)
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending = %v, %v", pending, err)
	}
	sess, err := h.store.ActiveSession(ctx, in.ChatID)
	if err != nil {
		t.Fatal(err)
	}
	stage(pending[0].ID, sess.ID)
}

// restart starts a new bridge over the harness's store and waits until it
// has handled everything pending.
func restart(t *testing.T, h *harness) {
	t.Helper()
	b := wire(t, h.cfg, h.store, h.ch, agent.Options{}, Options{Now: h.clock.Now})
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Idle(ctx); err != nil {
		t.Fatal(err)
	}
	b.Shutdown(ctx)
}

// checkFinished asserts that nothing is pending and no reply copy is left.
func checkFinished(t *testing.T, h *harness) {
	t.Helper()
	ctx := context.Background()
	if pending, err := h.store.InboxPending(ctx); err != nil || len(pending) != 0 {
		t.Errorf("pending after restart: %v, %v", pending, err)
	}
	var left int
	h.store.DB().QueryRow(`SELECT count(*) FROM outbox`).Scan(&left)
	if left != 0 {
		t.Errorf("%d outbox rows left after the message was finished", left)
	}
}

// Killed after the answer was stored but before it was recorded for
// sending: the restart sends the stored answer without asking a model
// again, and the history holds the turn once.
func TestRestartAfterTheTurnWasStored(t *testing.T) {
	h := newHarness(t, "")
	in := h.dm(friend, "what's 2+2?")
	crashState(t, h, in, func(_, sessionID int64) {
		if _, _, err := h.store.AppendTurn(context.Background(), sessionID,
			store.Message{Text: in.Text, PlatformMsgID: in.MessageID}, store.Message{Text: "It's **4**."}); err != nil {
			t.Fatal(err)
		}
	})
	restart(t, h)
	if got := h.ch.to(friend); !slices.Equal(got, []string{"It's *4*."}) {
		t.Errorf("sent %q; want the stored answer once, in WhatsApp markup", got)
	}
	if n := len(h.srv.Calls()); n != 0 {
		t.Errorf("the model was asked %d times for a message already answered", n)
	}
	sess, _ := h.store.ActiveSession(context.Background(), friend)
	msgs, _ := h.store.RecentMessages(context.Background(), sess.ID, 10)
	if len(msgs) != 2 {
		t.Errorf("history holds %d messages; want the one turn", len(msgs))
	}
	checkFinished(t, h)
}

// Killed in the middle of sending a long reply: the restart sends only the
// parts without confirmation, under the ids recorded for them, and the
// message ends in the state recorded with the reply.
func TestRestartMidReply(t *testing.T) {
	h := newHarness(t, "")
	in := h.dm(friend, "tell me a long story")
	crashState(t, h, in, func(inboxID, _ int64) {
		var parts []store.OutboxPart
		for i := range 3 {
			parts = append(parts, store.OutboxPart{ChatID: friend, MsgID: "rec-" + strconv.Itoa(i), Text: "part " + strconv.Itoa(i),
				ThenState: store.InboxFailed, ThenReason: "no model answered: test"})
		}
		recorded, err := h.store.OutboxAdd(context.Background(), inboxID, parts)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.store.OutboxSent(context.Background(), recorded[0].ID); err != nil {
			t.Fatal(err)
		}
	})
	restart(t, h)
	h.ch.mu.Lock()
	got := slices.Clone(h.ch.sent)
	h.ch.mu.Unlock()
	want := []sent{{friend, "part 1", "", "rec-1"}, {friend, "part 2", "", "rec-2"}}
	if !slices.Equal(got, want) {
		t.Errorf("sent %+v; want %+v", got, want)
	}
	if n := len(h.srv.Calls()); n != 0 {
		t.Errorf("the model was asked %d times", n)
	}
	it, _, _ := h.store.InboxGet(context.Background(), 1)
	if it.State != store.InboxFailed || it.Reason != "no model answered: test" {
		t.Errorf("inbox row ended %s (%q); want the state recorded with the reply", it.State, it.Reason)
	}
	checkFinished(t, h)
}

// limitPages makes the store's database full at its current size (0
// lifts the limit). SQLite's max_page_count fails a write that needs a new
// page with the same SQLITE_FULL a full filesystem gives; it is per
// connection, so the store is kept to one.
func limitPages(t *testing.T, st *store.Store, on bool) {
	t.Helper()
	db := st.DB()
	db.SetMaxOpenConns(1)
	limit := 1073741823
	if on {
		db.QueryRow("PRAGMA page_count").Scan(&limit)
	}
	if _, err := db.Exec("PRAGMA max_page_count = " + strconv.Itoa(limit)); err != nil {
		t.Fatal(err)
	}
}

// A disk that fills while the model thinks: the sender is told once, the
// message is kept and answered once when there is room again, and nothing
// stored before is lost. A message arriving while the disk is full is
// refused with an error that says so, and taken when delivered again.
func TestDiskFull(t *testing.T) {
	h := newHarness(t, "")
	ctx := context.Background()
	h.send(t, h.dm(friend, "before the disk filled"))

	asked := make(chan struct{}, 16)
	answer := make(chan struct{})
	h.srv.SetResponder(func(r agenttest.Request) agenttest.Reply {
		asked <- struct{}{}
		<-answer
		return agenttest.Reply{Text: "ok: " + strconv.Itoa(len(lastInput(r.Body))) + " characters"}
	})
	waits := make(chan time.Duration, 16)
	room := make(chan struct{})
	b := wire(t, h.cfg, h.store, h.ch, agent.Options{}, Options{Now: h.clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			waits <- d
			<-room
			return nil
		}})
	defer b.Shutdown(ctx)
	// Longer than a page, so storing it needs new pages.
	big := strings.Repeat("a long message ", 1000)
	if err := b.Handle(ctx, h.dm(friend, big)); err != nil {
		t.Fatal(err)
	}
	<-asked
	limitPages(t, h.store, true)
	close(answer)
	d := <-waits // the turn could not be stored: it waits for room
	if got := h.ch.to(friend); len(got) != 2 || got[1] != diskFullNotice {
		t.Fatalf("sent %q; want the notice after the first answer", got)
	}
	if pending, err := h.store.InboxPending(ctx); err != nil || len(pending) != 1 {
		t.Errorf("pending while the disk is full: %v, %v; want the message kept", pending, err)
	}
	refused := h.dm(friend, big+"again")
	err := b.Handle(ctx, refused)
	if !store.IsDiskFull(err) || !strings.Contains(err.Error(), "is full: free some space") {
		t.Errorf("Handle on a full disk = %v; want a disk-full error that says what to do", err)
	}

	limitPages(t, h.store, false)
	close(room)
	if err := b.Handle(ctx, refused); err != nil {
		t.Fatalf("Handle of the redelivered message: %v", err)
	}
	idle, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := b.Idle(idle); err != nil {
		t.Fatal(err)
	}
	want := []string{"echo: before the disk filled", diskFullNotice, "ok: 15000 characters", "ok: 15005 characters"}
	if got := h.ch.to(friend); !slices.Equal(got, want) {
		t.Errorf("sent %q; want %q", got, want)
	}
	if d != time.Second {
		t.Errorf("first wait for room %s; want 1s", d)
	}
	asks := 0
	for _, r := range h.srv.Calls() {
		if r.LastInput() == big {
			asks++
		}
	}
	if asks != 1 {
		t.Errorf("the model was asked %d times for the message that waited for room; want once (its answer is kept)", asks)
	}
	if it, _, _ := h.store.InboxGet(ctx, 2); it.Attempts != 1 {
		t.Errorf("the message that waited for room has %d attempts; want 1 (waits are not attempts)", it.Attempts)
	}
	checkFinished(t, h)
	var check string
	if err := h.store.DB().QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v", check, err)
	}
	// Compaction may have folded the long turns into notes; the rows stay.
	var n int
	var first string
	h.store.DB().QueryRow(`SELECT count(*), (SELECT text FROM messages ORDER BY id LIMIT 1) FROM messages`).Scan(&n, &first)
	if n != 6 || first != "before the disk filled" {
		t.Errorf("history holds %d messages (first %.30q); want the three turns, the first kept", n, first)
	}
}

// A message that every run stopped while answering (as if it crashed the
// process) is given up on the third restart instead of keeping the bot in
// a crash loop: its row ends failed with the reason and the sender is told.
func TestGiveUpAfterRepeatedCrashes(t *testing.T) {
	h := newHarness(t, "")
	in := h.dm(friend, "the message that kills the bot")
	crashState(t, h, in, func(inboxID, _ int64) {
		for range maxAttempts {
			if err := h.store.InboxStart(context.Background(), inboxID); err != nil {
				t.Fatal(err)
			}
		}
	})
	restart(t, h)
	if got := h.ch.to(friend); !slices.Equal(got, []string{gaveUpNotice}) {
		t.Errorf("sent %q; want the give-up notice", got)
	}
	if n := len(h.srv.Calls()); n != 0 {
		t.Errorf("the model was asked %d times", n)
	}
	it, _, _ := h.store.InboxGet(context.Background(), 1)
	if it.State != store.InboxFailed || !strings.Contains(it.Reason, "gave up after 3 attempts") {
		t.Errorf("inbox row ended %s (%q); want failed, giving up", it.State, it.Reason)
	}
	checkFinished(t, h)
}

// The same message found again after days down is stale: the sender hears
// the one backlog line, not an apology about a message nobody answered.
func TestNoGiveUpNoticeForAStaleMessage(t *testing.T) {
	h := newHarness(t, "")
	in := h.dm(friend, "the message that kills the bot")
	crashState(t, h, in, func(inboxID, _ int64) {
		for range maxAttempts {
			if err := h.store.InboxStart(context.Background(), inboxID); err != nil {
				t.Fatal(err)
			}
		}
	})
	h.clock.Advance(72 * time.Hour)
	restart(t, h)
	if got := h.ch.to(friend); !slices.Equal(got, []string{backlogNotice}) {
		t.Errorf("sent %q; want only the backlog line", got)
	}
	it, _, _ := h.store.InboxGet(context.Background(), 1)
	if it.State != store.InboxSkipped || !strings.Contains(it.Reason, "stale") {
		t.Errorf("inbox row ended %s (%q); want skipped as stale", it.State, it.Reason)
	}
	checkFinished(t, h)
}

// Below the limit a resumed message is answered, and its attempts count
// runs, not waits.
func TestResumeBelowTheAttemptLimit(t *testing.T) {
	h := newHarness(t, "")
	in := h.dm(friend, "try again")
	crashState(t, h, in, func(inboxID, _ int64) {
		for range maxAttempts - 1 {
			h.store.InboxStart(context.Background(), inboxID)
		}
	})
	restart(t, h)
	if got := h.ch.to(friend); !slices.Equal(got, []string{"echo: try again"}) {
		t.Errorf("sent %q; want the answer", got)
	}
	it, _, _ := h.store.InboxGet(context.Background(), 1)
	if it.State != store.InboxDone || it.Attempts != maxAttempts {
		t.Errorf("inbox row %s after %d attempts; want done after %d", it.State, it.Attempts, maxAttempts)
	}
}
