package whatsapp

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/socket"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"waclaw/agent"
	"waclaw/agent/agenttest"
	"waclaw/bridge"
	"waclaw/compaction"
	"waclaw/config"
	"waclaw/config/clock"
	"waclaw/store"
)

// A stranger flood through the real adapter and the real bridge, with
// whatsmeow's own event types: what WhatsApp would see of the account.

// liveBot wires the adapter over a fake client to a real bridge, store,
// history and agent (against a fake model server), as `waclaw run` does.
func liveBot(t *testing.T, f *fakeClient, whatsapp string, bo ...bridge.Options) (*bridge.Bridge, *store.Store, *agenttest.Server) {
	t.Helper()
	lm := agenttest.New(t, agenttest.LMStudio, "m")
	lm.SetDefault(agenttest.Reply{Text: "hello from the model"})
	src := fmt.Sprintf(`{
	  agents: { defaults: { model: { primary: "lmstudio/m", fallbacks: [] } } },
	  models: { mode: "replace", providers: { lmstudio: { baseUrl: %q, api: "openai-responses", models: [{ id: "m" }] } } },
	  channels: { whatsapp: %s },
	}`, lm.URL, whatsapp)
	var opts bridge.Options
	if len(bo) > 0 {
		opts = bo[0]
	}
	b, st := liveBotFrom(t, f, src, opts)
	return b, st, lm
}

// liveBotFrom is liveBot on the config src, with a store of its own.
func liveBotFrom(t *testing.T, f *fakeClient, src string, bo bridge.Options) (*bridge.Bridge, *store.Store) {
	t.Helper()
	cfg, err := config.Parse("test", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "waclaw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return wireBot(t, f, cfg, st, Options{}, bo), st
}

// wireBot wires the adapter over f to a real bridge, history and agent on
// cfg and st, starts the bridge and connects, as `waclaw run` does; the
// logs are discarded.
func wireBot(t *testing.T, f *fakeClient, cfg *config.Config, st *store.Store, opts Options, bo bridge.Options) *bridge.Bridge {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	ag, err := agent.New(cfg, agent.Options{Logger: quiet, Usage: st})
	if err != nil {
		t.Fatal(err)
	}
	opts.Logger, opts.RejectCalls = quiet, cfg.WhatsApp.RejectCalls
	a, _, _ := testAdapter(t, f, opts)
	bo.Logger = quiet
	bo.Owner = func() []string { return OwnerChats(phoneOf(f.pn), cfg.WhatsApp.Admins, cfg.WhatsApp.SelfChatMode) }
	b := bridge.New(cfg, st, compaction.New(cfg, st, ag, quiet), ag, a, bo)
	a.SetHandler(b)
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Shutdown(context.Background()) })
	f.deliver(&events.Connected{})
	return b
}

// deliverAndWait hands evt to the adapter, which must acknowledge it, and
// waits until the bridge has answered everything it took.
func deliverAndWait(t *testing.T, f *fakeClient, b *bridge.Bridge, evt any) {
	t.Helper()
	if !f.deliver(evt) {
		t.Fatalf("%T was not acknowledged", evt)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.Idle(ctx); err != nil {
		t.Fatal(err)
	}
}

// floodOfStrangers delivers 10,000 messages from 1,000 numbers, ten
// rounds of one each, and returns how many whatsmeow would acknowledge.
func floodOfStrangers(t *testing.T, f *fakeClient) (acked int) {
	t.Helper()
	now := time.Now()
	for i := range 10 {
		for n := range 1000 {
			from := types.NewJID(fmt.Sprintf("1555077%04d", n), types.DefaultUserServer)
			evt := msgEvent(from, from, text(strings.Repeat("win a prize ", 40)), func(mi *types.MessageInfo) {
				mi.ID, mi.Timestamp, mi.PushName = fmt.Sprintf("SPAM%d-%d", n, i), now, "Prize Team"
			})
			if f.deliver(evt) {
				acked++
			}
		}
	}
	return acked
}

func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// On a personal number a flood of strangers leaves no trace anyone could
// see: no reply, no read receipt, no typing, never "online"; nothing is
// stored, memory stays bounded, and the one friend who writes meanwhile
// is answered as usual.
func TestStrangerFloodOnAPersonalNumber(t *testing.T) {
	f := newFake()
	b, st, lm := liveBot(t, f, `{ admins: ["+15550000001"], allowFrom: ["+15552223333"] }`)
	before := heapAfterGC()
	start := time.Now()
	acked := floodOfStrangers(t, f)
	friend := msgEvent(alicePN, alicePN, text("hello"), func(mi *types.MessageInfo) { mi.ID, mi.Timestamp = "FRIEND1", time.Now() })
	if !f.deliver(friend) {
		t.Fatal("the friend's message was not acknowledged")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.Idle(ctx); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	grown := int64(heapAfterGC()) - int64(before)

	if acked != 10000 {
		t.Errorf("%d of 10000 stranger messages acknowledged; want all (WhatsApp would deliver the rest again)", acked)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.sent {
		if m.to != alicePN {
			t.Errorf("sent a message to %s", m.to)
		}
	}
	for _, r := range f.reads {
		if r.chat != alicePN {
			t.Errorf("a read receipt went to %s", r.chat)
		}
	}
	for _, p := range f.chatPres {
		if p.to != alicePN {
			t.Errorf("%s saw %s", p.to, p.state)
		}
	}
	if len(f.sent) != 1 || len(f.reads) != 1 {
		t.Errorf("the friend got %d messages and %d read receipts; want 1 and 1", len(f.sent), len(f.reads))
	}
	if len(f.presences) == 0 || f.presences[len(f.presences)-1] != types.PresenceUnavailable {
		t.Errorf("presences sent %v; want the account to end unavailable", f.presences)
	}
	var rows int
	st.DB().QueryRow(`SELECT count(*) FROM inbox`).Scan(&rows)
	if rows != 1 {
		t.Errorf("%d inbox rows; want only the friend's", rows)
	}
	if n := len(lm.Calls()); n != 1 {
		t.Errorf("%d model requests; want only the friend's", n)
	}
	// Bounded: the adapter keeps at most its quote snippets, the bridge
	// counts; 10,000 messages of 480 bytes are 4.8 MB of text.
	if grown > 16<<20 {
		t.Errorf("the heap grew by %d MB over the flood; want it bounded", grown>>20)
	}
	t.Logf("personal number: 10,000 stranger messages in %s; %d inbox rows; heap grew %d KB", elapsed.Round(time.Millisecond), rows, grown>>10)
}

// On a bot number the strangers may ask for pairing: nobody gets a read
// receipt, nobody gets more than one message, the owner hears of each code
// once, and the database keeps one row per requester told something.
func TestStrangerFloodOnABotNumber(t *testing.T) {
	f := newFake()
	b, st, lm := liveBot(t, f, `{ selfChatMode: false, admins: ["+15550000001"],
	  rateLimit: { outboundPerMinute: 10000000, outboundBurst: 100000 } }`)
	start := time.Now()
	acked := floodOfStrangers(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.Idle(ctx); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	if acked != 10000 {
		t.Errorf("%d of 10000 messages acknowledged; want all", acked)
	}
	owner := types.NewJID("15550000001", types.DefaultUserServer)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reads) != 0 {
		t.Errorf("%d read receipts went to strangers; want none", len(f.reads))
	}
	perChat := map[types.JID]int{}
	var codes, notices int
	for _, m := range f.sent {
		perChat[m.to]++
		body := m.msg.GetConversation() + m.msg.GetExtendedTextMessage().GetText()
		switch {
		case m.to == owner && strings.Contains(body, "/pair approve"):
			notices++
		case strings.Contains(body, "valid for one hour"):
			codes++
		}
	}
	for chat, n := range perChat {
		if chat != owner && n > 1 {
			t.Errorf("%s got %d messages; want at most one", chat, n)
		}
	}
	if codes == 0 || notices != codes || perChat[owner] != codes {
		t.Errorf("%d codes, %d notices to the owner (%d messages); want one notice per code", codes, notices, perChat[owner])
	}
	var rows int
	st.DB().QueryRow(`SELECT count(*) FROM inbox`).Scan(&rows)
	if rows > len(perChat) {
		t.Errorf("%d inbox rows for %d chats told something; want at most one each", rows, len(perChat))
	}
	if n := len(lm.Calls()); n != 0 {
		t.Errorf("%d model requests; want none", n)
	}
	t.Logf("bot number: 10,000 stranger messages in %s; %d codes, %d strangers told, %d inbox rows",
		elapsed.Round(time.Millisecond), codes, len(perChat)-1, rows)
}

// WhatsApp drops the connection for 30 s while a reply goes out (a socket
// closed mid-send, then "not connected" while whatsmeow reconnects): the
// reply arrives once the connection is back, once, under the id it was
// recorded with, and the row ends done.
func TestReplyAfterAConnectionDrop(t *testing.T) {
	f := newFake()
	clk := clock.NewManual(time.Now())
	start := clk.Now()
	var tries []types.MessageID
	delivered := 0
	f.sendHook = func(to types.JID, id types.MessageID) error {
		tries = append(tries, id)
		switch {
		case clk.Now().Before(start.Add(2 * time.Second)):
			return fmt.Errorf("failed to send frame: %w", socket.ErrSocketClosed)
		case clk.Now().Before(start.Add(30 * time.Second)):
			return whatsmeow.ErrNotConnected
		}
		delivered++
		return nil
	}
	b, st, _ := liveBot(t, f, `{ allowFrom: ["+15552223333"] }`, bridge.Options{Now: clk.Now, Sleep: clk.Sleep})
	deliverAndWait(t, f, b, msgEvent(alicePN, alicePN, text("hello"), func(mi *types.MessageInfo) { mi.ID, mi.Timestamp = "ASK1", clk.Now() }))
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(tries) < 3 || slices.ContainsFunc(tries, func(id types.MessageID) bool { return id != tries[0] }) || delivered != 1 {
		t.Errorf("send attempts under %v, %d delivered; want several, all under one id, delivered once", tries, delivered)
	}
	var state string
	st.DB().QueryRow(`SELECT state FROM inbox WHERE msg_id = 'ASK1'`).Scan(&state)
	if state != string(store.InboxDone) {
		t.Errorf("the message ended %q; want done", state)
	}
	if waited := clk.Now().Sub(start); waited < 30*time.Second {
		t.Errorf("the reply went out %s after the message; the connection was down for 30 s", waited)
	}
	t.Logf("%d tries over %s, all under %s", len(tries), clk.Now().Sub(start), tries[0])
}
