package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"waclaw/agent/agenttest"
)

// With the seed's config 02 (Sonnet primary; MiniMax Local, then Opus as
// fallbacks) and the local server refusing connections, a question put to
// "MiniMax Local" is answered by the hosted fallback, and stderr says why.
func TestAskFallsBackFromAnUnreachableLocalModel(t *testing.T) {
	anthropic := agenttest.New(t, agenttest.Anthropic, "claude-sonnet-4-5", "claude-opus-4-5")
	anthropic.SetDefault(agenttest.Reply{Text: "Paris.", Reasoning: "SECRET-THINKING"})
	refused := agenttest.RefusedURL(t)

	src, err := os.ReadFile(fixtures + "02-hybrid-hosted-primary.json5")
	if err != nil {
		t.Fatal(err)
	}
	// Point the seed's providers at the fakes: the local one at a port
	// that refuses connections, the built-in anthropic one at the fake.
	cfgText := strings.Replace(string(src), `"http://127.0.0.1:1234/v1"`, `"`+refused+`"`, 1)
	cfgText = strings.Replace(cfgText, "providers: {", "providers: {\nanthropic: { baseUrl: \""+anthropic.URL+"\" },", 1)
	path := filepath.Join(t.TempDir(), "config.json5")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}

	stdout, stderr, err := waclawWithEnv(t, map[string]string{"ANTHROPIC_API_KEY": "sk-ant-test"},
		"--config", path, "ask", "--model", "minimax local", "What is the capital of France?")
	if err != nil {
		t.Fatalf("ask: %v\nstderr:\n%s", err, stderr)
	}
	if stdout != "Paris.\n" {
		t.Errorf("stdout = %q; want only the final text", stdout)
	}
	if !strings.Contains(stderr, "lmstudio/minimax-m2.1-gs32: the local model is unreachable") {
		t.Errorf("stderr does not say the local model was unreachable:\n%s", stderr)
	}
	if !strings.Contains(stderr, "answered by Sonnet (anthropic/claude-sonnet-4-5)") {
		t.Errorf("stderr does not name the answering model:\n%s", stderr)
	}
	if strings.Contains(stdout+stderr, "SECRET") {
		t.Errorf("reasoning leaked:\nstdout: %s\nstderr: %s", stdout, stderr)
	}
	reqs := anthropic.Requests()
	if len(reqs) != 1 || reqs[0].Header.Get("X-Api-Key") != "sk-ant-test" {
		t.Errorf("anthropic fake saw %d requests ; want 1 with the key from ANTHROPIC_API_KEY", len(reqs))
	}
}

func TestAskWhenNoModelAnswers(t *testing.T) {
	refused := agenttest.RefusedURL(t)
	path := filepath.Join(t.TempDir(), "config.json5")
	os.WriteFile(path, []byte(`{models: {mode: "replace", providers: {local: {baseUrl: "`+refused+`", api: "openai-responses", models: [{id: "m"}]}}}}`), 0o600)
	stdout, stderr, err := waclaw(t, "--config", path, "ask", "hello")
	if err == nil || !strings.Contains(err.Error(), "no model could answer") {
		t.Fatalf("err = %v; want no model could answer", err)
	}
	if stdout != "" || !strings.Contains(stderr, "local/m: the local model is unreachable") {
		t.Errorf("stdout %q, stderr %q", stdout, stderr)
	}
}

func TestAskReadsStdinAndRejectsUnknownModels(t *testing.T) {
	_, _, err := waclaw(t, "ask", "--model", "nosuch", "hi")
	if err == nil || !strings.Contains(err.Error(), `unknown model "nosuch"`) || !strings.Contains(err.Error(), "Minimax") {
		t.Errorf("unknown --model: err = %v; want the list of valid names", err)
	}
	_, _, err = waclaw(t, "ask")
	if err == nil || !strings.Contains(err.Error(), "ask needs a question") {
		t.Errorf("no question: err = %v", err)
	}
}
