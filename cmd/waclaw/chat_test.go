package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"waclaw/agent/agenttest"
	"waclaw/store"
)

// TestMain lets a test run the real waclaw main in a child process (the
// crash test kills it with SIGKILL).
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("WACLAW_TEST_MAIN_ARGS"); ok {
		os.Args = append([]string{"waclaw"}, strings.Split(args, "\x1f")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// seedConfig writes the seed's config 01 with its LM Studio provider
// pointed at lmURL and the built-in anthropic provider at anthropicURL.
func seedConfig(t *testing.T, lmURL, anthropicURL string) string {
	t.Helper()
	src, err := os.ReadFile(fixtures + "01-local-primary.json5")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(src), `"http://127.0.0.1:1234/v1"`, `"`+lmURL+`"`, 1)
	if anthropicURL != "" {
		text = strings.Replace(text, "providers: {", "providers: {\nanthropic: { baseUrl: \""+anthropicURL+"\" },", 1)
	}
	path := filepath.Join(t.TempDir(), "config.json5")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestChatScript(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
	lm.SetDefault(agenttest.Reply{Text: "from the local model"})
	opus := agenttest.New(t, agenttest.Anthropic, "claude-opus-4-5")
	opus.SetDefault(agenttest.Reply{Text: "Hello from **Opus**.", Reasoning: "SECRET"})
	cfg := seedConfig(t, lm.URL, opus.URL)

	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-test")
	var out, errOut strings.Builder
	err := run(context.Background(), []string{"--config", cfg, "--data-dir", t.TempDir(), "chat"},
		strings.NewReader("/model Opus\n/status\nhello\n"), &out, &errOut)
	if err != nil {
		t.Fatalf("chat: %v\n%s", err, errOut.String())
	}
	got := out.String()
	for _, want := range []string{
		// The terminal shows the Markdown as written, not WhatsApp's markup.
		"This chat now uses **Opus** (anthropic/claude-opus-4-5).",
		"**Model:** Opus (anthropic/claude-opus-4-5), chosen with /model",
		"1. Opus: ok\n2. Minimax: ok",
		"Hello from **Opus**.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "SECRET") || len(lm.Calls()) != 0 {
		t.Errorf("reasoning leaked or the local model was asked:\n%s", got)
	}
	if i, j := strings.Index(got, "now uses"), strings.Index(got, "Hello from"); i < 0 || j < i {
		t.Errorf("replies out of order:\n%s", got)
	}
}

// mainCommand is waclaw's main with args, in a child process (see TestMain).
func mainCommand(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "WACLAW_TEST_MAIN_ARGS="+strings.Join(args, "\x1f"), "HOME="+t.TempDir())
	return cmd
}

// child runs waclaw in a child process.
func child(t *testing.T, stdin io.Reader, args ...string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	cmd := mainCommand(t, args...)
	cmd.Stdin = stdin
	out := &strings.Builder{}
	cmd.Stdout = out
	cmd.Stderr = os.Stderr
	return cmd, out
}

// A waclaw chat killed with SIGKILL while the model is answering answers
// the pending message exactly once when it starts again.
func TestChatCrashAnswersPendingExactlyOnce(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
	lm.Enqueue(agenttest.Reply{Text: "never delivered", Delay: time.Minute})
	lm.SetDefault(agenttest.Reply{Text: "Answered after the restart."})
	cfg := seedConfig(t, lm.URL, "")
	data := t.TempDir()
	args := []string{"--config", cfg, "--data-dir", data, "--log-level", "error", "chat"}

	first, out1 := child(t, nil, args...)
	w, err := first.StdinPipe() // held open: the first run never sees EOF
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("what is the meaning of life?\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(lm.Calls()) == 0 {
		if time.Now().After(deadline) {
			first.Process.Kill()
			t.Fatal("the first run never asked the model")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	if out1.String() != "" {
		t.Fatalf("the killed run printed %q", out1.String())
	}

	for run := 2; run <= 3; run++ {
		next, out := child(t, strings.NewReader(""), args...)
		if err := next.Run(); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		want := ""
		if run == 2 {
			want = "Answered after the restart.\n\n"
		}
		if out.String() != want {
			t.Errorf("run %d printed %q; want %q", run, out.String(), want)
		}
	}
	if n := len(lm.Calls()); n != 2 {
		t.Errorf("the model was asked %d times; want twice (once killed, once answered)", n)
	}
	st, err := store.Open(context.Background(), filepath.Join(data, "waclaw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var done, attempts int
	st.DB().QueryRow(`SELECT count(*), max(attempts) FROM inbox WHERE state = 'done'`).Scan(&done, &attempts)
	if done != 1 || attempts != 2 {
		t.Errorf("inbox: %d done (attempts %d); want the one message done after 2 attempts", done, attempts)
	}
}

// The person at the keyboard is the owner whatever the config says of
// WhatsApp's self-chat: selfChatMode off silences the phone's "message
// yourself" chat, not the terminal.
func TestChatOwnerWithSelfChatModeOff(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
	cfg := filepath.Join(t.TempDir(), "config.json5")
	src := `{ models: { providers: { lmstudio: { baseUrl: "` + lm.URL + `", api: "openai-responses", models: [{ id: "minimax-m2.1-gs32" }] } } },
	  channels: { whatsapp: { selfChatMode: false } } }`
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	if err := runWithInput(t, "/model\n", &out, &errOut, "--config", cfg, "--data-dir", t.TempDir(), "chat"); err != nil {
		t.Fatalf("chat: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "Aliases:") {
		t.Errorf("/model at the terminal with selfChatMode off = %q; want the owner's command answered", out.String())
	}
}
