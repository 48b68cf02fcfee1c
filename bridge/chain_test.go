package bridge

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"waclaw/agent"
	"waclaw/agent/agenttest"
	"waclaw/config"
	"waclaw/config/clock"
)

// newChainHarness is newHarness with the models block given: models is
// the text of agents.defaults and models (without braces around both).
func newChainHarness(t *testing.T, models string) *harness {
	t.Helper()
	src := fmt.Sprintf(`{ %s, channels: { whatsapp: { selfChatMode: false, admins: [%q], allowFrom: [%q] } } }`, models, owner, friend)
	cfg, err := config.Parse("t", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	st := testStore(t, filepath.Join(t.TempDir(), "waclaw.db"))
	clk := clock.NewManual(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	st.SetClock(clk.Now)
	h := &harness{cfg: cfg, store: st, ch: &fakeChannel{whatsAppFormat: whatsAppFormat{cfg.WhatsApp.TextChunkLimit}}, clock: clk}
	h.b = wire(t, cfg, st, h.ch, agent.Options{Now: clk.Now}, Options{Now: clk.Now, Sleep: clk.Sleep, Owner: func() []string { return []string{"self"} }})
	if err := h.b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.b.Shutdown(context.Background()) })
	return h
}

// Two models on one Ollama server, the first of which it does not have,
// and a hosted fallback. The missing model's failure leaves its neighbour
// answering (the hosted model is never asked) and /status shows each
// model's own state; when the server goes down, both local models show
// the server's state.
func TestStatusShowsEachModelsOwnState(t *testing.T) {
	ollama := agenttest.New(t, agenttest.Ollama, "small")
	hosted := agenttest.New(t, agenttest.OpenAI, "h")
	h := newChainHarness(t, fmt.Sprintf(`
	  agents: { defaults: { model: { primary: "local/big", fallbacks: ["local/small", "hosted/h"] },
	    models: { "local/big": { alias: "Big" }, "local/small": { alias: "Small" }, "hosted/h": { alias: "Hosted" } } } },
	  models: { mode: "replace", providers: {
	    local: { baseUrl: %q, api: "openai-responses", models: [{ id: "big" }, { id: "small" }] },
	    hosted: { baseUrl: %q, api: "openai-responses", local: false, models: [{ id: "h" }] },
	  } }`, ollama.URL, hosted.URL))
	until := h.clock.Now().Add(30 * time.Second).Local().Format(time.TimeOnly)

	h.send(t, h.dm(friend, "hi"))
	if got, want := h.last(friend), "Hello from the fake.\n\n_(answered by Small: the local model Big is not found on its server)_"; got != want {
		t.Errorf("reply = %q; want %q", got, want)
	}
	if n := len(hosted.Requests()); n != 0 {
		t.Errorf("the hosted model was asked %d times while a local one could answer", n)
	}
	h.send(t, h.self("/status"))
	for _, want := range []string{"1. Big: skipped until " + until + ": it is not found on its server\n", "2. Small: ok\n", "3. Hosted: ok\n"} {
		if got := h.last("self"); !strings.Contains(got, want) {
			t.Errorf("/status = %q; want it to contain %q", got, want)
		}
	}

	ollama.Close()
	h.send(t, h.self("still there?"))
	if got, want := h.last("self"), "Hello from the fake.\n\n_(answered by Hosted: the local model Big was not tried: it is not found on its server)_"; got != want {
		t.Errorf("reply = %q; want %q", got, want)
	}
	h.send(t, h.self("/status"))
	for _, want := range []string{
		"1. Big: skipped until " + until + ": its server is unreachable\n",
		"2. Small: skipped until " + until + ": its server is unreachable\n",
		"3. Hosted: ok\n",
		"*Last fallback:* the local model Big was not tried: it is not found on its server; the local model Small is unreachable",
	} {
		if got := h.last("self"); !strings.Contains(got, want) {
			t.Errorf("/status = %q; want it to contain %q", got, want)
		}
	}
}

// A local model that answers only with reasoning, and no fallback: the
// user is told the truth (nothing usable came back; waiting won't help),
// not that the models are unreachable.
func TestReasoningOnlyAnswerApology(t *testing.T) {
	srv := agenttest.New(t, agenttest.Ollama, "think")
	srv.SetDefault(agenttest.Reply{Reasoning: "SECRET-THINKING and nothing else"})
	h := newChainHarness(t, fmt.Sprintf(`
	  agents: { defaults: { model: { primary: "local/think" } } },
	  models: { mode: "replace", providers: { local: { baseUrl: %q, api: "openai-responses", models: [{ id: "think" }] } } }`, srv.URL))
	h.send(t, h.dm(friend, "hi"))
	want := "Sorry, I couldn't answer that: my model replied with nothing usable. Asking in other words may help; waiting won't."
	if got := h.last(friend); got != want {
		t.Errorf("reply = %q; want %q", got, want)
	}
}
