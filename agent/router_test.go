package agent

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"waclaw/config"
	"waclaw/config/clock"
	"waclaw/store"
)

// scripted is a Provider whose answers are given by the test, per model.
type scripted struct {
	mu      sync.Mutex
	answers map[string][]func(req *Request) (*Result, error) // by model ref
	calls   map[string]int
	reqs    []*Request
}

func newScripted() *scripted {
	return &scripted{answers: map[string][]func(*Request) (*Result, error){}, calls: map[string]int{}}
}

func (s *scripted) on(ref string, fns ...func(req *Request) (*Result, error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[ref] = append(s.answers[ref], fns...)
}

func (s *scripted) Complete(ctx context.Context, m *config.Model, req *Request) (*Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[m.Ref()]++
	cp := *req
	cp.Input = append([]Item(nil), req.Input...)
	s.reqs = append(s.reqs, &cp)
	q := s.answers[m.Ref()]
	if len(q) == 0 {
		return &Result{Text: "answer from " + m.Ref(), Usage: Usage{InputTokens: 100, OutputTokens: 10}}, nil
	}
	s.answers[m.Ref()] = q[1:]
	return q[0](req)
}

func (s *scripted) count(ref string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[ref]
}

func fail(c Class) func(*Request) (*Result, error) {
	return func(*Request) (*Result, error) { return nil, &Error{Class: c, Detail: c.String()} }
}

func answer(text string) func(*Request) (*Result, error) {
	return func(*Request) (*Result, error) { return &Result{Text: text}, nil }
}

const hybrid = `{
  agents: { defaults: {
    model: { primary: "local/a", fallbacks: ["hosted/b", "hosted2/c"] },
    models: { "local/a": { alias: "Local" }, "hosted/b": { alias: "Bee" } },
  } },
  models: { mode: "replace", providers: {
    local:   { baseUrl: "http://127.0.0.1:1/v1", api: "openai-responses", idleTimeout: "20s", models: [{ id: "a", cost: { input: 1, output: 2 } }] },
    hosted:  { baseUrl: "https://b.example/v1", apiKey: "k", api: "openai-completions", models: [{ id: "b", cost: { input: 3, output: 15 } }] },
    hosted2: { baseUrl: "https://c.example", apiKey: "${C_KEY}", api: "anthropic-messages", models: [{ id: "c" }] },
  } },
}`

type harness struct {
	cfg   *config.Config
	prov  *scripted
	clock *clock.Manual
	agent *Agent
	slept []time.Duration
}

func newHarness(t *testing.T, src string, env map[string]string, tools ...string) *harness {
	t.Helper()
	cfg, err := config.Parse("t", []byte(src), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Agent.Tools = tools
	h := &harness{cfg: cfg, prov: newScripted(), clock: clock.NewManual(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))}
	provs := map[string]Provider{}
	for _, p := range cfg.Providers {
		provs[p.ID] = h.prov
	}
	h.agent, err = New(cfg, Options{
		Providers: provs, Now: h.clock.Now, Logger: slog.New(slog.DiscardHandler),
		Sleep: func(ctx context.Context, d time.Duration) error {
			h.slept = append(h.slept, d)
			h.clock.Advance(d)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) ask(t *testing.T, conv Conversation) (string, *Outcome, error) {
	t.Helper()
	if conv.Messages == nil {
		conv.Messages = []Item{{Kind: ItemMessage, Role: RoleUser, Text: "hi"}}
	}
	return h.agent.Reply(context.Background(), conv)
}

var withC = map[string]string{"C_KEY": "ck"}

func TestFallbackOrderAndReasons(t *testing.T) {
	h := newHarness(t, hybrid, withC)
	h.prov.on("local/a", fail(Unreachable))
	h.prov.on("hosted/b", fail(RateLimited))
	text, out, err := h.ask(t, Conversation{})
	if err != nil || text != "answer from hosted2/c" {
		t.Fatalf("Reply = %q, %v; want hosted2/c's answer", text, err)
	}
	if !out.FellBack() || out.Model.Ref() != "hosted2/c" || len(out.Failures) != 2 {
		t.Fatalf("outcome = %+v", out)
	}
	if got := out.Reasons(); got != "the local model Local is unreachable; the hosted model Bee is rate limited" {
		t.Errorf("Reasons() = %q", got)
	}
}

func TestChosenModelStillFallsBackToTheChain(t *testing.T) {
	h := newHarness(t, hybrid, withC)
	bee, _ := h.cfg.Resolve("bee")
	h.prov.on("hosted/b", fail(ServerFailed))
	text, out, err := h.ask(t, Conversation{Model: bee})
	if err != nil || text != "answer from local/a" {
		t.Fatalf("Reply = %q, %v; want the primary after the chosen model failed", text, err)
	}
	if out.Failures[0].Model != bee {
		t.Errorf("the chosen model was not tried first: %v", out.Failures)
	}
	if got := refsOf(h.agent.Chain(bee)); got != "hosted/b local/a hosted2/c" {
		t.Errorf("Chain(bee) = %s", got)
	}
}

func refsOf(ms []*config.Model) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Ref())
	}
	return strings.Join(s, " ")
}

func TestCooldownSkipsAFailedProviderThenRetriesIt(t *testing.T) {
	h := newHarness(t, hybrid, withC)
	h.prov.on("local/a", fail(Unreachable), fail(Unreachable), fail(Unreachable), answer("back"))

	steps := []struct {
		advance    time.Duration
		wantCalls  int // calls to local/a so far
		wantAnswer string
	}{
		{0, 1, "answer from hosted/b"},                // fails: 30 s cooldown
		{10 * time.Second, 1, "answer from hosted/b"}, // skipped without a call
		{21 * time.Second, 2, "answer from hosted/b"}, // tried again, fails: 1 min
		{59 * time.Second, 2, "answer from hosted/b"}, // still cooling
		{2 * time.Second, 3, "answer from hosted/b"},  // fails a third time: 5 min
		{4 * time.Minute, 3, "answer from hosted/b"},
		{61 * time.Second, 4, "back"}, // recovers: health reset
		{0, 5, "answer from local/a"},
	}
	for i, s := range steps {
		h.clock.Advance(s.advance)
		text, _, err := h.ask(t, Conversation{})
		if err != nil || text != s.wantAnswer || h.prov.count("local/a") != s.wantCalls {
			t.Fatalf("step %d: Reply = %q, %v, local/a called %d times; want %q after %d calls", i, text, err, h.prov.count("local/a"), s.wantAnswer, s.wantCalls)
		}
	}
	if len(h.agent.Health()) != 0 {
		t.Errorf("Health() = %v after recovery; want none cooling", h.agent.Health())
	}
}

func TestCooldownLengths(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want time.Duration
	}{
		{"unreachable", &Error{Class: Unreachable}, 30 * time.Second},
		{"retry-after longer than the schedule", &Error{Class: RateLimited, RetryAfter: 2 * time.Minute}, 2 * time.Minute},
		{"retry-after shorter", &Error{Class: RateLimited, RetryAfter: time.Second}, 30 * time.Second},
		{"auth is a config problem", &Error{Class: AuthFailed, Status: 401}, 30 * time.Minute},
		{"bad request says nothing about health", &Error{Class: BadRequest, Status: 400}, 0},
		{"overflow is the request's fault", &Error{Class: ContextOverflow}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, hybrid, withC)
			e := tt.err
			h.prov.on("local/a", func(*Request) (*Result, error) { return nil, e })
			if _, _, err := h.ask(t, Conversation{}); err != nil {
				t.Fatal(err)
			}
			var until time.Time
			for _, s := range h.agent.Health() {
				if s.Provider == "local" {
					until = s.Until
				}
			}
			got := time.Duration(0)
			if !until.IsZero() {
				got = until.Sub(h.clock.Now())
			}
			if got != tt.want {
				t.Errorf("cooldown = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestEveryModelCoolingDownIsTriedAnyway(t *testing.T) {
	h := newHarness(t, hybrid, withC)
	for _, ref := range []string{"local/a", "hosted/b", "hosted2/c"} {
		h.prov.on(ref, fail(ServerFailed), answer("recovered "+ref))
	}
	if _, _, err := h.ask(t, Conversation{}); err == nil {
		t.Fatal("first turn should fail everywhere")
	}
	text, _, err := h.ask(t, Conversation{})
	if err != nil || text != "recovered local/a" {
		t.Errorf("Reply with all cooling = %q, %v; want the primary tried again", text, err)
	}
}

func TestAllFailChainError(t *testing.T) {
	h := newHarness(t, hybrid, nil) // C_KEY unset: hosted2 is not configured
	h.prov.on("local/a", fail(Unreachable))
	h.prov.on("hosted/b", fail(AuthFailed))
	_, out, err := h.ask(t, Conversation{})
	var ce *ChainError
	if !errors.As(err, &ce) || len(ce.Failures) != 3 {
		t.Fatalf("err = %v; want a ChainError with 3 reasons", err)
	}
	if h.prov.count("hosted2/c") != 0 {
		t.Error("a provider with no key was called")
	}
	if ce.Failures[2].Class != NotConfigured || !strings.Contains(ce.Error(), "C_KEY is not set") {
		t.Errorf("unconfigured provider reason = %v", ce.Failures[2])
	}
	msg := ce.UserMessage()
	for _, internal := range []string{"local", "hosted", "C_KEY", "401", "Bee"} {
		if strings.Contains(msg, internal) {
			t.Errorf("user message %q names %q", msg, internal)
		}
	}
	if out.Model != nil {
		t.Errorf("outcome names an answering model: %v", out.Model)
	}
}

func TestContextOverflow(t *testing.T) {
	h := newHarness(t, hybrid, withC)
	h.prov.on("local/a", fail(ContextOverflow), fail(ContextOverflow))
	_, _, err := h.ask(t, Conversation{CanShrink: true})
	if !errors.Is(err, ErrContextOverflow) || h.prov.count("hosted/b") != 0 {
		t.Fatalf("with CanShrink: err = %v, hosted/b calls %d; want ErrContextOverflow before any fallback", err, h.prov.count("hosted/b"))
	}
	text, _, err := h.ask(t, Conversation{CanShrink: false})
	if err != nil || text != "answer from hosted/b" {
		t.Errorf("after shrinking: Reply = %q, %v; want the next model", text, err)
	}
}

func TestCancelledTurnDoesNotFallBack(t *testing.T) {
	h := newHarness(t, hybrid, withC)
	h.prov.on("local/a", fail(Canceled))
	_, _, err := h.ask(t, Conversation{})
	var e *Error
	if !errors.As(err, &e) || e.Class != Canceled || h.prov.count("hosted/b") != 0 {
		t.Errorf("err = %v, hosted/b calls %d; want Canceled and no fallback", err, h.prov.count("hosted/b"))
	}
}

func TestLoadingModelIsWaitedFor(t *testing.T) {
	h := newHarness(t, hybrid, withC)
	h.prov.on("local/a", fail(Loading), fail(Loading), answer("warm now"))
	text, _, err := h.ask(t, Conversation{})
	if err != nil || text != "warm now" {
		t.Fatalf("Reply = %q, %v; want the loaded model's answer", text, err)
	}
	if len(h.slept) != 2 || h.slept[0] != time.Second || h.slept[1] != 2*time.Second {
		t.Errorf("waits = %v; want 1s then 2s", h.slept)
	}

	// Still loading when the idle budget (20 s) runs out: the next model.
	h2 := newHarness(t, hybrid, withC)
	for range 10 {
		h2.prov.on("local/a", fail(Loading))
	}
	text, out, err := h2.ask(t, Conversation{})
	if err != nil || text != "answer from hosted/b" || out.Failures[0].Class != Loading {
		t.Errorf("Reply = %q, %v; want hosted/b after the local model kept loading", text, err)
	}
	var total time.Duration
	for _, d := range h2.slept {
		total += d
	}
	if total > 20*time.Second {
		t.Errorf("waited %v for a loading model; budget is 20s", total)
	}
}

func TestToolLoop(t *testing.T) {
	h := newHarness(t, hybrid, withC, "current_time")
	reasoning := Item{Kind: ItemReasoning, Raw: []byte(`{"type":"reasoning","id":"rs_1","summary":[]}`)}
	call := Item{Kind: ItemFunctionCall, CallID: "call_1", Name: "current_time", Arguments: "{}"}
	h.prov.on("local/a",
		func(*Request) (*Result, error) {
			return &Result{Calls: []Item{call}, Items: []Item{reasoning, call}}, nil
		},
		func(req *Request) (*Result, error) { return &Result{Text: "It is noon."}, nil },
	)
	text, out, err := h.ask(t, Conversation{})
	if err != nil || text != "It is noon." || out.Steps != 2 {
		t.Fatalf("Reply = %q, %v, steps %d", text, err, out.Steps)
	}
	second := h.prov.reqs[1]
	if len(second.Tools) != 1 || second.Tools[0].Name != "current_time" || !second.Tools[0].Strict {
		t.Errorf("tools offered = %+v", second.Tools)
	}
	kinds := []ItemKind{}
	for _, it := range second.Input {
		kinds = append(kinds, it.Kind)
	}
	want := []ItemKind{ItemMessage, ItemReasoning, ItemFunctionCall, ItemFunctionOutput}
	if len(kinds) != len(want) {
		t.Fatalf("second request items = %v; want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("second request items = %v; want %v (reasoning goes back with its call)", kinds, want)
		}
	}
	if out := second.Input[3].Text; !strings.Contains(out, "UTC: Mon, 30 Nov 2026 12:00:00 UTC") {
		t.Errorf("tool output = %q; want the injected clock's time", out)
	}

	// A model that never stops calling tools hits the step limit and the
	// next model answers.
	h2 := newHarness(t, hybrid, withC, "current_time")
	loop := func(*Request) (*Result, error) { return &Result{Calls: []Item{call}, Items: []Item{call}}, nil }
	for range 10 {
		h2.prov.on("local/a", loop)
	}
	text, out, err = h2.ask(t, Conversation{})
	if err != nil || text != "answer from hosted/b" || out.Failures[0].Class != ToolLoop {
		t.Errorf("Reply = %q, %v; want hosted/b after the step limit", text, err)
	}
	if n := h2.prov.count("local/a"); n != h2.cfg.Agent.MaxToolSteps+1 {
		t.Errorf("local/a called %d times; want the step limit %d", n, h2.cfg.Agent.MaxToolSteps+1)
	}
}

func TestNoToolsUnlessConfigured(t *testing.T) {
	h := newHarness(t, hybrid, withC)
	h.ask(t, Conversation{})
	if len(h.prov.reqs[0].Tools) != 0 {
		t.Errorf("tools offered with none configured: %+v", h.prov.reqs[0].Tools)
	}
}

func TestUsageIsRecordedPerAttempt(t *testing.T) {
	h := newHarness(t, hybrid, withC)
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h.agent.usage = st
	h.prov.on("local/a", fail(Unreachable))
	h.prov.on("hosted/b", func(*Request) (*Result, error) {
		return &Result{Text: "ok", Usage: Usage{InputTokens: 1_000_000, OutputTokens: 100_000}}, nil
	})
	_, out, err := h.ask(t, Conversation{ChatID: "chat1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := 3.0 + 1.5; out.Cost != want {
		t.Errorf("cost = %v; want %v (1M in at $3, 100k out at $15)", out.Cost, want)
	}
	tot, err := st.UsageSince(context.Background(), "chat1", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if tot.Turns != 2 || tot.Failed != 1 || tot.TokensIn != 1_000_000 || tot.Cost != 4.5 {
		t.Errorf("usage totals = %+v; want 2 rows (1 failed), the answer's tokens and cost", tot)
	}
}

func TestLocalOnlyNeverUsesHostedModels(t *testing.T) {
	h := newHarness(t, hybrid, withC)
	bee, _ := h.cfg.Resolve("bee")
	h.prov.on("local/a", fail(Unreachable))
	_, _, err := h.ask(t, Conversation{Model: bee, LocalOnly: true})
	var ce *ChainError
	if !errors.As(err, &ce) || len(ce.Failures) != 1 {
		t.Fatalf("err = %v; want only the local model tried", err)
	}
	if h.prov.count("hosted/b")+h.prov.count("hosted2/c") != 0 {
		t.Error("a local-only chat reached a hosted model")
	}
}
