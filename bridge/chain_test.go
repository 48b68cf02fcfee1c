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
		"*Last failure:* the local model Big was not tried: it is not found on its server; the local model Small is unreachable",
	} {
		if got := h.last("self"); !strings.Contains(got, want) {
			t.Errorf("/status = %q; want it to contain %q", got, want)
		}
	}
}

// /model and /privacy say what happens with the chain as configured: who
// answers instead of a model that cannot be used, or that nobody can; and
// whether any hosted model can be reached at all.
func TestModelAndPrivacyWordsFollowTheChain(t *testing.T) {
	srv := agenttest.New(t, agenttest.OpenAI)
	opus := `keyless: { baseUrl: "https://keyless.example/v1", apiKey: "${OPUS_KEY}", api: "openai-responses", local: false, models: [{ id: "opus" }] },`
	local := fmt.Sprintf(`local: { baseUrl: %q, api: "openai-responses", models: [{ id: "big" }] },`, srv.URL)
	hosted := fmt.Sprintf(`hosted: { baseUrl: %q, api: "openai-responses", local: false, models: [{ id: "h" }] },`, srv.URL)
	tests := []struct {
		name, models string
		steps        [][2]string // command, the whole reply
	}{
		{"local primary, no fallback (seed 01)", `
		  agents: { defaults: { model: { primary: "local/big" }, models: { "local/big": { alias: "Big" }, "keyless/opus": { alias: "Opus" } } } },
		  models: { mode: "replace", providers: { ` + local + opus + ` } }`, [][2]string{
			{"/privacy", "This chat may use hosted models, but no hosted model is configured as a fallback, so it stays on local models. /privacy local makes that a rule."},
			{"/privacy default", "This chat may use hosted models again, but no hosted model is configured as a fallback, so it is still answered by local models only."},
			{"/model Opus", "This chat now uses *Opus* (keyless/opus). Note: OPUS_KEY is not set, so replies will come from *Big* (local/big) until it is."},
			{"/privacy default", "This chat may use hosted models again, but its hosted models are not set up (OPUS_KEY is not set), so it is still answered by local models only."},
			{"/privacy local", "This chat now uses local models only: its messages are never sent to a hosted model, even when the local one is down."},
			{"/model Opus", "This chat now uses *Opus* (keyless/opus). Note: this chat is set to local only, so this hosted model is not used: replies will come from *Big* (local/big) until /privacy default."},
		}},
		{"hosted only, no key", `
		  agents: { defaults: { model: { primary: "keyless/opus" }, models: { "keyless/opus": { alias: "Opus" } } } },
		  models: { mode: "replace", providers: { ` + opus + ` } }`, [][2]string{
			{"/model default", "Back to the default model: *Opus*. Note: OPUS_KEY is not set, and no other model is set up, so this chat gets no answer until it is."},
			{"/privacy local", "This chat now uses local models only: its messages are never sent to a hosted model. But no local model is set up in its chain, so it gets no answer until one is, or until /privacy default."},
			{"/model Opus", "This chat now uses *Opus* (keyless/opus). Note: this chat is set to local only, so this hosted model is not used, and no local model is set up: this chat gets no answer until /privacy default."},
		}},
		{"local primary, hosted fallback", `
		  agents: { defaults: { model: { primary: "local/big", fallbacks: ["hosted/h"] }, models: { "local/big": { alias: "Big" }, "hosted/h": { alias: "Hosted One" } } } },
		  models: { mode: "replace", providers: { ` + local + hosted + ` } }`, [][2]string{
			{"/privacy", "This chat may use hosted fallbacks (*Hosted One*). /privacy local keeps it on local models only."},
			{"/privacy local", "This chat now uses local models only: its messages are never sent to a hosted model, even when the local one is down."},
			{"/privacy", "This chat uses local models only. /privacy default allows hosted fallbacks (*Hosted One*)."},
			{"/privacy default", "This chat may use hosted fallbacks again (*Hosted One*) when the local model cannot answer."},
		}},
		{"hosted primary, local fallback", `
		  agents: { defaults: { model: { primary: "hosted/h", fallbacks: ["local/big"] }, models: { "local/big": { alias: "Big" }, "hosted/h": { alias: "Sonnet" } } } },
		  models: { mode: "replace", providers: { ` + local + hosted + ` } }`, [][2]string{
			{"/privacy default", "This chat may use hosted models again: *Sonnet* answers it first."},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newChainHarness(t, tt.models)
			for _, s := range tt.steps {
				h.send(t, h.self(s[0]))
				if got := h.last("self"); got != s[1] {
					t.Errorf("%s replied\n%q; want\n%q", s[0], got, s[1])
				}
			}
		})
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

// With only the primary in the chain, /status says what happens when it
// cannot answer, and where to learn how to add a fallback.
func TestStatusSaysWhenThereIsNoFallback(t *testing.T) {
	srv := agenttest.New(t, agenttest.LMStudio, "m")
	src := fmt.Sprintf(`{
	  agents: { defaults: { model: { primary: "local/m", fallbacks: [] } } },
	  models: { mode: "replace", providers: { local: { baseUrl: %q, api: "openai-responses", models: [{ id: "m" }] } } },
	}`, srv.URL)
	cfg, err := config.Parse("t", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	st := testStore(t, filepath.Join(t.TempDir(), "waclaw.db"))
	ch := &fakeChannel{}
	b := wire(t, cfg, st, ch, agent.Options{}, Options{})
	defer b.Shutdown(context.Background())
	in := Inbound{ChatID: "self", SenderID: "self", FromSelf: true, SelfChat: true, Text: "/status", MessageID: "S1", Time: time.Now()}
	if err := b.Handle(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if err := b.Idle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ch.to("self"), "\n"); !strings.Contains(got, "No fallback is configured") || !strings.Contains(got, "waclaw doctor") {
		t.Errorf("/status with no fallback:\n%s", got)
	}
	h := newHarness(t, "") // a fallback is configured
	h.send(t, h.self("/status"))
	if strings.Contains(h.last("self"), "No fallback") {
		t.Errorf("/status with a fallback says there is none:\n%s", h.last("self"))
	}
}
