package agent

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"waclaw/agent/agenttest"
	"waclaw/config"
	"waclaw/config/clock"
)

// serverHarness is an Agent with the real adapters talking to one fake
// server, on one manual clock shared by both.
type serverHarness struct {
	agent *Agent
	srv   *agenttest.Server
	clock *clock.Manual
	log   *bytes.Buffer
	model *config.Model
}

func newServerHarness(t *testing.T, style agenttest.Style, contextWindow int) *serverHarness {
	t.Helper()
	srv := agenttest.New(t, style, "qwen3")
	clk := clock.NewManual(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	srv.SetClock(clk.Now)
	src := fmt.Sprintf(`{
  agents: { defaults: { model: { primary: "local/qwen3" } } },
  models: { mode: "replace", providers: {
    local: { baseUrl: %q, api: "openai-completions", models: [{ id: "qwen3", contextWindow: %d, maxTokens: 512 }] },
  } },
}`, srv.URL, contextWindow)
	cfg, err := config.Parse("t", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	a, err := New(cfg, Options{Now: clk.Now, Sleep: clk.Sleep, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return &serverHarness{agent: a, srv: srv, clock: clk, log: &buf, model: cfg.Primary}
}

func (h *serverHarness) ask(t *testing.T, text string) *Outcome {
	t.Helper()
	_, out, err := h.agent.Reply(t.Context(), Conversation{Messages: []Item{{Kind: ItemMessage, Role: RoleUser, Text: text}}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestProbeTellsServersApart: each kind is recognised from the endpoints
// it answers, with the model's real context.
func TestProbeTellsServersApart(t *testing.T) {
	tests := []struct {
		style   agenttest.Style
		kind    ServerKind
		context int // after one question (Ollama and LM Studio load on demand)
	}{
		{agenttest.Ollama, ServerOllama, 4096},
		{agenttest.LMStudio, ServerLMStudio, 4096},
		{agenttest.LlamaCpp, ServerLlamaCpp, 8192},
		{agenttest.VLLM, ServerVLLM, 32768},
		{agenttest.OpenAI, ServerUnknown, 0},
	}
	for _, tt := range tests {
		t.Run(tt.style.String(), func(t *testing.T) {
			h := newServerHarness(t, tt.style, 32768)
			h.ask(t, "hi")
			info := h.agent.Server(t.Context(), h.model)
			if info.Kind != tt.kind || info.Context != tt.context {
				t.Errorf("Server = %+v; want %v with context %d", info, tt.kind, tt.context)
			}
			want := min(tt.context, 32768)
			if tt.context == 0 {
				want = 32768
			}
			if got := h.agent.ContextLimit(h.model); got != want {
				t.Errorf("ContextLimit = %d; want %d", got, want)
			}
		})
	}
}

// TestContextMismatchLoggedOnce: the config claims more than Ollama
// gives; the log says so once, in plain words.
func TestContextMismatchLoggedOnce(t *testing.T) {
	h := newServerHarness(t, agenttest.Ollama, 32768)
	h.ask(t, "hi")
	h.agent.Server(t.Context(), h.model)
	h.agent.Server(t.Context(), h.model)
	want := "ollama serves qwen3 with a 4096-token context, but contextWindow says 32768: waclaw keeps conversations within 4096; to give it more, set num_ctx (PARAMETER num_ctx 32768 in a Modelfile) or OLLAMA_CONTEXT_LENGTH=32768 for ollama serve"
	if n := strings.Count(h.log.String(), want); n != 1 {
		t.Errorf("the warning appears %d times; want once:\n%s", n, h.log.String())
	}
}

// TestTruncationDetected: Ollama cuts a long conversation silently; the
// Outcome says so, and a short one is not flagged.
func TestTruncationDetected(t *testing.T) {
	for _, known := range []bool{true, false} {
		t.Run(fmt.Sprintf("server context known=%v", known), func(t *testing.T) {
			h := newServerHarness(t, agenttest.Ollama, 32768)
			h.srv.SetContextSize(512)
			if out := h.ask(t, "hi"); out.Truncated {
				t.Errorf("a short question flagged as truncated")
			}
			if known {
				h.agent.Server(t.Context(), h.model)
			}
			if out := h.ask(t, strings.Repeat("a long story ", 300)); out.Truncated != known {
				t.Errorf("first long question: Truncated = %v; want %v (only the server's context can tell at once)", out.Truncated, known)
			}
			out := h.ask(t, strings.Repeat("a long story ", 600))
			if !out.Truncated {
				t.Errorf("a request that grew while the reported input stayed at %d not flagged", out.Usage.InputTokens)
			}
			if got := h.agent.ContextLimit(h.model); got != 512 {
				t.Errorf("ContextLimit = %d; want the 512 the server cut at", got)
			}
		})
	}
}
