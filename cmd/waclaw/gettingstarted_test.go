package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"waclaw/agent/agenttest"
)

// The README's Getting started, followed as a newcomer would against a
// fake LM Studio: init writes a config, chat answers with the model in the
// terminal, doctor accepts the setup. The steps are read from the README,
// so the test breaks when they change.
func TestGettingStarted(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	start := strings.Index(section, "## Getting started")
	if start < 0 {
		t.Fatal("the README has no Getting started section")
	}
	section = section[start:]
	section = section[:strings.Index(section[3:], "\n## ")+3]
	for _, step := range []string{"go run ./cmd/waclaw init", "go run ./cmd/waclaw chat", "go run ./cmd/waclaw pair", "go run ./cmd/waclaw run"} {
		if !strings.Contains(section, step) {
			t.Errorf("Getting started lacks %q", step)
		}
	}

	lm := agenttest.New(t, agenttest.LMStudio, "qwen3-8b")
	lm.SetDefault(agenttest.Reply{Text: "Hello! I run on your own machine."})
	home := t.TempDir()
	cfg := filepath.Join(home, "config.json5")
	data := filepath.Join(home, "data")
	var out, errOut strings.Builder
	// Step 2: waclaw init (no terminal: the best model, your own number).
	if err := runWithInput(t, "", &out, &errOut, "--config", cfg, "--data-dir", data, "init", "--url", lm.URL); err != nil {
		t.Fatalf("init: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "Wrote "+cfg) {
		t.Errorf("init did not say where it wrote the config:\n%s", out.String())
	}
	// Step 3: waclaw chat, as the owner typing in the terminal.
	out.Reset()
	if err := runWithInput(t, "hello\n/status\n", &out, &errOut, "--config", cfg, "--data-dir", data, "chat"); err != nil {
		t.Fatalf("chat: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"Hello! I run on your own machine.", "qwen3-8b", "No fallback is configured"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the first chat lacks %q:\n%s", want, out.String())
		}
	}
	// The setup passes doctor (WhatsApp is not linked yet: a warning).
	out.Reset()
	if err := runWithInput(t, "", &out, &errOut, "--config", cfg, "--data-dir", data, "doctor"); err != nil {
		t.Errorf("doctor after init: %v\n%s", err, out.String())
	}
	t.Logf("first run:\n%s", out.String())
}
