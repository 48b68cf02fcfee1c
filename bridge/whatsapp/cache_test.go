package whatsapp

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"
)

// A flood of long messages from many chats, each with a disappearing
// timer, leaves the adapter's memory of them bounded: at most quoteMemory
// quotes of at most quoteSnippet characters, and timerMemory timers.
// Group chatter not addressed to the bot is not kept at all.
func TestCachesStayBounded(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{})
	h := &fakeHandler{}
	a.SetHandler(h)
	long := strings.Repeat("blah ", 4000) // 20 KB
	const chats = timerMemory + 1000
	for i := range chats {
		ci := &waE2E.ContextInfo{Expiration: proto.Uint32(86400)}
		chat := types.NewJID(fmt.Sprintf("1555%07d", i), types.DefaultUserServer)
		if i%2 == 1 {
			chat = types.NewJID(fmt.Sprintf("120363%012d", i), types.GroupServer)
		}
		if !f.deliver(msgEvent(chat, alicePN, extText(long, ci), func(mi *types.MessageInfo) { mi.ID = fmt.Sprintf("F%d", i) })) {
			t.Fatalf("message %d not acknowledged", i)
		}
	}
	if len(h.ins) != chats {
		t.Fatalf("the bridge got %d messages; want all %d", len(h.ins), chats)
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	if n := len(a.msgs.m); n != quoteMemory || len(a.msgs.order) != quoteMemory {
		t.Errorf("quotes kept: %d (order %d); want %d", n, len(a.msgs.order), quoteMemory)
	}
	for id, ref := range a.msgs.m {
		if strings.HasPrefix(ref.chat, "120363") {
			t.Errorf("kept %s from a group that did not address the bot", id)
		}
		if n := utf8.RuneCountInString(ref.text); n > quoteSnippet+1 {
			t.Errorf("quote %s keeps %d characters; want at most %d", id, n, quoteSnippet+1)
		}
	}
	if n := len(a.timers.m); n > timerMemory || len(a.timers.order) > timerMemory {
		t.Errorf("timers kept: %d (order %d); want at most %d", n, len(a.timers.order), timerMemory)
	}
	// The newest DM is still quotable, with the beginning of its text.
	last := fmt.Sprintf("F%d", chats-2)
	if ref, ok := a.msgs.get(last); !ok || !strings.HasPrefix(long, strings.TrimSuffix(ref.text, "…")) || !strings.HasSuffix(ref.text, "…") {
		t.Errorf("newest message %s: kept %v, text %.40q...; want its first words and an ellipsis", last, ok, ref.text)
	}
	if timer, _ := a.timers.get(types.NewJID(fmt.Sprintf("1555%07d", chats-2), types.DefaultUserServer).String()); timer != 86400 {
		t.Errorf("the newest chat's timer = %d; want 86400", timer)
	}
}

// A group message that mentions the bot or replies to it is kept for
// quoting, as its sender wrote it; other group messages are not.
func TestGroupQuotesOnlyWhenAddressed(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{})
	a.SetHandler(&fakeHandler{})
	msgs := []struct {
		id   string
		msg  *waE2E.Message
		kept string
	}{
		{"G1", text("lunch at noon?"), ""},
		{"G2", extText("@99990001111 /status", &waE2E.ContextInfo{MentionedJID: []string{botLID.String()}}), "@99990001111 /status"},
		{"G3", extText("thanks!", &waE2E.ContextInfo{StanzaID: proto.String("3EB0B1"), Participant: proto.String(botPN.String())}), "thanks!"},
		{"G4", extText("@88882223333 you?", &waE2E.ContextInfo{MentionedJID: []string{aliceLI.String()}}), ""},
	}
	for _, m := range msgs {
		f.deliver(msgEvent(group, alicePN, m.msg, func(i *types.MessageInfo) { i.ID = m.id }))
	}
	for _, m := range msgs {
		ref, ok := a.msgs.get(m.id)
		if ok != (m.kept != "") || ref.text != m.kept {
			t.Errorf("%s: kept %v with %q; want %q", m.id, ok, ref.text, m.kept)
		}
	}
}

func TestSnippet(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 5, "hello"},
		{"hello!", 5, "hello…"},
		{"héllo wörld", 7, "héllo w…"},
		{"", 5, ""},
	} {
		if got := snippet(tt.in, tt.n); got != tt.want {
			t.Errorf("snippet(%q, %d) = %q; want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
