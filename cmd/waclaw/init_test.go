package main

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"waclaw/agent/agenttest"
	"waclaw/config"
)

// initIn runs waclaw init with a config path in a temp dir and returns
// the path and the output. cleanEnv runs first, so keys are unset.
func initIn(t *testing.T, path string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return waclaw(t, append([]string{"--config", path, "init"}, args...)...)
}

// A first run against LM Studio and Ollama on this machine: the config
// names a model they serve, passes config check, and answers ask.
func TestInitFindsLocalServersAndWritesAWorkingConfig(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "some-model")
	lm.SetDefault(agenttest.Reply{Text: "Hi, I am the local model."})
	ollama := agenttest.New(t, agenttest.Ollama, "qwen3:4b")
	path := filepath.Join(t.TempDir(), "waclaw", "config.json5")

	stdout, stderr, err := initIn(t, path, "--url", lm.URL, "--url", ollama.URL)
	if err != nil {
		t.Fatalf("init: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	t.Logf("$ waclaw init --url %s --url %s\n%s", lm.URL, ollama.URL, stdout)
	src, _ := os.ReadFile(path)
	t.Logf("%s:\n%s", path, src)

	for _, want := range []string{"LM Studio, speaks the Responses API", "Ollama 0.24.0, speaks the Responses API",
		"1. lmstudio/some-model", "2. ollama/qwen3:4b", "Primary:  lmstudio/some-model", "Wrote " + path, "ok    config"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("init output lacks %q:\n%s", want, stdout)
		}
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config.Load(written) error = %v", err)
	}
	if cfg.Primary.Ref() != "lmstudio/some-model" || cfg.Primary.Provider.API != config.APIOpenAIResponses {
		t.Errorf("primary = %s (%s); want lmstudio/some-model on the Responses API", cfg.Primary.Ref(), cfg.Primary.Provider.API)
	}
	if !cfg.WhatsApp.SelfChatMode {
		t.Errorf("selfChatMode false; want true (the user's own number) by default")
	}
	if len(cfg.Fallbacks) != 0 || !strings.Contains(string(src), `// fallbacks: ["anthropic/claude-sonnet-4-5"], // set ANTHROPIC_API_KEY, then uncomment`) {
		t.Errorf("want no fallback, and a commented-out line saying how to add one:\n%s", src)
	}

	if out, stderr, err := waclaw(t, "--config", path, "config", "check"); err != nil || !strings.Contains(out, "primary:   lmstudio/some-model (Local)") {
		t.Errorf("config check: err %v\n%s%s", err, out, stderr)
	}
	out, stderr, err := waclaw(t, "--config", path, "ask", "hello")
	if err != nil || out != "Hi, I am the local model.\n" {
		t.Errorf("ask hello = %q, %v; want the fake's answer\nstderr: %s", out, err, stderr)
	}
	t.Logf("$ waclaw ask hello\n%s%s", out, stderr)

	// --model picks another one the servers serve.
	stdout, _, err = initIn(t, path, "--url", lm.URL, "--url", ollama.URL, "--model", "qwen3:4b", "--force")
	if err != nil {
		t.Fatalf("init --model --force: %v", err)
	}
	if cfg, err := config.Load(path); err != nil || cfg.Primary.Ref() != "ollama/qwen3:4b" {
		t.Errorf("after --model qwen3:4b: err %v; want primary ollama/qwen3:4b\n%s", err, stdout)
	}
}

func TestInitNeverOverwritesWithoutForce(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "some-model")
	path := filepath.Join(t.TempDir(), "config.json5")
	if err := os.WriteFile(path, []byte("{ /* mine */ }"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := initIn(t, path, "--url", lm.URL)
	if err == nil || !strings.Contains(err.Error(), "already exists") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("init over an existing file: err = %v; want it refused, naming --force", err)
	}
	if src, _ := os.ReadFile(path); string(src) != "{ /* mine */ }" {
		t.Errorf("the existing file was changed:\n%s", src)
	}
	if _, _, err := initIn(t, path, "--url", lm.URL, "--force"); err != nil {
		t.Fatalf("init --force: %v", err)
	}
	if cfg, err := config.Load(path); err != nil || cfg.Primary.Ref() != "lmstudio/some-model" {
		t.Errorf("after --force: err %v; want the new config", err)
	}
}

func TestInitBotNumberAndFallback(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "some-model")
	path := filepath.Join(t.TempDir(), "config.json5")
	stdout, _, err := initIn(t, path, "--url", lm.URL, "--bot-number", "--fallback", "anthropic/claude-sonnet-4-5")
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	if !strings.Contains(stdout, "ANTHROPIC_API_KEY is not set") {
		t.Errorf("init does not say the fallback's key is unset:\n%s", stdout)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WhatsApp.SelfChatMode {
		t.Errorf("--bot-number: selfChatMode true; want false")
	}
	if len(cfg.Fallbacks) != 1 || cfg.Fallbacks[0].Ref() != "anthropic/claude-sonnet-4-5" {
		t.Errorf("fallbacks = %v; want anthropic/claude-sonnet-4-5", cfg.Fallbacks)
	}
}

// With nothing listening, init says what to install and writes a config
// for LM Studio's default address.
func TestInitWithNoServer(t *testing.T) {
	refused := agenttest.RefusedAddr(t)
	path := filepath.Join(t.TempDir(), "config.json5")
	stdout, stderr, err := initIn(t, path, "--url", refused)
	if err != nil {
		t.Fatalf("init: %v\n%s%s", err, stdout, stderr)
	}
	t.Logf("$ waclaw init (nothing running)\n%s", stdout)
	for _, want := range []string{"nothing there (connection refused)", "lmstudio.ai", "lms server start", "ollama serve", "ollama pull qwen3:4b"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	if cfg.Primary.Provider.BaseURL != "http://127.0.0.1:1234/v1" || cfg.Primary.Provider.ID != "lmstudio" {
		t.Errorf("primary = %s at %s; want LM Studio's default address", cfg.Primary.Ref(), cfg.Primary.Provider.BaseURL)
	}
}

// At a terminal, init asks: the model from the numbered list, whose
// number it is, and whether to add a hosted fallback.
func TestInitAsksAtATerminal(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "some-model")
	ollama := agenttest.New(t, agenttest.Ollama, "qwen3:4b")
	cleanEnv(t)
	path := filepath.Join(t.TempDir(), "config.json5")
	var out strings.Builder
	e := &env{global: &globals{configPath: path}, stdin: strings.NewReader(""), stdout: &out, stderr: &out}
	o := &initOptions{urls: repeated{lm.URL, ollama.URL}}
	answers := bufio.NewReader(strings.NewReader("7\n2\n2\n2\n"))
	if err := runInit(context.Background(), e, o, answers); err != nil {
		t.Fatalf("init: %v\n%s", err, out.String())
	}
	t.Logf("$ waclaw init (at a terminal; typed 7, 2, 2, 2)\n%s", out.String())
	if !strings.Contains(out.String(), "Type a number from 1 to 2.") {
		t.Errorf("an answer out of range was not asked again:\n%s", out.String())
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Primary.Ref() != "ollama/qwen3:4b" || cfg.WhatsApp.SelfChatMode ||
		len(cfg.Fallbacks) != 1 || cfg.Fallbacks[0].Ref() != "anthropic/claude-sonnet-4-5" {
		t.Errorf("chose model 2, a bot number and fallback 2; got primary %s, selfChatMode %v, fallbacks %v",
			cfg.Primary.Ref(), cfg.WhatsApp.SelfChatMode, cfg.Fallbacks)
	}
}

func TestInitRejectsAModelNoServerServes(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "some-model")
	path := filepath.Join(t.TempDir(), "config.json5")
	_, _, err := initIn(t, path, "--url", lm.URL, "--model", "nosuch")
	if err == nil || !strings.Contains(err.Error(), "lmstudio/some-model") {
		t.Errorf("--model nosuch: err = %v; want the models found", err)
	}
	if _, statErr := os.Stat(path); statErr == nil {
		t.Errorf("a config was written for a model no server serves")
	}
}
