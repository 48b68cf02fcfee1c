package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtures is the config package's copy of the seed document's three config
// blocks: read in place so the repository holds them once.
const fixtures = "../../config/testdata/seed/"

// waclaw runs the CLI in-process with a clean environment and returns its
// output.
func waclaw(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return waclawWithEnv(t, nil, args...)
}

// runWithInput runs the CLI in-process with stdin, in a clean environment.
func runWithInput(t *testing.T, stdin string, stdout, stderr *strings.Builder, args ...string) error {
	t.Helper()
	cleanEnv(t)
	return run(context.Background(), args, strings.NewReader(stdin), stdout, stderr)
}

// cleanEnv points HOME and the XDG dirs at a temp dir and unsets keys.
func cleanEnv(t *testing.T) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(home, "data"))
	t.Setenv("WACLAW_CONFIG", "")
	for _, k := range []string{"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY"} {
		t.Setenv(k, "")
	}
}

// waclawWithEnv is waclaw with extra environment variables set.
func waclawWithEnv(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cleanEnv(t)
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestConfigCheckSeedFixtures(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"01-local-primary.json5", []string{"primary:   lmstudio/minimax-m2.1-gs32 (Minimax)", "fallbacks: none", "Opus = anthropic/claude-opus-4-5", "lmstudio", "key set"}},
		{"02-hybrid-hosted-primary.json5", []string{"primary:   anthropic/claude-sonnet-4-5 (Sonnet): unavailable, ANTHROPIC_API_KEY is not set",
			"fallback 1: lmstudio/minimax-m2.1-gs32 (MiniMax Local)", "fallback 2: anthropic/claude-opus-4-5 (Opus)", "key unset (ANTHROPIC_API_KEY)"}},
		{"03-other-proxy.json5", []string{"primary:   local/my-local-model", "http://127.0.0.1:8000/v1", "local"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out, _, err := waclaw(t, "config", "check", fixtures+tt.file)
			if err != nil {
				t.Fatalf("config check %s: %v", tt.file, err)
			}
			for _, w := range append(tt.want, "\nok\n") {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			// Keys are shown only as set/unset.
			if strings.Contains(out, "sk-local") || strings.Contains(out, `"lmstudio"`) {
				t.Errorf("output shows a key:\n%s", out)
			}
		})
	}
}

func TestConfigCheckInvalid(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json5")
	os.WriteFile(bad, []byte("{\n  models: { mode: 'mix' },\n  agents: { defaults: { modle: 'x' } },\n}\n"), 0o600)
	_, stderr, err := waclaw(t, "config", "check", bad)
	if err == nil {
		t.Fatal("config check of an invalid file succeeded")
	}
	for _, w := range []string{bad + `:2:19: models.mode: must be "merge"`, bad + `:3:25: agents.defaults.modle: unknown key "modle" (did you mean "model"?)`} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	if !strings.Contains(err.Error(), "2 problem(s)") {
		t.Errorf("error = %v", err)
	}
}

func TestConfigFileChoice(t *testing.T) {
	// No file anywhere: the built-in defaults.
	out, _, err := waclaw(t, "config", "check")
	if err != nil || !strings.Contains(out, "built-in defaults") || !strings.Contains(out, "primary:   lmstudio/minimax-m2.1-gs32 (Minimax)") {
		t.Errorf("no file: err %v, output:\n%s", err, out)
	}
	// A --config that does not exist is an error, not the defaults.
	_, _, err = waclaw(t, "--config", "/nonexistent/waclaw.json5", "config", "check")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/waclaw.json5 does not exist") {
		t.Errorf("missing --config: err = %v", err)
	}
	// $WACLAW_CONFIG is used when no flag is given, and the flag after the
	// command works too.
	out, _, err = waclaw(t, "models", "--config", fixtures+"03-other-proxy.json5")
	if err != nil || !strings.Contains(out, "local/my-local-model") {
		t.Errorf("--config after the command: err %v\n%s", err, out)
	}
}

func TestModelsTable(t *testing.T) {
	t.Setenv("WACLAW_CONFIG", "")
	out, _, err := waclaw(t, "--config", fixtures+"02-hybrid-hosted-primary.json5", "models")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "REF") || !strings.Contains(lines[0], "ALIAS") || !strings.Contains(lines[0], "ROLE") {
		t.Errorf("header = %q", lines[0])
	}
	for _, want := range [][]string{
		{"lmstudio/minimax-m2.1-gs32", "MiniMax Local", "openai-responses", "196608", "8192", "fallback 1"},
		{"anthropic/claude-sonnet-4-5", "Sonnet", "anthropic-messages", "200000", "64000", "primary"},
		{"anthropic/claude-opus-4-5", "Opus", "fallback 2"},
		{"openrouter/z-ai/glm-4.6", "openai-completions"},
	} {
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, want[0]+" ") {
				found = true
				for _, w := range want[1:] {
					if !strings.Contains(l, w) {
						t.Errorf("row %q lacks %q", l, w)
					}
				}
			}
		}
		if !found {
			t.Errorf("no row for %s:\n%s", want[0], out)
		}
	}
}

func TestHelpAndUsage(t *testing.T) {
	out, _, err := waclaw(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands() {
		if !strings.Contains(out, c.name) {
			t.Errorf("--help lacks %q", c.name)
		}
	}
	out, _, err = waclaw(t, "config", "check", "--help")
	if err != nil || !strings.Contains(out, "Usage: waclaw config check [FILE]") {
		t.Errorf("config check --help: %v\n%s", err, out)
	}
	_, _, err = waclaw(t, "conifg")
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `did you mean "config check"`) {
		t.Errorf("typo'd command: err = %v; want a usage error with a suggestion", err)
	}
	_, _, err = waclaw(t, "models", "--log-level", "loud")
	if !errors.As(err, &ue) {
		t.Errorf("bad --log-level: err = %v; want a usage error", err)
	}
	out, _, err = waclaw(t, "version")
	if err != nil || out != "waclaw dev\n" {
		t.Errorf("version = %q, %v", out, err)
	}
}
