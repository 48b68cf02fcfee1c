package agenttest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"waclaw/config/clock"
)

// getJSON reads a native endpoint of s the way a client would.
func getJSON(t *testing.T, s *Server, method, path, body string) map[string]any {
	t.Helper()
	root := strings.TrimSuffix(s.URL, "/v1")
	req, err := http.NewRequestWithContext(testCtx(t), method, root+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d %v", method, path, res.StatusCode, out)
	}
	return out
}

// TestIdleUnload: each server kind unloads an idle model when the real one
// does, on the server's own clock, and the next question is a cold start.
func TestIdleUnload(t *testing.T) {
	tests := []struct {
		style  Style
		unload time.Duration // 0: never
	}{
		{Ollama, OllamaKeepAlive},
		{LMStudio, LMStudioTTL},
		{LlamaCpp, 0},
		{VLLM, 0},
	}
	for _, tt := range tests {
		t.Run(tt.style.String(), func(t *testing.T) {
			clk := clock.NewManual(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
			s := New(t, tt.style, "qwen3")
			s.SetClock(clk.Now)
			ask := func() {
				t.Helper()
				c := oaClient(s)
				if _, err := c.Chat.Completions.New(testCtx(t), chatParams("qwen3")); err != nil {
					t.Fatal(err)
				}
			}
			ask()
			cold := s.ColdStarts()
			if !s.Loaded("qwen3") {
				t.Fatalf("not loaded right after a question")
			}
			if tt.unload == 0 {
				clk.Advance(24 * time.Hour)
				ask()
				if s.ColdStarts() != cold || !s.Loaded("qwen3") {
					t.Errorf("%s unloaded its model after a day idle; it never does", tt.style)
				}
				return
			}
			clk.Advance(tt.unload - time.Second)
			if !s.Loaded("qwen3") {
				t.Errorf("unloaded before %s idle", tt.unload)
			}
			clk.Advance(time.Second)
			if s.Loaded("qwen3") {
				t.Errorf("still loaded after %s idle", tt.unload)
			}
			ask()
			if s.ColdStarts() != cold+1 {
				t.Errorf("cold starts = %d; want one more (%d)", s.ColdStarts(), cold+1)
			}
		})
	}
}

// TestOllamaNative: the endpoints that tell Ollama apart, its loaded
// context, and a native keep_alive that keeps the model past 5 minutes.
func TestOllamaNative(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	s := New(t, Ollama, "qwen3")
	s.SetClock(clk.Now)
	if v := getJSON(t, s, "GET", "/api/version", "")["version"]; v != "0.24.0" {
		t.Errorf("version = %v", v)
	}
	if ps := getJSON(t, s, "GET", "/api/ps", "")["models"].([]any); len(ps) != 0 {
		t.Errorf("/api/ps before any request = %v; want nothing loaded", ps)
	}
	getJSON(t, s, "POST", "/api/generate", `{"model":"qwen3","keep_alive":"30m"}`)
	ps := getJSON(t, s, "GET", "/api/ps", "")["models"].([]any)
	if len(ps) != 1 || ps[0].(map[string]any)["context_length"] != float64(4096) || ps[0].(map[string]any)["name"] != "qwen3:latest" {
		t.Errorf("/api/ps = %v; want qwen3:latest with context 4096", ps)
	}
	show := getJSON(t, s, "POST", "/api/show", `{"model":"qwen3"}`)
	if show["model_info"].(map[string]any)["qwen3.context_length"] != float64(40960) {
		t.Errorf("/api/show = %v", show)
	}
	clk.Advance(29 * time.Minute)
	if !s.Loaded("qwen3") {
		t.Errorf("unloaded before its 30m keep_alive")
	}
	clk.Advance(time.Minute)
	if s.Loaded("qwen3") {
		t.Errorf("loaded after its 30m keep_alive")
	}
}

// TestOllamaTruncatesSilently: a prompt longer than the context is
// answered, with the context size as its input tokens.
func TestOllamaTruncatesSilently(t *testing.T) {
	s := New(t, Ollama, "qwen3")
	s.SetContextSize(256)
	p := chatParams("qwen3")
	p.Messages = []openai.ChatCompletionMessageParamUnion{openai.UserMessage(strings.Repeat("long words here ", 400))}
	c := oaClient(s)
	res, err := c.Chat.Completions.New(testCtx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	if res.Usage.PromptTokens != 256 {
		t.Errorf("prompt_tokens = %d; want the context size, 256", res.Usage.PromptTokens)
	}
}

// TestLMStudioTTL: a request's ttl sets how long the model stays loaded,
// and /api/v0/models shows its state and loaded context.
func TestLMStudioTTL(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	s := New(t, LMStudio, "qwen3")
	s.SetClock(clk.Now)
	m := getJSON(t, s, "GET", "/api/v0/models", "")["data"].([]any)[0].(map[string]any)
	if m["state"] != "not-loaded" {
		t.Errorf("before any request: %v", m)
	}
	c := oaClient(s)
	if _, err := c.Chat.Completions.New(testCtx(t), chatParams("qwen3"), option.WithJSONSet("ttl", 300)); err != nil {
		t.Fatal(err)
	}
	m = getJSON(t, s, "GET", "/api/v0/models", "")["data"].([]any)[0].(map[string]any)
	if m["state"] != "loaded" || m["loaded_context_length"] != float64(4096) {
		t.Errorf("after a request: %v", m)
	}
	clk.Advance(5 * time.Minute)
	if s.Loaded("qwen3") {
		t.Errorf("loaded after its 300 s ttl")
	}
}
