package main

import (
	"fmt"
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
	if !strings.Contains(stderr, "lmstudio/minimax-m2.1-gs32: the local model MiniMax Local is unreachable (unreachable: connection refused)") {
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
	if stdout != "" || !strings.Contains(stderr, "local/m: the local model local/m is unreachable") {
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

// ollamaAndHosted starts an Ollama-style fake serving tiny-hello (which
// answers), think-only (reasoning and no answer) and tiny-broken (its
// runner dies), and a hosted Anthropic fake; it writes a config with the
// chain primary, fallbacks (JSON), the extra providers and aliases, and
// returns its path.
func ollamaAndHosted(t *testing.T, primary, fallbacks, extraProviders, aliases string) (path string, hosted *agenttest.Server) {
	t.Helper()
	ollama := agenttest.New(t, agenttest.Ollama, "tiny-hello", "think-only", "tiny-broken")
	ollama.SetResponder(func(r agenttest.Request) agenttest.Reply {
		switch r.JSON()["model"] {
		case "think-only":
			return agenttest.Reply{Reasoning: "SECRET-THINKING and nothing else"}
		case "tiny-broken":
			return agenttest.Reply{Fault: agenttest.ServerError}
		}
		return agenttest.Reply{Text: "Hello from tiny llama!"}
	})
	hosted = agenttest.New(t, agenttest.Anthropic, "claude-sonnet-4-5")
	cfg := fmt.Sprintf(`{
	  agents: { defaults: {
	    model: { primary: %q, fallbacks: %s },
	    models: { "anthropic/claude-sonnet-4-5": { alias: "Sonnet" }, %s },
	  } },
	  models: { mode: "replace", providers: {
	    ollama: { baseUrl: %q, api: "openai-responses", models: [{ id: "nosuchmodel" }, { id: "think-only" }, { id: "tiny-broken" }, { id: "tiny-hello" }] },
	    anthropic: { baseUrl: %q, apiKey: "sk-ant-test", api: "anthropic-messages", local: false, models: [{ id: "claude-sonnet-4-5" }] },
	    %s
	  } },
	}`, primary, fallbacks, aliases, ollama.URL, hosted.URL, extraProviders)
	path = filepath.Join(t.TempDir(), "config.json5")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, hosted
}

// One broken model on an Ollama server does not keep its neighbour on the
// same server from answering, and the question never goes to the hosted
// fallback; stderr gives the broken model's reason once.
func TestAskOneBrokenModelLeavesItsNeighbourOnTheSameServer(t *testing.T) {
	tests := []struct {
		primary, reason string
	}{
		{"nosuchmodel", "ollama/nosuchmodel: the local model ollama/nosuchmodel is not found on its server (model not available (HTTP 404): model 'nosuchmodel' not found (not_found_error))"},
		{"think-only", "ollama/think-only: the local model ollama/think-only answered with nothing usable (empty reply: "},
		{"tiny-broken", "ollama/tiny-broken: the local model ollama/tiny-broken failed to load or crashed on its server (failed to load (HTTP 500): llama runner process has terminated"},
	}
	for _, tt := range tests {
		t.Run(tt.primary, func(t *testing.T) {
			path, hosted := ollamaAndHosted(t, "ollama/"+tt.primary, `["ollama/tiny-hello", "anthropic/claude-sonnet-4-5"]`, "", "")
			stdout, stderr, err := waclaw(t, "--config", path, "ask", "hello")
			if err != nil {
				t.Fatalf("ask: %v\nstderr:\n%s", err, stderr)
			}
			if stdout != "Hello from tiny llama!\n" {
				t.Errorf("stdout = %q; want the neighbour's answer", stdout)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != 2 || !strings.HasPrefix(lines[0], tt.reason) || !strings.HasPrefix(lines[1], "answered by ollama/tiny-hello in ") {
				t.Errorf("stderr =\n%s\nwant one line starting %q, then the answering model", stderr, tt.reason)
			}
			if strings.Contains(stdout+stderr, "SECRET") {
				t.Errorf("reasoning leaked:\n%s%s", stdout, stderr)
			}
			if n := len(hosted.Calls()); n != 0 {
				t.Errorf("the hosted fallback got %d requests; want none while a local model answers", n)
			}
		})
	}
}

// A model that ask never called is reported as not tried, with why, never
// as failed: one whose provider has no key, and one skipped because its
// server has just refused a connection to its neighbour.
func TestAskReportsModelsItNeverCalledAsNotTried(t *testing.T) {
	down := fmt.Sprintf(`down: { baseUrl: %q, api: "openai-responses", models: [{ id: "x" }, { id: "y" }] },
	    keyless: { baseUrl: "https://keyless.example/v1", apiKey: "${KEYLESS_API_KEY}", api: "openai-responses", local: false, models: [{ id: "k" }] },`,
		agenttest.RefusedURL(t))
	path, _ := ollamaAndHosted(t, "down/y", `["ollama/tiny-hello"]`, down, `"down/x": { alias: "Down" }, "keyless/k": { alias: "Keyless" }`)

	tests := []struct {
		model string
		want  []string // stderr, line by line (each a prefix)
	}{
		{"Keyless", []string{
			"keyless/k: the hosted model Keyless was not tried: it is not set up (KEYLESS_API_KEY is not set) (not configured: KEYLESS_API_KEY is not set)",
			"down/y: the local model down/y is unreachable (unreachable: connection refused)",
			"answered by ollama/tiny-hello in ",
		}},
		{"Down", []string{
			"down/x: the local model Down is unreachable (unreachable: connection refused)",
			"down/y: the local model down/y was not tried: its server is unreachable (not tried: its server is cooling down until ",
			"answered by ollama/tiny-hello in ",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			stdout, stderr, err := waclaw(t, "--config", path, "ask", "--model", tt.model, "hi")
			if err != nil || stdout != "Hello from tiny llama!\n" {
				t.Fatalf("ask --model %s = %q, %v\n%s", tt.model, stdout, err, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("stderr =\n%s\nwant %d lines", stderr, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("stderr line %d = %q; want it to start %q", i+1, lines[i], w)
				}
			}
		})
	}
}
