package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"waclaw/agent/agenttest"
	"waclaw/bridge"
	"waclaw/bridge/console"
	"waclaw/config"
)

// What the people around the bot see, through `waclaw chat --jsonl` with
// the real config, store, access policy and bridge: each script is one
// run over the same data dir, and the replies are collected by chat.

const (
	ownerNumber  = "+15550000001"
	friendNumber = "+15550000002"
	strangerNum  = "+15550000003"
	theGroup     = "120363000000000001@g.us"
)

// jsonlRun runs one script through `waclaw chat --jsonl` and returns the
// replies by chat.
func jsonlRun(t *testing.T, cfg, data string, script ...bridge.Inbound) map[string][]string {
	t.Helper()
	lines := make([]string, len(script))
	for i, m := range script {
		if m.MessageID == "" {
			m.MessageID = fmt.Sprintf("M-%d-%d", time.Now().UnixNano(), i)
		}
		if m.Time.IsZero() {
			m.Time = time.Now()
		}
		line, _ := json.Marshal(m)
		lines[i] = string(line)
	}
	return jsonlLines(t, cfg, data, lines...)
}

// jsonlLines runs JSON lines through `waclaw chat --jsonl` and returns the
// replies by chat; a line refused is an error of the test.
func jsonlLines(t *testing.T, cfg, data string, lines ...string) map[string][]string {
	t.Helper()
	replies := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(jsonlOutput(t, cfg, data, lines...)))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var r struct {
			console.Reply
			console.Ack
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("unreadable line %q", sc.Text())
		}
		if r.Error != "" {
			t.Errorf("message %s refused: %s", r.Ack.Ack, r.Error)
		}
		if r.Reply.ID != "" {
			replies[r.Reply.Chat] = append(replies[r.Reply.Chat], r.Reply.Text)
		}
	}
	return replies
}

// jsonlOutput runs JSON lines through `waclaw chat --jsonl` and returns
// what it wrote.
func jsonlOutput(t *testing.T, cfg, data string, lines ...string) string {
	t.Helper()
	var out, errOut strings.Builder
	if err := run(context.Background(), []string{"--config", cfg, "--data-dir", data, "--log-level", "error", "chat", "--jsonl"},
		strings.NewReader(strings.Join(lines, "\n")+"\n"), &out, &errOut); err != nil {
		t.Fatalf("chat --jsonl: %v\n%s", err, errOut.String())
	}
	return out.String()
}

func dmFrom(number, text string) bridge.Inbound {
	return bridge.Inbound{ChatID: number, SenderID: number, SenderPhone: number, Text: text}
}

func inTheGroup(number, text string) bridge.Inbound {
	return bridge.Inbound{ChatID: theGroup, SenderID: number, SenderPhone: number, Text: text, IsGroup: true, MentionsMe: true}
}

// ownNumberConfig writes a config whose channels.whatsapp block is
// whatsapp, with one local model at url.
func ownNumberConfig(t *testing.T, url, whatsapp string) string {
	t.Helper()
	src := fmt.Sprintf(`{
	  agents: { defaults: { model: { primary: "lmstudio/m", fallbacks: [] } } },
	  models: { mode: "replace", providers: { lmstudio: { baseUrl: %q, api: "openai-responses", models: [{ id: "m" }] } } },
	  channels: { whatsapp: %s },
	}`, url, whatsapp)
	path := filepath.Join(t.TempDir(), "config.json5")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// On your own number: a stranger gets nothing, a friend an answer, and a
// friend's location or too-long message a short notice instead of a
// model's answer.
func TestOwnNumberThroughChat(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "m")
	lm.SetDefault(agenttest.Reply{Text: "hello from the model"})
	cfg := ownNumberConfig(t, lm.URL, fmt.Sprintf(`{ admins: [%q], allowFrom: [%q], groups: { %q: {} } }`, ownerNumber, friendNumber, theGroup))
	data := t.TempDir()

	place := dmFrom(friendNumber, "")
	place.ChatID, place.SenderID, place.SenderPhone = "+15550000004", "+15550000004", "+15550000004"
	place.Media = "location"
	got := jsonlRun(t, cfg, data,
		dmFrom(strangerNum, "hi, it's your cousin"),
		inTheGroup(strangerNum, "@bot who are you?"),
		dmFrom(friendNumber, "hello"),
	)
	if r := got[strangerNum]; len(r) != 0 {
		t.Errorf("a stranger writing to a personal number got %q; want nothing", r)
	}
	if r := got[theGroup]; len(r) != 0 {
		t.Errorf("a stranger in a listed group got %q; want nothing (groupAllowFrom follows who is allowed in DMs)", r)
	}
	if r := got[friendNumber]; len(r) != 1 || r[0] != "hello from the model" {
		t.Errorf("the friend got %q; want the model's answer", r)
	}

	cfg = ownNumberConfig(t, lm.URL, fmt.Sprintf(`{ admins: [%q], allowFrom: [%q, "+15550000004"], maxMessageChars: 500 }`, ownerNumber, friendNumber))
	before := len(lm.Calls())
	got = jsonlRun(t, cfg, data, dmFrom(friendNumber, strings.Repeat("long ", 200)), place)
	if r := got[friendNumber]; len(r) != 1 || !strings.Contains(r[0], "too long") {
		t.Errorf("a message over maxMessageChars got %q; want that it is too long", r)
	}
	if r := got["+15550000004"]; len(r) != 1 || !strings.Contains(r[0], "can't open that kind of message") {
		t.Errorf("a location got %q; want the notice that it cannot be opened", r)
	}
	if n := len(lm.Calls()) - before; n != 0 {
		t.Errorf("%d model requests for a too-long message and a location; want none", n)
	}
}

// On a bot number: a stranger gets a code and the owner hears who asked;
// an admin's /pair list in a group is answered in the admin's own chat; a
// friend who calls (the adapter rejects calls here) gets the call reply.
func TestBotNumberThroughChat(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "m")
	cfg := ownNumberConfig(t, lm.URL, fmt.Sprintf(`{ selfChatMode: false, admins: [%q], allowFrom: [%q], groups: { %q: {} } }`, ownerNumber, friendNumber, theGroup))
	data := t.TempDir()

	call := dmFrom(friendNumber, "")
	call.Media = "call"
	got := jsonlRun(t, cfg, data, dmFrom(strangerNum, "hello?"), call)
	if r := got[friendNumber]; len(r) != 1 || r[0] != config.DefaultCallReply {
		t.Errorf("a friend's call got %q; want the call reply", r)
	}
	code := codePattern.FindStringSubmatch(strings.Join(got[strangerNum], "\n"))
	if code == nil {
		t.Fatalf("a stranger on a bot number got %q; want a pairing code", got[strangerNum])
	}
	if owner := strings.Join(got[console.OwnerChat], "\n"); !strings.Contains(owner, strangerNum) || !strings.Contains(owner, "/pair approve "+code[1]) {
		t.Errorf("the owner was told %q; want who asked and how to approve", owner)
	}

	got = jsonlRun(t, cfg, data, inTheGroup(ownerNumber, "/pair list"))
	if r := got[theGroup]; len(r) != 1 || strings.Contains(r[0], strangerNum) || strings.Contains(r[0], code[1]) {
		t.Errorf("the group saw %q; want only a pointer to the private answer", r)
	}
	if r := strings.Join(got[ownerNumber], "\n"); !strings.Contains(r, strangerNum) || !strings.Contains(r, code[1]) {
		t.Errorf("the admin's own chat got %q; want the waiting request", r)
	}
	if n := len(lm.Calls()); n != 0 {
		t.Errorf("%d model requests; want none", n)
	}
}

// codePattern finds a pairing code in a reply (bold in WhatsApp markup).
var codePattern = regexp.MustCompile(`\*([A-Z2-9]{8})\*`)

// After three days down, a friend's six messages arrive at once through
// `waclaw chat --jsonl`: no answer, no rate-limit notice, one line saying
// they were not answered.
func TestBacklogThroughChat(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "m")
	cfg := ownNumberConfig(t, lm.URL, fmt.Sprintf(`{ allowFrom: [%q] }`, friendNumber))
	var script []bridge.Inbound
	for i := range 6 {
		m := dmFrom(friendNumber, fmt.Sprintf("are you there? (%d)", i))
		m.Time = time.Now().Add(-72 * time.Hour)
		script = append(script, m)
	}
	got := jsonlRun(t, cfg, t.TempDir(), script...)
	if r := got[friendNumber]; len(r) != 1 || !strings.Contains(r[0], "I was offline when you wrote") {
		t.Errorf("the backlog got %q; want one line saying the messages were not answered", r)
	}
	if n := len(lm.Calls()); n != 0 {
		t.Errorf("%d model requests for a three-day-old backlog; want none", n)
	}
}

// Moving the built-in LM Studio to another machine takes one line, and a
// key written in the file is used: `waclaw config check` says so.
func TestConfigCheckBuiltinOverrides(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      []string
		not       []string
	}{
		{"lmstudio moved", `{ models: { providers: { lmstudio: { baseUrl: "http://192.168.1.50:1234/v1" } } } }`,
			[]string{"primary:", "lmstudio/minimax-m2.1-gs32", "http://192.168.1.50:1234/v1"}, []string{"has no \"api\"", "lists no models"}},
		{"anthropic with its key in the file", `{ agents: { defaults: { model: { primary: "anthropic/claude-sonnet-4-5" } } },
		  models: { providers: { anthropic: { apiKey: "sk-ant-test-key" } } } }`,
			[]string{"primary:", "anthropic/claude-sonnet-4-5", "key set"}, []string{"ANTHROPIC_API_KEY is not set"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json5")
			if err := os.WriteFile(path, []byte(tt.src), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errOut strings.Builder
			t.Setenv("ANTHROPIC_API_KEY", "")
			err := run(context.Background(), []string{"config", "check", path}, strings.NewReader(""), &out, &errOut)
			all := out.String() + errOut.String()
			if err != nil {
				t.Fatalf("config check: %v\n%s", err, all)
			}
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("config check lacks %q:\n%s", w, all)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(all, w) {
					t.Errorf("config check says %q:\n%s", w, all)
				}
			}
		})
	}
}
