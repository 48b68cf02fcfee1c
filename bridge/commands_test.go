package bridge

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"waclaw/agent/agenttest"
)

func TestCommands(t *testing.T) {
	h := newHarness(t, "")
	h.send(t, h.self("hello"))
	steps := []struct {
		cmd  string
		want []string
	}{
		{"/help", []string{"/status", "/model NAME", "/pair approve CODE"}},
		{"/model", []string{"Model: *Local* (local/m), the default.", "1. Local: local/m", "2. Hosted One: hosted/m"}},
		{"/model hosted one", []string{"This chat now uses *Hosted One* (hosted/m)."}},
		{"/status", []string{"*Model:* Hosted One (hosted/m), chosen with /model", "1. Hosted One: ok", "2. Local: ok", "2 messages, 0 compacted", "1 model calls"}},
		{"/model nope", []string{`unknown model "nope"`, "Local, Hosted One"}},
		{"/model default", []string{"Back to the default model: *Local*."}},
		{"/models", []string{"*local* (local)", "- m (Local, primary)", "*hosted* (hosted)", "- m (Hosted One, fallback 1)"}},
		{"/privacy local", []string{"local models only"}},
		{"/status", []string{"*Privacy:* local models only"}},
		{"/privacy default", []string{"hosted fallbacks again"}},
		{"/compact", []string{"Nothing to compact yet"}},
		{"/allow 555", []string{"international form"}},
		{"/allow +44 20 7946 0958", []string{"+442079460958 may now talk to me."}},
		{"/pair", []string{"No pairing requests are waiting."}},
		{"/new", []string{"Started a new conversation"}},
		{"/stauts", []string{"Unknown command /stauts. Did you mean /status?"}},
	}
	for _, s := range steps {
		h.send(t, h.self(s.cmd))
		got := h.last("self")
		for _, w := range s.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s replied %q; want it to contain %q", s.cmd, got, w)
			}
		}
	}
	if n := len(h.srv.Calls()); n != 1 {
		t.Errorf("commands reached the model: %d requests", n)
	}
	sessions, _ := h.store.Sessions(context.Background(), "self")
	if len(sessions) != 2 {
		t.Errorf("/new: %d sessions; want the old one kept", len(sessions))
	}
}

func TestCommandsOnlyFromAdmins(t *testing.T) {
	h := newHarness(t, "")
	h.send(t, h.dm(friend, "/model hosted one"))
	if h.last(friend) != "echo: /model hosted one" {
		t.Errorf("a non-admin's command was not treated as text: %q", h.last(friend))
	}
	sess, _ := h.store.ActiveSession(context.Background(), friend)
	if sess.ModelOverride != "" {
		t.Error("a non-admin switched the model")
	}
	// An admin's message quoting a command is text, not a command.
	in := h.dm(owner, "what does this do?")
	in.QuotedText = "/new"
	h.send(t, in)
	if sessions, _ := h.store.Sessions(context.Background(), owner); len(sessions) != 1 {
		t.Error("a quoted command was run")
	}
	// An admin from the config may run commands in their DM.
	h.send(t, h.dm(owner, "/model"))
	if !strings.Contains(h.last(owner), "Aliases:") {
		t.Errorf("admin DM command: %q", h.last(owner))
	}
}

func TestFallbackNoticeAndPrivacy(t *testing.T) {
	h := newHarness(t, "")
	h.srv.Enqueue(agenttest.Reply{Fault: agenttest.NoModelsLoaded})
	h.send(t, h.dm(friend, "are you there?"))
	got := h.last(friend)
	if !strings.HasPrefix(got, "echo: are you there?") || !strings.Contains(got, "_(answered by Hosted One: the local model Local is not loaded on its server)_") {
		t.Errorf("fallback reply = %q; want the answer and a one-line notice", got)
	}
	// Local only: the hosted fallback is skipped and the user is told.
	h.send(t, h.self("/privacy local"))
	h.srv.Enqueue(agenttest.Reply{Fault: agenttest.NoModelsLoaded})
	h.send(t, h.self("secret plans"))
	if got := h.last("self"); !strings.Contains(got, "not sent to a hosted model") {
		t.Errorf("local-only failure reply = %q", got)
	}
	// Both providers are the same fake here: a hosted attempt would be a
	// second request carrying the text.
	n := 0
	for _, r := range h.srv.Calls() {
		if strings.Contains(string(r.Body), "secret plans") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("local-only text was sent %d times; want once, to the local model only", n)
	}
}

func TestOrderWithinAChatUnderParallelLoad(t *testing.T) {
	h := newHarness(t, `{ allowFrom: ["*"], rateLimit: { perMinute: 1000, burst: 1000, outboundPerMinute: 100000, outboundBurst: 1000 } }`)
	const chats, perChat = 8, 10
	var wg sync.WaitGroup
	for c := range chats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			number := fmt.Sprintf("+1555100%04d", c)
			for i := range perChat {
				in := Inbound{ChatID: number, SenderID: number, SenderPhone: number, Text: fmt.Sprintf("m%d", i),
					MessageID: fmt.Sprintf("%d-%d", c, i), Time: h.clock.Now()}
				if err := h.b.Handle(context.Background(), in); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := h.b.Idle(context.Background()); err != nil {
		t.Fatal(err)
	}
	for c := range chats {
		out := h.ch.to(fmt.Sprintf("+1555100%04d", c))
		if len(out) != perChat {
			t.Fatalf("chat %d got %d replies", c, len(out))
		}
		for i, text := range out {
			if text != fmt.Sprintf("echo: m%d", i) {
				t.Fatalf("chat %d reply %d = %q; order lost", c, i, text)
			}
		}
	}
}

// /help lists every command an admin can run, and every command it lists
// runs: the one table is the dispatch and the help alike.
func TestHelpListsEveryCommand(t *testing.T) {
	h := newHarness(t, "")
	h.send(t, h.self("/help"))
	help := h.last("self")
	for _, c := range commands() {
		if len(c.usage) == 0 || !strings.Contains(help, "\n"+c.name) {
			t.Errorf("/help does not list %s:\n%s", c.name, help)
		}
		h.send(t, h.self(strings.ToUpper(c.name)))
		if got := h.last("self"); strings.HasPrefix(got, "Unknown command") || strings.HasPrefix(got, "That didn't work") {
			t.Errorf("%s, listed in /help, answered %q", c.name, got)
		}
	}
}

// An answer cut off inside a code block still gets its fallback notice as
// text, not as one more line of the code.
func TestFallbackNoticeAfterAnOpenCodeBlock(t *testing.T) {
	h := newHarness(t, "")
	h.srv.Enqueue(agenttest.Reply{Fault: agenttest.NoModelsLoaded}, agenttest.Reply{Text: "Here:\n\n```go\nfunc main() {"})
	h.send(t, h.dm(friend, "write me a program"))
	want := "Here:\n\n```\nfunc main() {\n```\n\n_(answered by Hosted One: the local model Local is not loaded on its server)_"
	if got := h.last(friend); got != want {
		t.Errorf("reply = %q; want %q", got, want)
	}
}
