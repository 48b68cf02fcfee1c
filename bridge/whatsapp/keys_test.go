package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"waclaw/agent/agenttest"
	"waclaw/bridge"
	"waclaw/config"
	"waclaw/store"
)

// openStore is a fresh waclaw database, closed when the test ends.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "waclaw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// olderBuildChat stores a conversation under chat the way a waclaw that
// keyed chats by WhatsApp's raw address left it: a turn of history,
// /privacy local, and a message still waiting to be answered.
func olderBuildChat(t *testing.T, st *store.Store, chat types.JID, words string) store.Session {
	t.Helper()
	ctx := context.Background()
	ss, err := st.ActiveSession(ctx, chat.String())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.AppendTurn(ctx, ss.ID, store.Message{Role: store.RoleUser, Text: words},
		store.Message{Role: store.RoleAssistant, Text: "Noted."}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetPrivacy(ctx, ss.ID, store.PrivacyLocal); err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(bridge.Inbound{ChatID: chat.String(), SenderID: chat.String(), Text: "still waiting", MessageID: "OLD1", Time: t0})
	if _, _, err := st.InboxAdd(ctx, store.InboxItem{ChatID: chat.String(), SenderID: chat.String(), MsgID: "OLD1", Payload: payload}); err != nil {
		t.Fatal(err)
	}
	return ss
}

// countingChats is the store, counting the moves asked of it, or failing
// them.
type countingChats struct {
	ChatStore
	mu    sync.Mutex
	moves []string
	err   error
}

func (c *countingChats) RekeyChat(ctx context.Context, from, to string, rewrite func([]byte) ([]byte, error)) (store.ChatMove, error) {
	c.mu.Lock()
	c.moves = append(c.moves, from+" -> "+to)
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return store.ChatMove{}, err
	}
	return c.ChatStore.RekeyChat(ctx, from, to, rewrite)
}

func (c *countingChats) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.moves)
}

// Alice's chat was stored under her LID by an older waclaw. Her next
// message shows her number: the chat moves to it, with its history,
// /privacy local and the message still waiting, and the bridge hears of
// her by number only. A second message does not move anything again.
func TestLIDChatMovesToNumber(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	old := olderBuildChat(t, st, aliceLI, "my name is Alice")
	chats := &countingChats{ChatStore: st}
	f := newFake()
	a, _, logs := testAdapter(t, f, Options{Chats: chats})
	h := &fakeHandler{}
	a.SetHandler(h)

	byLID := func(id string) bool {
		return f.deliver(msgEvent(aliceLI, device(aliceLI, 2), text("hi"), func(i *types.MessageInfo) {
			i.ID, i.SenderAlt, i.AddressingMode = id, device(alicePN, 2), types.AddressingModeLID
		}))
	}
	if !byLID("M1") || !byLID("M2") {
		t.Fatal("a message was not acknowledged")
	}
	for _, in := range h.ins {
		if in.ChatID != alicePN.String() || in.SenderID != alicePN.String() || in.SenderPhone != "+15552223333" {
			t.Errorf("the bridge got %s from %s (%s); want Alice's phone-number chat", in.ChatID, in.SenderID, in.SenderPhone)
		}
	}
	active, err := st.ActiveSession(ctx, alicePN.String())
	if err != nil || active.ID != old.ID || active.Privacy != store.PrivacyLocal {
		t.Errorf("Alice's session = %+v, %v; want the older build's session %d, still /privacy local", active, err, old.ID)
	}
	pending, _ := st.InboxPending(ctx)
	var waiting bridge.Inbound
	if len(pending) != 1 || json.Unmarshal(pending[0].Payload, &waiting) != nil ||
		waiting.ChatID != alicePN.String() || waiting.SenderPhone != "+15552223333" {
		t.Errorf("the waiting message = %+v (%s); want it under Alice's number, with her number", pending, waiting.ChatID)
	}
	if n := chats.count(); n != 1 {
		t.Errorf("%d moves asked of the store (%v); want one for Alice's LID", n, chats.moves)
	}
	if !strings.Contains(logs.String(), "moved a chat stored under a LID") || strings.Contains(logs.String(), "88882223333") {
		t.Errorf("the move is not logged, or is logged with a raw id:\n%s", logs)
	}
}

// A move the store cannot make leaves the message unacknowledged, so
// WhatsApp delivers it again; nothing reaches the bridge meanwhile.
func TestLIDChatMoveFails(t *testing.T) {
	st := openStore(t)
	olderBuildChat(t, st, aliceLI, "my name is Alice")
	chats := &countingChats{ChatStore: st, err: errors.New("database is locked")}
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{Chats: chats})
	h := &fakeHandler{}
	a.SetHandler(h)
	evt := msgEvent(aliceLI, aliceLI, text("hi"), func(i *types.MessageInfo) { i.SenderAlt = alicePN })
	if f.deliver(evt) {
		t.Fatal("acknowledged though the chat could not be moved")
	}
	if len(h.ins) != 0 {
		t.Errorf("the bridge got %+v", h.ins)
	}
	chats.mu.Lock()
	chats.err = nil
	chats.mu.Unlock()
	if !f.deliver(evt) || len(h.ins) != 1 {
		t.Fatalf("the redelivery: handled %d; want it taken", len(h.ins))
	}
	if active, _ := st.ActiveSession(context.Background(), alicePN.String()); active.Privacy != store.PrivacyLocal {
		t.Errorf("Alice's chat after the redelivery = %+v; want the moved one", active)
	}
}

// At start, every chat an older waclaw stored under a LID whose number
// the LID store knows moves to it, the self-chat to the account's own
// number; a LID nobody knows the number of stays.
func TestMoveStoredChats(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	stranger := types.NewJID("77770000000", types.HiddenUserServer)
	olderBuildChat(t, st, aliceLI, "my name is Alice")
	olderBuildChat(t, st, botLID, "notes to self")
	olderBuildChat(t, st, stranger, "who am I")
	f := newFake()
	f.lids[aliceLI] = alicePN
	a, _, _ := testAdapter(t, f, Options{Chats: st})
	if err := a.MoveStoredChats(ctx); err != nil {
		t.Fatalf("MoveStoredChats: %v", err)
	}
	for chat, words := range map[types.JID]string{alicePN: "my name is Alice", botPN: "notes to self", stranger: "who am I"} {
		ss, _ := st.ActiveSession(ctx, chat.String())
		recent, _ := st.RecentMessages(ctx, ss.ID, 10)
		if len(recent) != 2 || recent[0].Text != words || ss.Privacy != store.PrivacyLocal {
			t.Errorf("chat %s holds %v (privacy %q); want %q, /privacy local", chat, recent, ss.Privacy, words)
		}
	}
	left, _ := st.StoredChats(ctx, "@lid")
	if diff := cmp.Diff([]string{stranger.String()}, left); diff != "" {
		t.Errorf("chats left under LIDs (-want +got):\n%s", diff)
	}

	f.lidErr = errors.New("database is locked")
	if err := a.MoveStoredChats(ctx); err == nil || !strings.Contains(err.Error(), "database is locked") {
		t.Errorf("MoveStoredChats with the LID store failing = %v; want its error", err)
	}
}

// Replies, typing and read receipts go where the person wrote from, as
// before chats were keyed by number; after a restart the adapter knows
// only the number, and sends there (whatsmeow finds the LID).
func TestRepliesGoWhereThePersonWrote(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{})
	a.SetHandler(&fakeHandler{})
	f.deliver(&events.Connected{})
	f.deliver(msgEvent(aliceLI, device(aliceLI, 2), text("hi"), func(i *types.MessageInfo) { i.SenderAlt = alicePN }))
	key := alicePN.String()
	if err := a.Typing(t.Context(), key, true); err != nil {
		t.Fatal(err)
	}
	if err := a.Send(t.Context(), key, a.NewMessageID(), "hello", "M1"); err != nil {
		t.Fatal(err)
	}
	a.Typing(t.Context(), key, false)
	a.MarkRead(t.Context(), key, key, "M1")
	if len(f.sent) != 1 || f.sent[0].to != aliceLI {
		t.Errorf("the reply went to %v; want Alice's LID, where she wrote", f.sent)
	}
	if q := f.sent[0].msg.GetExtendedTextMessage().GetContextInfo().GetStanzaID(); q != "M1" {
		t.Errorf("the reply quotes %q; want M1 (quotes are kept by the chat's key)", q)
	}
	for _, p := range f.chatPres {
		if p.to != aliceLI {
			t.Errorf("typing went to %s; want Alice's LID", p.to)
		}
	}
	if len(f.reads) != 1 || f.reads[0].chat != aliceLI {
		t.Errorf("read receipts %+v; want one to Alice's LID", f.reads)
	}

	// She writes by number now: replies follow.
	f.deliver(msgEvent(alicePN, alicePN, text("again"), func(i *types.MessageInfo) { i.ID = "M2" }))
	a.Send(t.Context(), key, a.NewMessageID(), "hello again", "")
	if got := f.sent[len(f.sent)-1].to; got != alicePN {
		t.Errorf("after a message by number the reply went to %s; want %s", got, alicePN)
	}

	restarted, _, _ := testAdapter(t, newFake(), Options{})
	f2 := restarted.cli.(*fakeClient)
	restarted.Send(t.Context(), key, restarted.NewMessageID(), "after a restart", "")
	if len(f2.sent) != 1 || f2.sent[0].to != alicePN {
		t.Errorf("after a restart the reply went to %v; want the number", f2.sent)
	}
}

// One person, one chat, through the real bridge: Alice's conversation
// was stored under her LID by an older waclaw, with /privacy local. When
// she writes again (by LID, her number alongside), the bot still knows
// what she said, and when the local model is down her words do not go to
// the hosted fallback.
func TestOnePersonOneChat(t *testing.T) {
	local := agenttest.New(t, agenttest.LMStudio, "m")
	local.SetDefault(agenttest.Reply{Text: "You are Alice."})
	hosted := agenttest.New(t, agenttest.LMStudio, "m")
	hosted.SetDefault(agenttest.Reply{Text: "from the hosted model"})
	cfg, err := config.Parse("test", []byte(fmt.Sprintf(`{
	  agents: { defaults: { model: { primary: "local/m", fallbacks: ["hosted/m"] } } },
	  models: { mode: "replace", providers: {
	    local: { baseUrl: %q, api: "openai-responses", models: [{ id: "m" }] },
	    hosted: { baseUrl: %q, api: "openai-responses", local: false, models: [{ id: "m" }] },
	  } },
	  channels: { whatsapp: { allowFrom: ["+15552223333"] } },
	}`, local.URL, hosted.URL)), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	olderBuildChat(t, st, aliceLI, "my name is Alice")
	f := newFake()
	b := wireBot(t, f, cfg, st, Options{Chats: st}, bridge.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ask := func(id, words string) {
		t.Helper()
		f.deliver(msgEvent(aliceLI, device(aliceLI, 2), text(words), func(i *types.MessageInfo) {
			i.ID, i.Timestamp, i.SenderAlt = id, time.Now(), alicePN
		}))
		if err := b.Idle(ctx); err != nil {
			t.Fatal(err)
		}
	}

	ask("Q1", "what is my name?")
	reqs := local.Calls()
	if len(reqs) == 0 {
		t.Fatal("the local model was not asked")
	}
	words, _ := reqs[len(reqs)-1].Strings()
	if !strings.Contains(strings.Join(words, "\n"), "my name is Alice") {
		t.Errorf("the model was asked without what Alice said before:\n%q", words)
	}

	local.SetDefault(agenttest.Reply{Fault: agenttest.ServerError})
	ask("Q2", "and where do I live?")
	if n := len(hosted.Calls()); n != 0 {
		t.Errorf("the hosted model was asked %d times; Alice's chat is /privacy local", n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sent) < 2 {
		t.Fatalf("Alice got %d messages; want an answer and a word about the local model being down", len(f.sent))
	}
	for _, m := range f.sent {
		body := m.msg.GetConversation() + m.msg.GetExtendedTextMessage().GetText()
		if m.to != aliceLI || strings.Contains(body, "from the hosted model") {
			t.Errorf("sent %q to %s; want answers in Alice's chat, none from the hosted model", body, m.to)
		}
	}
}
