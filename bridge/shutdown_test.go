package bridge

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"waclaw/agent"
	"waclaw/agent/agenttest"
)

// A turn still running when the drain timeout ends is cancelled and stays
// pending, to be answered on the next start; nothing is marked failed.
func TestShutdownLeavesUnfinishedTurnsPending(t *testing.T) {
	h := newHarness(t, "")
	b := wire(t, h.cfg, h.store, h.ch, agent.Options{}, Options{Now: h.clock.Now, DrainTimeout: 50 * time.Millisecond})
	h.srv.Enqueue(agenttest.Reply{Text: "too late", Delay: time.Minute})
	if err := b.Handle(context.Background(), h.dm(friend, "slow question")); err != nil {
		t.Fatal(err)
	}
	for len(h.srv.Calls()) == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := b.Shutdown(context.Background()); err == nil {
		t.Fatal("Shutdown reported a clean drain while a turn was cut off")
	}
	pending, err := h.store.InboxPending(context.Background())
	if err != nil || len(pending) != 1 || pending[0].MsgID != "in-1" {
		t.Fatalf("pending after shutdown = %+v, %v; want the unanswered message", pending, err)
	}
	if h.ch.count() != 0 {
		t.Errorf("sent %v during a cut-off turn", h.ch.to(friend))
	}
	// Handle after shutdown records the message for the next start.
	if err := b.Handle(context.Background(), h.dm(friend, "after")); err != nil {
		t.Fatal(err)
	}
	if pending, _ := h.store.InboxPending(context.Background()); len(pending) != 2 {
		t.Errorf("a message handed in during shutdown was not kept: %d pending", len(pending))
	}
}

// /status says how the WhatsApp link is, so "linked but silently deaf"
// shows up where the admin looks.
func TestStatusShowsTheLink(t *testing.T) {
	h := newHarness(t, "")
	b := wire(t, h.cfg, h.store, h.ch, agent.Options{}, Options{Now: h.clock.Now,
		Link: func() string { return "linked as +15550000001, disconnected, last event 2h0m0s ago" }})
	in := h.self("/status")
	if err := b.Handle(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if err := b.Idle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.last("self"); !strings.Contains(got, "*WhatsApp:* linked as +15550000001, disconnected, last event 2h0m0s ago") {
		t.Errorf("/status = %q", got)
	}
}

// A message left pending by a stop is answered on the next start, unless
// its sender was denied in the meantime.
func TestStartResumesPendingUnlessDenied(t *testing.T) {
	h := newHarness(t, fmt.Sprintf(`{ admins: [%q], allowFrom: ["*"] }`, owner))
	stopped := wire(t, h.cfg, h.store, h.ch, agent.Options{}, Options{Now: h.clock.Now})
	stopped.Shutdown(context.Background())
	for _, in := range []Inbound{h.dm(friend, "still there?"), h.dm(stranger, "me too")} {
		if err := stopped.Handle(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	h.send(t, h.self("/deny "+stranger))
	next := wire(t, h.cfg, h.store, h.ch, agent.Options{}, Options{Now: h.clock.Now})
	if err := next.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	next.Idle(context.Background())
	if h.last(friend) != "echo: still there?" || len(h.ch.to(stranger)) != 0 {
		t.Errorf("after restart: friend got %q, denied stranger got %v", h.last(friend), h.ch.to(stranger))
	}
	if pending, _ := h.store.InboxPending(context.Background()); len(pending) != 0 {
		t.Errorf("%d messages still pending", len(pending))
	}
}

// The turn log line names the model and tokens but never the text or the
// chat's number.
func TestTurnLogHasNoText(t *testing.T) {
	h := newHarness(t, "")
	var buf strings.Builder
	log := &syncWriter{w: &buf}
	logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	b := wire(t, h.cfg, h.store, h.ch, agent.Options{Logger: logger}, Options{Logger: logger, Now: h.clock.Now})
	if err := b.Handle(context.Background(), h.dm(friend, "my secret diagnosis")); err != nil {
		t.Fatal(err)
	}
	b.Idle(context.Background())
	b.Shutdown(context.Background())
	// The agent, never closed here, may still log a server probe.
	out := log.String()
	if !strings.Contains(out, "msg=turn") || !strings.Contains(out, "model=local/m") {
		t.Errorf("no turn line: %s", out)
	}
	if strings.Contains(out, "diagnosis") || strings.Contains(out, strings.TrimPrefix(friend, "+")) {
		t.Errorf("the log shows the text or the number: %s", out)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
