package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"waclaw/agent/agenttest"
	"waclaw/bridge"
	"waclaw/bridge/console"
	"waclaw/store"
)

// loadConfig writes a config with one local model at url, no fallbacks,
// every sender allowed and rate limits out of the way.
func loadConfig(t *testing.T, url string) string {
	t.Helper()
	src := fmt.Sprintf(`{
	  agents: { defaults: { model: { primary: "lmstudio/m", fallbacks: [] } } },
	  models: { mode: "replace", providers: {
	    lmstudio: { baseUrl: %q, api: "openai-responses", models: [{ id: "m", contextWindow: 8192, maxTokens: 512 }] },
	  } },
	  channels: { whatsapp: { allowFrom: ["*"],
	    rateLimit: { perMinute: 100000, burst: 100000, outboundPerMinute: 1000000, outboundBurst: 100000 } } },
	}`, url)
	path := filepath.Join(t.TempDir(), "config.json5")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// phone stands in for WhatsApp in front of `waclaw chat --jsonl` runs: it
// sends messages, notes which the bot acknowledged, and shows each reply
// id once, as WhatsApp does.
type phone struct {
	mu      sync.Mutex
	acked   map[string]bool
	replies map[string][]string // distinct replies by chat, in arrival order
	texts   map[string]string   // reply text by id
	resent  int                 // replies that came again under an id already shown
	changed int                 // ids that came again with other text (must stay 0)
	refused map[string]string   // why the bot did not take a message, by id
	errors  []string            // lines that were not JSON
	got     chan struct{}       // a new reply or ack arrived
}

func newPhone() *phone {
	return &phone{acked: map[string]bool{}, refused: map[string]string{}, replies: map[string][]string{}, texts: map[string]string{}, got: make(chan struct{}, 1)}
}

// run starts waclaw chat --jsonl and reads its output until it exits.
func (p *phone) run(t *testing.T, args ...string) (*exec.Cmd, io.WriteCloser, <-chan struct{}) {
	t.Helper()
	cmd := mainCommand(t, append(args, "chat", "--jsonl")...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			p.read(sc.Bytes())
		}
	}()
	return cmd, stdin, done
}

func (p *phone) read(line []byte) {
	var v struct {
		console.Reply
		console.Ack
	}
	p.mu.Lock()
	defer func() {
		p.mu.Unlock()
		select {
		case p.got <- struct{}{}:
		default:
		}
	}()
	if err := json.Unmarshal(line, &v); err != nil {
		p.errors = append(p.errors, fmt.Sprintf("unreadable line %q", line))
		return
	}
	switch {
	case v.Error != "":
		p.refused[v.Ack.Ack] = v.Error
	case v.Ack.Ack != "":
		p.acked[v.Ack.Ack] = true
	case v.Reply.ID != "":
		if old, seen := p.texts[v.Reply.ID]; seen {
			p.resent++
			if old != v.Reply.Text {
				p.changed++
			}
			return
		}
		p.texts[v.Reply.ID] = v.Reply.Text
		p.replies[v.Reply.Chat] = append(p.replies[v.Reply.Chat], v.Reply.Text)
	}
}

func (p *phone) count() (replies, acks int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.replies {
		replies += len(r)
	}
	return replies, len(p.acked)
}

// waitFor waits until cond holds, failing the test after a minute.
func (p *phone) waitFor(t *testing.T, what string, cond func(replies, acks int) bool) {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	for {
		if cond(p.count()) {
			return
		}
		select {
		case <-p.got:
		case <-deadline:
			r, a := p.count()
			t.Fatalf("timed out waiting for %s: %d replies, %d acks", what, r, a)
		}
	}
}

// TestKilledUnderLoad sends 20 chats x 10 messages to `waclaw chat --jsonl`,
// SIGKILLs it when half the messages are in, and starts it again
// with every message it had not acknowledged sent again (as WhatsApp
// redelivers what was not acked). Every acknowledged message is answered
// exactly once, in order within its chat; the history holds each turn
// once and nothing is left pending.
func TestKilledUnderLoad(t *testing.T) {
	const chats, msgs = 20, 10
	lm := agenttest.New(t, agenttest.LMStudio, "m")
	lm.SetResponder(func(r agenttest.Request) agenttest.Reply {
		return agenttest.Reply{Text: "echo: " + r.LastInput(), Delay: 20 * time.Millisecond}
	})
	data := t.TempDir()
	args := []string{"--config", loadConfig(t, lm.URL), "--data-dir", data, "--log-level", "error"}

	var all []bridge.Inbound
	want := map[string][]string{}
	for i := range msgs {
		for c := range chats {
			number := fmt.Sprintf("+1555010%04d", c)
			text := fmt.Sprintf("message %d from chat %d", i, c)
			all = append(all, bridge.Inbound{ChatID: number, SenderID: number, SenderPhone: number,
				MessageID: fmt.Sprintf("IN-%d-%d", c, i), Text: text, Time: time.Now()})
			want[number] = append(want[number], "echo: "+text)
		}
	}
	// Messages arrive a round at a time (one from every chat), so the
	// kill lands while some are still coming in.
	send := func(w io.Writer, list []bridge.Inbound) {
		for i, in := range list {
			line, _ := json.Marshal(in)
			if _, err := w.Write(append(line, '\n')); err != nil {
				return // the process was killed
			}
			if i%chats == chats-1 {
				time.Sleep(30 * time.Millisecond)
			}
		}
	}

	p := newPhone()
	first, stdin, done := p.run(t, args...)
	go send(stdin, all)
	p.waitFor(t, "half the messages taken", func(_, acks int) bool { return acks >= chats*msgs/2 })
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	<-done
	repliesBefore, acksBefore := p.count()
	t.Logf("killed after %d replies and %d acks", repliesBefore, acksBefore)

	var again []bridge.Inbound
	p.mu.Lock()
	for _, in := range all {
		if !p.acked[in.MessageID] {
			again = append(again, in)
		}
	}
	p.mu.Unlock()
	second, stdin, done := p.run(t, args...)
	start := time.Now()
	send(stdin, again)
	p.waitFor(t, "every answer", func(replies, acks int) bool { return replies >= chats*msgs && acks == chats*msgs })
	t.Logf("restart to the last answer: %s; %d messages sent again, %d reply parts resent under their ids", time.Since(start).Round(time.Millisecond), len(again), p.resent)
	stdin.Close()
	if err := second.Wait(); err != nil {
		t.Fatalf("second run: %v", err)
	}
	<-done

	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.errors) > 0 || len(p.refused) > 0 || p.changed > 0 {
		t.Errorf("errors %q, refused %q; %d ids came again with other text", p.errors, p.refused, p.changed)
	}
	for chat, w := range want {
		if got := p.replies[chat]; !slices.Equal(got, w) {
			t.Errorf("chat %s got %q\nwant %q", chat, got, w)
		}
	}
	st, err := store.Open(context.Background(), filepath.Join(data, "waclaw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var notDone, outbox, dupTurns int
	st.DB().QueryRow(`SELECT count(*) FROM inbox WHERE state != 'done'`).Scan(&notDone)
	st.DB().QueryRow(`SELECT count(*) FROM outbox`).Scan(&outbox)
	st.DB().QueryRow(`SELECT count(*) FROM (SELECT platform_msg_id FROM messages WHERE role = 'user' GROUP BY platform_msg_id HAVING count(*) > 1)`).Scan(&dupTurns)
	if notDone != 0 || outbox != 0 || dupTurns != 0 {
		t.Errorf("after the restart: %d inbox rows not done, %d outbox rows left, %d messages stored twice in the history", notDone, outbox, dupTurns)
	}
	t.Logf("the model was asked %d times for %d messages", len(lm.Calls()), chats*msgs)
}
