package bridge

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"waclaw/agent"
	"waclaw/agent/agenttest"
	"waclaw/config/clock"
	"waclaw/store"
)

// faultHarness is a bridge whose two providers are separate fake servers:
// local -> a, hosted -> b. Each server answers through a scripted function
// that sees the user's last message and counts its model requests.
type faultHarness struct {
	dbPath string
	store  *store.Store
	a, b   *agenttest.Server
	aCalls atomic.Int64
	bCalls atomic.Int64
	ch     *fakeChannel
	clock  *clock.Manual
	br     *Bridge
}

// newFaultHarness builds the bridge; answerA and answerB script servers a
// and b given the n-th (1-based) request to that server and the user text.
func newFaultHarness(t *testing.T, parallel int, answerA, answerB func(n int64, text string) agenttest.Reply) *faultHarness {
	t.Helper()
	h := &faultHarness{ch: &fakeChannel{}, clock: clock.NewManual(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))}
	h.a = agenttest.New(t, agenttest.LMStudio, "m")
	h.b = agenttest.New(t, agenttest.LMStudio, "m")
	h.a.SetResponder(func(r agenttest.Request) agenttest.Reply {
		return answerA(h.aCalls.Add(1), lastInput(r.Body))
	})
	h.b.SetResponder(func(r agenttest.Request) agenttest.Reply {
		return answerB(h.bCalls.Add(1), lastInput(r.Body))
	})
	cfg := testConfig(t, h.a.URL, h.b.URL, unlimited)
	h.dbPath = filepath.Join(t.TempDir(), "waclaw.db")
	st := testStore(t, h.dbPath)
	st.SetClock(h.clock.Now)
	h.store = st
	h.br = wire(t, cfg, st, h.ch, agent.Options{Now: h.clock.Now, Sleep: h.clock.Sleep},
		Options{Now: h.clock.Now, Sleep: h.clock.Sleep, MaxParallel: parallel})
	if err := h.br.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.br.Shutdown(context.Background()) })
	return h
}

func (h *faultHarness) msg(chat, id, text string) Inbound {
	return Inbound{ChatID: chat, SenderID: chat, SenderPhone: chat, Text: text, MessageID: id, Time: h.clock.Now()}
}

func (h *faultHarness) handle(t *testing.T, in Inbound) {
	t.Helper()
	if err := h.br.Handle(context.Background(), in); err != nil {
		t.Fatalf("Handle %s: %v", in.MessageID, err)
	}
}

func (h *faultHarness) idle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.br.Idle(ctx); err != nil {
		t.Fatalf("bridge never went idle: %v", err)
	}
}

// inboxStates counts inbox rows by state and returns the reasons of failed rows.
func (h *faultHarness) inboxStates(t *testing.T) (map[string]int, []string) {
	t.Helper()
	rows, err := h.store.DB().Query(`SELECT state, reason FROM inbox`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	states := map[string]int{}
	var failedReasons []string
	for rows.Next() {
		var state, reason string
		if err := rows.Scan(&state, &reason); err != nil {
			t.Fatal(err)
		}
		states[state]++
		if state == string(store.InboxFailed) {
			failedReasons = append(failedReasons, reason)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return states, failedReasons
}

func faultChats(n int) []string {
	chats := make([]string, n)
	for i := range chats {
		chats[i] = fmt.Sprintf("+1555400%04d", i)
	}
	return chats
}

func faultText(c, i int) string { return fmt.Sprintf("question %d from chat %d", i, c) }

// checkAnsweredOnce asserts each chat got exactly one reply per message, in
// order, each starting with one of the prefixes followed by the question.
func checkAnsweredOnce(t *testing.T, ch *fakeChannel, chats []string, msgs int, prefixes ...string) {
	t.Helper()
	for c, chat := range chats {
		got := ch.to(chat)
		if len(got) != msgs {
			t.Errorf("chat %d: %d replies %q; want exactly %d", c, len(got), got, msgs)
			continue
		}
		for i, r := range got {
			ok := false
			for _, p := range prefixes {
				if strings.HasPrefix(r, p+faultText(c, i)) {
					ok = true
				}
			}
			if !ok {
				t.Errorf("chat %d reply %d = %q; want one of %q + %q", c, i, r, prefixes, faultText(c, i))
			}
		}
	}
}

// TestFaultPrimaryKilledMidStream: the local server drops every stream
// part-way; every message of a burst from several chats is answered by the
// hosted fallback, exactly once, and every inbox row ends done.
func TestFaultPrimaryKilledMidStream(t *testing.T) {
	chats := faultChats(5)
	const msgs = 3
	h := newFaultHarness(t, len(chats),
		func(n int64, text string) agenttest.Reply { return agenttest.Reply{Fault: agenttest.CutStream} },
		func(n int64, text string) agenttest.Reply { return agenttest.Reply{Text: "B: " + text} })

	var wg sync.WaitGroup
	for c, chat := range chats {
		wg.Go(func() {
			for i := range msgs {
				h.handle(t, h.msg(chat, fmt.Sprintf("cut-%d-%d", c, i), faultText(c, i)))
			}
		})
	}
	wg.Wait()
	h.idle(t)

	checkAnsweredOnce(t, h.ch, chats, msgs, "B: ")
	if got := h.aCalls.Load(); got < 1 {
		t.Errorf("the local server was never asked; the test did not exercise a cut stream")
	}
	if got, want := h.bCalls.Load(), int64(len(chats)*msgs); got != want {
		t.Errorf("hosted server asked %d times; want %d (one per message)", got, want)
	}
	states, _ := h.inboxStates(t)
	if states[string(store.InboxDone)] != len(chats)*msgs || len(states) != 1 {
		t.Errorf("inbox states %v; want all %d done", states, len(chats)*msgs)
	}
}

// TestFaultAllModelsDown: with every model failing, each message of 10 chats
// gets exactly one apology, every inbox row ends failed with a reason, and
// the bridge goes idle.
func TestFaultAllModelsDown(t *testing.T) {
	apology := (&agent.ChainError{}).UserMessage()
	if !strings.HasPrefix(apology, "Sorry, I can't answer right now") {
		t.Fatalf("apology text changed: %q", apology)
	}
	for _, mode := range []string{"ServerError", "Closed"} {
		t.Run(mode, func(t *testing.T) {
			fail := func(n int64, text string) agenttest.Reply { return agenttest.Reply{Fault: agenttest.ServerError} }
			h := newFaultHarness(t, 10, fail, fail)
			if mode == "Closed" {
				h.a.Close()
				h.b.Close()
			}
			chats := faultChats(10)
			var wg sync.WaitGroup
			for c, chat := range chats {
				wg.Go(func() { h.handle(t, h.msg(chat, fmt.Sprintf("down-%d", c), faultText(c, 0))) })
			}
			wg.Wait()
			h.idle(t)

			for c, chat := range chats {
				got := h.ch.to(chat)
				if len(got) != 1 || got[0] != apology {
					t.Errorf("chat %d got %q; want exactly one apology %q", c, got, apology)
				}
			}
			states, reasons := h.inboxStates(t)
			if states[string(store.InboxFailed)] != len(chats) || len(states) != 1 {
				t.Errorf("inbox states %v; want all %d failed", states, len(chats))
			}
			for i, r := range reasons {
				if strings.TrimSpace(r) == "" {
					t.Errorf("failed inbox row %d has an empty reason", i)
				}
			}
			pending, err := h.store.InboxPending(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(pending) != 0 {
				t.Errorf("%d inbox rows still pending", len(pending))
			}
		})
	}
}

// TestFaultPrimaryFlapping: the local server fails every other request.
// Over 30 messages every one is answered exactly once, and the cooldowns
// keep the local server from being asked for each message.
func TestFaultPrimaryFlapping(t *testing.T) {
	chats := faultChats(5)
	const msgs = 6 // per chat; 30 in all
	h := newFaultHarness(t, 1,
		func(n int64, text string) agenttest.Reply {
			if n%2 == 1 {
				return agenttest.Reply{Fault: agenttest.ServerError}
			}
			return agenttest.Reply{Text: "A: " + text}
		},
		func(n int64, text string) agenttest.Reply { return agenttest.Reply{Text: "B: " + text} })

	for i := range msgs {
		for c, chat := range chats {
			h.handle(t, h.msg(chat, fmt.Sprintf("flap-%d-%d", c, i), faultText(c, i)))
			h.idle(t)
			h.clock.Advance(5 * time.Second)
		}
	}

	total := len(chats) * msgs
	checkAnsweredOnce(t, h.ch, chats, msgs, "A: ", "B: ")
	a, b := h.aCalls.Load(), h.bCalls.Load()
	t.Logf("local asked %d times, hosted %d times, for %d messages", a, b, total)
	if a < 2 {
		t.Errorf("local server asked %d times; the test did not exercise flapping", a)
	}
	if a > int64(total)/2 {
		t.Errorf("local server asked %d times for %d messages; cooldowns should skip it well below every message", a, total)
	}
	// Every message needs one successful answer: A's successes plus B's.
	if aOK := a / 2; aOK+b != int64(total) {
		t.Errorf("local answered %d, hosted %d; want %d answers in all (no message asked twice after success)", aOK, b, total)
	}
	states, _ := h.inboxStates(t)
	if states[string(store.InboxDone)] != total || len(states) != 1 {
		t.Errorf("inbox states %v; want all %d done", states, total)
	}
}

// TestFaultDatabaseLocked: another connection holds the write lock for a
// second while messages arrive; once it is released every message is still
// answered exactly once and every inbox row ends done.
func TestFaultDatabaseLocked(t *testing.T) {
	chats := faultChats(4)
	const msgs = 2
	echo := func(n int64, text string) agenttest.Reply { return agenttest.Reply{Text: "A: " + text} }
	h := newFaultHarness(t, len(chats), echo, echo)

	other, err := sql.Open("sqlite3", "file:"+h.dbPath+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("take the write lock: %v", err)
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO settings (key, value) VALUES ('faults-test', 'x') ON CONFLICT DO NOTHING"); err != nil {
		t.Logf("write inside the lock (not needed): %v", err)
	}
	released := make(chan error, 1)
	go func() {
		time.Sleep(time.Second)
		_, err := conn.ExecContext(ctx, "COMMIT")
		released <- err
	}()

	var wg sync.WaitGroup
	for c, chat := range chats {
		wg.Go(func() {
			for i := range msgs {
				h.handle(t, h.msg(chat, fmt.Sprintf("lock-%d-%d", c, i), faultText(c, i)))
			}
		})
	}
	wg.Wait()
	if err := <-released; err != nil {
		t.Fatalf("release the write lock: %v", err)
	}
	h.idle(t)

	checkAnsweredOnce(t, h.ch, chats, msgs, "A: ")
	states, reasons := h.inboxStates(t)
	if states[string(store.InboxDone)] != len(chats)*msgs || len(states) != 1 {
		t.Errorf("inbox states %v (failed reasons %q); want all %d done", states, reasons, len(chats)*msgs)
	}
}
