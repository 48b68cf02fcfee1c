package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"waclaw/agent"
	"waclaw/config/clock"
	"waclaw/store"
)

// The connection drops while a reply goes out: what the sender sees.

var errOffline = errors.New("websocket not connected")

// A reply whose send fails while WhatsApp is away for 30 s goes out once
// the connection is back, once, under the id it was recorded with; the
// model is not asked again.
func TestReplySurvivesADroppedConnection(t *testing.T) {
	h := newHarness(t, "")
	back := h.clock.Now().Add(30 * time.Second)
	h.ch.fail = func() error {
		if h.clock.Now().Before(back) {
			return errOffline
		}
		return nil
	}
	h.send(t, h.dm(friend, "hello"))
	if got := h.ch.to(friend); !slices.Equal(got, []string{"echo: hello"}) {
		t.Fatalf("the friend got %q; want the answer once", got)
	}
	h.ch.mu.Lock()
	tries := slices.Clone(h.ch.tries)
	h.ch.mu.Unlock()
	if len(tries) < 2 || slices.ContainsFunc(tries, func(id string) bool { return id != tries[0] }) {
		t.Errorf("send attempts under ids %v; want several, all under one id", tries)
	}
	if n := len(modelCalls(h)); n != 1 {
		t.Errorf("%d model requests; want 1 (the answer is kept, not asked for again)", n)
	}
	checkFinished(t, h)
}

// A reply no retry can deliver fails at once; one that WhatsApp keeps
// refusing is given up on a day after the message, and the row says why.
func TestReplyGivenUp(t *testing.T) {
	h := newHarness(t, "")
	h.ch.fail = func() error { return fmt.Errorf("bad chat: %w", ErrUndeliverable) }
	h.send(t, h.dm(friend, "one"))
	h.ch.mu.Lock()
	tries := len(h.ch.tries)
	h.ch.mu.Unlock()
	if tries != 1 {
		t.Errorf("an undeliverable reply was tried %d times; want once", tries)
	}

	h.ch.fail = func() error { return errOffline }
	start := h.clock.Now()
	in := h.dm(friend, "two")
	h.send(t, in)
	var state, reason string
	h.store.DB().QueryRow(`SELECT state, reason FROM inbox WHERE msg_id = ?`, in.MessageID).Scan(&state, &reason)
	if state != string(store.InboxFailed) || !strings.Contains(reason, "not delivered within 24h") {
		t.Errorf("after a day of failed sends the row is %s (%q); want failed, saying why", state, reason)
	}
	if waited := h.clock.Now().Sub(start); waited < sendGiveUp {
		t.Errorf("gave up after %s; want a day", waited)
	}
}

// Shut down while the connection is down: the reply stays pending with its
// ids, and the next start sends it, once, under the same id.
func TestReplyPendingAcrossARestart(t *testing.T) {
	h := newHarness(t, "")
	h.b.Shutdown(context.Background()) // the harness's own bridge is not used
	h.ch.fail = func() error { return errOffline }
	b := wire(t, h.cfg, h.store, h.ch, agent.Options{}, Options{Now: h.clock.Now, Sleep: clock.Sleep})
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Handle(context.Background(), h.dm(friend, "hello")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		h.ch.mu.Lock()
		n := len(h.ch.tries)
		h.ch.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no send was tried")
		}
	}
	stopped := make(chan error, 1)
	go func() { stopped <- b.Shutdown(context.Background()) }()
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	case <-time.After(20 * time.Second): // the drain timeout is 30 s: it must not wait that out
		t.Fatal("Shutdown waited for the reply's next try")
	}
	if pending, _ := h.store.InboxPending(context.Background()); len(pending) != 1 {
		t.Fatalf("%d rows pending after the shutdown; want the unsent reply's", len(pending))
	}

	h.ch.fail = nil
	restart(t, h)
	h.ch.mu.Lock()
	tries := slices.Clone(h.ch.tries)
	h.ch.mu.Unlock()
	if got := h.ch.to(friend); !slices.Equal(got, []string{"echo: hello"}) || tries[len(tries)-1] != tries[0] {
		t.Errorf("after the restart the friend got %q (ids %v); want the answer once, under its first id", got, tries)
	}
	checkFinished(t, h)
}
