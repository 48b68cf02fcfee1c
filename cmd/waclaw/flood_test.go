package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"waclaw/agent/agenttest"
	"waclaw/bridge"
	"waclaw/bridge/console"
	"waclaw/store"
)

// floodResult is what a stranger flood left behind.
type floodResult struct {
	p                  *phone
	inboxRows, access  int
	dbBytes            int64
	maxRSSKB           int64
	elapsed            time.Duration
	modelRequests      int
	repliesPerStranger map[string]int
}

// flood sends 10,000 messages from 1,000 numbers nobody allowed to
// `waclaw chat --jsonl`, as WhatsApp would deliver a spam wave, and
// reports what the bot did and kept.
func flood(t *testing.T, whatsapp string) floodResult {
	t.Helper()
	const numbers, each = 1000, 10
	lm := agenttest.New(t, agenttest.LMStudio, "m")
	src := fmt.Sprintf(`{
	  agents: { defaults: { model: { primary: "lmstudio/m", fallbacks: [] } } },
	  models: { mode: "replace", providers: {
	    lmstudio: { baseUrl: %q, api: "openai-responses", models: [{ id: "m" }] },
	  } },
	  channels: { whatsapp: %s },
	}`, lm.URL, whatsapp)
	cfg := filepath.Join(t.TempDir(), "config.json5")
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	p := newPhone()
	start := time.Now()
	cmd, stdin, done := p.run(t, "--config", cfg, "--data-dir", data, "--log-level", "error")
	go func() {
		defer stdin.Close()
		enc := json.NewEncoder(stdin)
		for i := range each {
			for n := range numbers {
				number := fmt.Sprintf("+1555088%04d", n)
				in := bridge.Inbound{ChatID: number, SenderID: number, SenderPhone: number, PushName: "spam",
					MessageID: fmt.Sprintf("SPAM-%d-%d", n, i), Text: strings.Repeat("buy now ", 50), Time: time.Now()}
				if err := enc.Encode(in); err != nil {
					return
				}
			}
		}
	}()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("waclaw chat: %v", err)
	}
	<-done
	res := floodResult{p: p, elapsed: time.Since(start), modelRequests: len(lm.Calls()), repliesPerStranger: map[string]int{}}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.maxRSSKB = ru.Maxrss
	}
	_, acks := p.count()
	if acks != numbers*each || len(p.refused) > 0 || len(p.errors) > 0 {
		t.Errorf("%d of %d messages acknowledged; refused %v; errors %v", acks, numbers*each, p.refused, p.errors)
	}
	for chat, r := range p.replies {
		if chat != console.OwnerChat {
			res.repliesPerStranger[chat] = len(r)
		}
	}
	dbPath := filepath.Join(data, "waclaw.db")
	st, err := store.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.DB().QueryRow(`SELECT count(*) FROM inbox`).Scan(&res.inboxRows)
	st.DB().QueryRow(`SELECT count(*) FROM access`).Scan(&res.access)
	var pages, pageSize int64
	st.DB().QueryRow(`PRAGMA page_count`).Scan(&pages)
	st.DB().QueryRow(`PRAGMA page_size`).Scan(&pageSize)
	res.dbBytes = pages * pageSize
	t.Logf("10,000 messages from 1,000 strangers: %s; %d inbox rows, %d access rows, database %d KB, peak RSS %d MB, %d model requests",
		res.elapsed.Round(time.Millisecond), res.inboxRows, res.access, res.dbBytes>>10, res.maxRSSKB>>10, res.modelRequests)
	return res
}

// On a personal number (the default), a flood of strangers sees nothing
// at all, reaches no model, and leaves nothing in the database.
func TestStrangerFloodOnAPersonalNumber(t *testing.T) {
	res := flood(t, `{ admins: ["+15550000001"], allowFrom: ["+15550000002"] }`)
	replies, _ := res.p.count()
	if replies != 0 || res.modelRequests != 0 {
		t.Errorf("the flood got %d replies and %d model requests; want none", replies, res.modelRequests)
	}
	if res.inboxRows != 0 || res.access != 0 {
		t.Errorf("the flood left %d inbox rows and %d access rows; want none", res.inboxRows, res.access)
	}
}

// On a bot number, strangers may ask for pairing: each is answered at
// most once however many messages they send, the owner hears of each
// code once, and the database keeps a row per requester told something,
// never per message.
func TestStrangerFloodOnABotNumber(t *testing.T) {
	res := flood(t, `{ selfChatMode: false, admins: ["+15550000001"],
	  rateLimit: { outboundPerMinute: 1000000, outboundBurst: 100000 } }`)
	codes := 0
	for chat, n := range res.repliesPerStranger {
		if n > 1 {
			t.Errorf("%s got %d replies; want at most one", chat, n)
		}
	}
	res.p.mu.Lock()
	owner := res.p.replies[console.OwnerChat]
	for _, texts := range res.p.replies {
		for _, s := range texts {
			if strings.Contains(s, "valid for one hour") && !strings.Contains(s, "/pair approve") {
				codes++
			}
		}
	}
	res.p.mu.Unlock()
	if codes == 0 || len(owner) != codes {
		t.Errorf("%d codes went out and the owner heard of %d requests; want one notice per code", codes, len(owner))
	}
	seen := map[string]bool{}
	for _, s := range owner {
		for n := range 1000 {
			number := fmt.Sprintf("+1555088%04d", n)
			if strings.Contains(s, number) {
				if seen[number] {
					t.Errorf("the owner heard of %s twice", number)
				}
				seen[number] = true
			}
		}
	}
	if res.modelRequests != 0 {
		t.Errorf("%d model requests; want none", res.modelRequests)
	}
	if res.inboxRows > len(res.repliesPerStranger) || res.access > len(res.repliesPerStranger) {
		t.Errorf("%d inbox rows and %d access rows for %d strangers told something; want at most one row each",
			res.inboxRows, res.access, len(res.repliesPerStranger))
	}
	t.Logf("%d strangers got a code, %d were told something, the owner got %d notices", codes, len(res.repliesPerStranger), len(owner))
}
