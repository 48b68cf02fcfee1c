package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"waclaw/agent/agenttest"
	"waclaw/bridge"
	"waclaw/bridge/console"
)

// The owner who approves the same code twice is told it is already
// approved, not that it may have expired; an unknown code still says that.
func TestPairApproveTwice(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "m")
	cfg := ownNumberConfig(t, lm.URL, `{ selfChatMode: true, dmPolicy: "pairing" }`)
	cleanEnv(t)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		var errOut strings.Builder
		err := run(context.Background(), []string{"--config", cfg, "--data-dir", t.TempDir(), "--log-level", "error", "chat", "--jsonl"}, inR, outW, &errOut)
		outW.CloseWithError(io.EOF)
		done <- err
	}()
	n := 0
	send := func(in bridge.Inbound) {
		t.Helper()
		n++
		in.MessageID, in.Time = "M-"+strings.Repeat("x", n), time.Now()
		line, _ := json.Marshal(in)
		if _, err := inW.Write(append(line, '\n')); err != nil {
			t.Fatal(err)
		}
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// next returns the next reply's text in chat.
	next := func(chat string) string {
		t.Helper()
		var seen []string
		for {
			select {
			case line, ok := <-lines:
				var r console.Reply
				if !ok {
					t.Fatalf("no reply in %s; got %q", chat, seen)
				}
				seen = append(seen, line)
				if json.Unmarshal([]byte(line), &r) == nil && r.ID != "" && r.Chat == chat {
					return r.Text
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("no reply in %s; got %q", chat, seen)
			}
		}
	}
	owner := func(text string) bridge.Inbound {
		return bridge.Inbound{ChatID: console.OwnerChat, SenderID: console.OwnerChat, FromSelf: true, SelfChat: true, Text: text}
	}

	send(dmFrom("+15550000009", "hello"))
	code := regexp.MustCompile(`/pair approve ([A-Z2-9]{8})`).FindStringSubmatch(next(console.OwnerChat))
	if code == nil {
		t.Fatal("the owner was not told of the request")
	}
	send(owner("/pair approve " + code[1]))
	if got := next(console.OwnerChat); !strings.Contains(got, "+15550000009 is approved") {
		t.Errorf("first approval = %q", got)
	}
	send(owner("/pair approve " + code[1]))
	if got := next(console.OwnerChat); !strings.Contains(got, "already approved: +15550000009 may message the bot") {
		t.Errorf("second approval = %q; want already approved", got)
	}
	send(owner("/pair approve ZZZZZZZZ"))
	if got := next(console.OwnerChat); !strings.Contains(got, "it may have expired") {
		t.Errorf("unknown code = %q; want it may have expired", got)
	}
	inW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// /status names a model without an alias once.
func TestStatusModelWithoutAlias(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "m")
	cfg := ownNumberConfig(t, lm.URL, `{}`)
	var out, errOut strings.Builder
	if err := runWithInput(t, "/status\n", &out, &errOut, "--config", cfg, "--data-dir", t.TempDir(), "chat"); err != nil {
		t.Fatalf("chat: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "**Model:** lmstudio/m, the default\n") {
		t.Errorf("/status = %q; want the ref once", out.String())
	}
}
