package doctor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"waclaw/agent/agenttest"
)

// Each way to transcribe voice notes gets a line: a server that has the
// endpoint, one that is down, one with no such endpoint, one that refuses
// the key, a command installed and one that is not. None fails the
// report: without them voice notes only get a notice.
func TestVoiceChecks(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
	whisper := agenttest.NewTranscriber(t, agenttest.WhisperCpp)
	openai := agenttest.NewTranscriber(t, agenttest.OpenAIAudio)
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "whisper-cli"), []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	cfg := writeConfig(t, fmt.Sprintf(`{
  agents: { defaults: { model: { primary: "lmstudio/minimax-m2.1-gs32", fallbacks: [] } } },
  models: { mode: "replace", providers: {
    lmstudio: { baseUrl: %q, api: "openai-responses", models: [{ id: "minimax-m2.1-gs32" }] },
    whisper: { baseUrl: %q, api: "openai-completions", models: [] },
    down: { baseUrl: %q, api: "openai-completions", models: [] },
    nowhere: { baseUrl: %q, api: "openai-completions", models: [] },
    cloud: { baseUrl: %q, api: "openai-completions", local: false, apiKey: "sk-wrong", models: [] },
  } },
  tools: { media: { audio: { models: [
    { provider: "whisper", model: "ggml-base" },
    { provider: "down", model: "ggml-base" },
    { provider: "nowhere", model: "ggml-base" },
    { provider: "cloud", model: "whisper-1" },
    { type: "cli", command: "whisper-cli" },
    { type: "cli", command: "whisper-nonexistent" },
  ] } } },
}`, lm.URL, whisper.URL, agenttest.RefusedURL(t), lm.URL, openai.URL))

	r := runDoctor(t, cfg, linkedDataDir(t))

	want := map[string]string{
		"voice: whisper/ggml-base":   "ok answers (local)",
		"voice: down/ggml-base":      "warn connection refused",
		"voice: nowhere/ggml-base":   "warn no transcription endpoint there",
		"voice: cloud/whisper-1":     "warn refused the key",
		"voice: whisper-cli":         "ok installed at " + filepath.Join(bin, "whisper-cli"),
		"voice: whisper-nonexistent": "warn not installed here",
	}
	seen := 0
	for _, c := range r.Checks {
		w, ok := want[c.Name]
		if !ok {
			continue
		}
		seen++
		status, detail, _ := strings.Cut(w, " ")
		if string(c.Status) != status || !strings.Contains(c.Detail, detail) {
			t.Errorf("%s = %s %q; want %s with %q", c.Name, c.Status, c.Detail, status, detail)
		}
		if c.Required {
			t.Errorf("%s is required; voice notes are optional", c.Name)
		}
		if c.Status != OK && c.Advice == "" {
			t.Errorf("%s says no advice", c.Name)
		}
	}
	if seen != len(want) {
		t.Errorf("%d voice checks of %d:\n%s", seen, len(want), screen(r))
	}
	if openai.Calls() != 1 || whisper.Calls() != 1 {
		t.Errorf("transcription servers asked %d and %d times; want one empty request each", openai.Calls(), whisper.Calls())
	}
}
