package main

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"waclaw/agent/agenttest"
)

// asTerminal makes waclaw chat take stdin for a person typing.
func asTerminal(t *testing.T) {
	t.Helper()
	saved := isTerminal
	isTerminal = func(io.Reader) bool { return true }
	t.Cleanup(func() { isTerminal = saved })
}

// A person at the terminal gets a banner and a prompt, a quiet log, and
// replies as fast as the model gives them (no WhatsApp pacing: the default
// outbound burst is 5).
func TestChatAtTheTerminal(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
	lm.SetDefault(agenttest.Reply{Text: "hi"})
	cfg := seedConfig(t, lm.URL, "")
	asTerminal(t)
	var out, errOut strings.Builder
	start := time.Now()
	if err := runWithInput(t, strings.Repeat("hello\n", 12), &out, &errOut, "--config", cfg, "--data-dir", t.TempDir(), "chat"); err != nil {
		t.Fatalf("chat: %v\n%s", err, errOut.String())
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("12 quick messages took %s; want no outbound pacing", d)
	}
	want := "waclaw chat: Minimax (chain: Minimax). One message per line; /help for commands, /attach PATH to send a file; Ctrl-D or Ctrl-C to quit.\n> " +
		strings.Repeat("hi\n\n> ", 12) + "\n"
	if out.String() != want {
		t.Errorf("terminal shows %q; want %q", out.String(), want)
	}
	if strings.Contains(errOut.String(), "level=INFO") {
		t.Errorf("info lines mixed into the chat: %q", errOut.String())
	}

	out.Reset()
	errOut.Reset()
	if err := runWithInput(t, "hello\n", &out, &errOut, "--config", cfg, "--data-dir", t.TempDir(), "--log-level", "info", "chat"); err != nil {
		t.Fatalf("chat: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "level=INFO msg=configuration") {
		t.Errorf("--log-level info at the terminal logged %q; want the info lines", errOut.String())
	}
}

// A pipe gets the replies alone, as before.
func TestChatFromAPipeHasNoPrompt(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
	lm.SetDefault(agenttest.Reply{Text: "hi"})
	cfg := seedConfig(t, lm.URL, "")
	var out, errOut strings.Builder
	if err := runWithInput(t, "hello\n", &out, &errOut, "--config", cfg, "--data-dir", t.TempDir(), "--log-level", "error", "chat"); err != nil {
		t.Fatalf("chat: %v\n%s", err, errOut.String())
	}
	if out.String() != "hi\n\n" {
		t.Errorf("piped chat printed %q; want the reply alone", out.String())
	}
}

// --chat as the owner cannot work (the owner's messages outside the
// self-chat are to people, not the bot): it is refused with the reason.
func TestChatOtherChat(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "m")
	cfg := ownNumberConfig(t, lm.URL, `{}`)
	var out, errOut strings.Builder
	err := runWithInput(t, "hello\n", &out, &errOut, "--config", cfg, "--data-dir", t.TempDir(), "chat", "--chat", "work")
	if _, ok := err.(usageError); !ok || !strings.Contains(err.Error(), "--chat needs --as") {
		t.Errorf("chat --chat work = %v; want refused with the reason", err)
	}
}

// Ctrl-C while the chat waits for the next line quits at once, cleanly,
// though stdin never ends.
func TestChatCtrlCAtThePrompt(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
	cfg := seedConfig(t, lm.URL, "")
	cmd := mainCommand(t, "--config", cfg, "--data-dir", t.TempDir(), "chat")
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	w, err := cmd.StdinPipe() // an OS pipe: Wait does not wait for it to end
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for deadline := time.Now().Add(30 * time.Second); len(lm.Calls()) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first line was never answered")
		}
	}
	time.Sleep(100 * time.Millisecond) // back at the prompt, waiting for a line
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("chat after Ctrl-C: %v; want a clean exit\n%s", err, out)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("chat kept waiting for a line after Ctrl-C")
	}
}
