package bridge

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"waclaw/agent"
	"waclaw/agent/agenttest"
	"waclaw/bridge/whatsapp/markup"
	"waclaw/compaction"
	"waclaw/config"
	"waclaw/config/clock"
	"waclaw/store"
)

// sent is one message the fake channel delivered.
type sent struct {
	chat, text, quote, id string
}

// whatsAppFormat formats replies as the WhatsApp channel does, at limit
// characters a message (default 4000); the test channels embed it.
type whatsAppFormat struct{ limit int }

func (f whatsAppFormat) Format(md string) []string {
	return markup.Split(markup.ToWhatsApp(md), cmp.Or(f.limit, config.DefaultTextChunkLimit))
}

// fakeChannel records what the bridge sends.
type fakeChannel struct {
	whatsAppFormat
	mu     sync.Mutex
	sent   []sent
	typing []string
	read   []string
	n      int
	// fail, when set, decides whether a send fails (the connection is
	// down); tries records the id of every send attempted.
	fail  func() error
	tries []string
}

func (f *fakeChannel) NewMessageID() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return fmt.Sprintf("out-%d", f.n)
}

func (f *fakeChannel) Send(ctx context.Context, chatID, id, text, quoteID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tries = append(f.tries, id)
	if f.fail != nil {
		if err := f.fail(); err != nil {
			return err
		}
	}
	f.sent = append(f.sent, sent{chatID, text, quoteID, id})
	return nil
}

func (f *fakeChannel) Typing(ctx context.Context, chatID string, on bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.typing = append(f.typing, fmt.Sprintf("%s:%v", chatID, on))
	return nil
}

func (f *fakeChannel) MarkRead(ctx context.Context, chatID, senderID string, ids ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.read = append(f.read, ids...)
	return nil
}

// to returns the texts sent to chat, in order.
func (f *fakeChannel) to(chat string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.sent {
		if s.chat == chat {
			out = append(out, s.text)
		}
	}
	return out
}

func (f *fakeChannel) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

type harness struct {
	cfg   *config.Config
	store *store.Store
	srv   *agenttest.Server
	ch    *fakeChannel
	clock *clock.Manual
	b     *Bridge
	n     int
}

const (
	owner    = "+15550000001" // the admin in the config
	friend   = "+15550000002" // in allowFrom
	stranger = "+15550000003"
)

// newHarness builds a bridge over a fake model server; whatsapp is the
// channels.whatsapp block.
func newHarness(t testing.TB, whatsapp string) *harness {
	t.Helper()
	return newHarnessWith(t, whatsapp, "", "")
}

// newHarnessWith builds a bridge as newHarness does, with more providers
// (entries of models.providers) and tools as the config's tools block
// ("" for none).
func newHarnessWith(t testing.TB, whatsapp, providers, tools string) *harness {
	t.Helper()
	srv := agenttest.New(t, agenttest.LMStudio, "m")
	srv.SetResponder(func(r agenttest.Request) agenttest.Reply {
		return agenttest.Reply{Text: echo(r.Body)}
	})
	if whatsapp == "" {
		// A bot number: strangers may ask for pairing.
		whatsapp = fmt.Sprintf(`{ selfChatMode: false, admins: [%q], allowFrom: [%q] }`, owner, friend)
	}
	// Both providers point at one fake; the hosted model id is "m" too.
	cfg := testConfigWith(t, srv.URL, srv.URL, whatsapp, providers, tools)
	st := testStore(t, filepath.Join(t.TempDir(), "waclaw.db"))
	clk := clock.NewManual(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	st.SetClock(clk.Now)
	h := &harness{cfg: cfg, store: st, srv: srv, ch: &fakeChannel{whatsAppFormat: whatsAppFormat{cfg.WhatsApp.TextChunkLimit}}, clock: clk}
	h.b = wire(t, cfg, st, h.ch, agent.Options{Now: clk.Now}, Options{Now: clk.Now, Sleep: clk.Sleep, Owner: func() []string { return []string{"self"} }})
	if err := h.b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.b.Shutdown(context.Background()) })
	return h
}

// unlimited is a channels.whatsapp block that lets anyone in, with rate
// limits far above any test's pace.
const unlimited = `{ allowFrom: ["*"], rateLimit: { perMinute: 1000000, burst: 1000000, outboundPerMinute: 100000000, outboundBurst: 1000000 } }`

// testConfig is the bridge tests' config: primary local/m at localURL,
// fallback hosted/m at hostedURL, and whatsapp as the channels.whatsapp
// block.
func testConfig(t testing.TB, localURL, hostedURL, whatsapp string) *config.Config {
	t.Helper()
	return testConfigWith(t, localURL, hostedURL, whatsapp, "", "")
}

// testConfigWith is testConfig with more providers and tools as the
// tools block ("" for none).
func testConfigWith(t testing.TB, localURL, hostedURL, whatsapp, providers, tools string) *config.Config {
	t.Helper()
	if tools == "" {
		tools = "{}"
	}
	src := fmt.Sprintf(`{
	  agents: { defaults: { model: { primary: "local/m", fallbacks: ["hosted/m"] }, models: { "hosted/m": { alias: "Hosted One" }, "local/m": { alias: "Local" } } } },
	  models: { mode: "replace", providers: {
	    local: { baseUrl: %q, api: "openai-responses", models: [{ id: "m", contextWindow: 8192, maxTokens: 512 }] },
	    hosted: { baseUrl: %q, api: "openai-responses", local: false, models: [{ id: "m" }] },
	    %s
	  } },
	  channels: { whatsapp: %s },
	  tools: %s,
	}`, localURL, hostedURL, providers, whatsapp, tools)
	cfg, err := config.Parse("t", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// testStore opens the database at path, closed when the test ends.
func testStore(t testing.TB, path string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// lastInput is the content of the last input item of a request body.
func lastInput(body []byte) string { return agenttest.Request{Body: body}.LastInput() }

// echo is the fake model's answer in these tests: the user's text, back.
func echo(body []byte) string {
	if in := lastInput(body); in != "" {
		return "echo: " + in
	}
	return "echo"
}

// wire builds a bridge over cfg and st with a real agent and compaction.
// The agent records usage in st; both log nowhere unless a logger is set.
func wire(t testing.TB, cfg *config.Config, st *store.Store, ch Channel, ao agent.Options, bo Options) *Bridge {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	if ao.Logger == nil {
		ao.Logger = quiet
	}
	if bo.Logger == nil {
		bo.Logger = quiet
	}
	ao.Usage = st
	ag, err := agent.New(cfg, ao)
	if err != nil {
		t.Fatal(err)
	}
	return New(cfg, st, compaction.New(cfg, st, ag, ao.Logger), ag, ch, bo)
}

// dm is a direct message from number.
func (h *harness) dm(number, text string) Inbound {
	h.n++
	return Inbound{ChatID: number, SenderID: number, SenderPhone: number, Text: text,
		MessageID: fmt.Sprintf("in-%d", h.n), Time: h.clock.Now()}
}

// self is a message the owner types into the linked account's self-chat.
func (h *harness) self(text string) Inbound {
	h.n++
	return Inbound{ChatID: "self", SenderID: "self", FromSelf: true, SelfChat: true, Text: text,
		MessageID: fmt.Sprintf("in-%d", h.n), Time: h.clock.Now()}
}

// send hands in to the bridge and waits until it is fully handled.
func (h *harness) send(t testing.TB, in Inbound) {
	t.Helper()
	if err := h.b.Handle(context.Background(), in); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.b.Idle(ctx); err != nil {
		t.Fatalf("bridge never went idle: %v", err)
	}
}

// last returns the last text sent to chat, or "".
func (h *harness) last(chat string) string {
	out := h.ch.to(chat)
	if len(out) == 0 {
		return ""
	}
	return out[len(out)-1]
}
