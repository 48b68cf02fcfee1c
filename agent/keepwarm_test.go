package agent

import (
	"context"
	"testing"
	"time"
)

const warmCfg = `{
  agents: { defaults: { model: { primary: "local/a", fallbacks: ["hosted/b", "cold/c"] } } },
  models: { mode: "replace", providers: {
    local:  { baseUrl: "http://127.0.0.1:1/v1", api: "openai-responses", models: [{ id: "a" }] },
    hosted: { baseUrl: "https://b.example/v1", apiKey: "k", api: "openai-completions", models: [{ id: "b" }] },
    cold:   { baseUrl: "http://127.0.0.1:2/v1", api: "openai-responses", keepWarm: 0, models: [{ id: "c" }] },
  } },
}`

func TestKeepWarm(t *testing.T) {
	h := newHarness(t, warmCfg, nil)
	tick := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.agent.KeepWarm(ctx, tick); close(done) }()
	step := func(d time.Duration) {
		h.clock.Advance(d)
		tick <- h.clock.Now()
		tick <- h.clock.Now() // the second send returns once the first check is done
	}
	step(0)
	if n := h.prov.count("local/a"); n != 1 {
		t.Fatalf("pings at start = %d; want 1 warm-up for the local model", n)
	}
	step(10 * time.Minute)
	if n := h.prov.count("local/a"); n != 1 {
		t.Errorf("pinged after 10 idle minutes (interval 20): %d", n)
	}
	step(11 * time.Minute)
	if n := h.prov.count("local/a"); n != 2 {
		t.Errorf("pings after 21 idle minutes = %d; want 2", n)
	}
	// Busy: a real turn 15 minutes later resets the idle time.
	h.clock.Advance(15 * time.Minute)
	if _, _, err := h.ask(t, Conversation{}); err != nil {
		t.Fatal(err)
	}
	step(10 * time.Minute)
	if n := h.prov.count("local/a"); n != 3 {
		t.Errorf("calls = %d; want the turn and no ping while busy", n)
	}
	cancel()
	close(tick)
	<-done
	if h.prov.count("hosted/b") != 0 || h.prov.count("cold/c") != 0 {
		t.Errorf("pinged a hosted (%d) or keep-warm-off (%d) provider", h.prov.count("hosted/b"), h.prov.count("cold/c"))
	}
}
