package bridge

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"waclaw/bridge/access"
	"waclaw/store"
)

func TestAllowedSenderGetsAnAnswer(t *testing.T) {
	h := newHarness(t, "")
	h.send(t, h.dm(friend, "hello there"))
	if got := h.last(friend); got != "echo: hello there" {
		t.Errorf("reply = %q", got)
	}
	if len(h.srv.Calls()) != 1 {
		t.Errorf("model requests = %d", len(h.srv.Calls()))
	}
}

func TestAllowlistIgnoresStrangersSilently(t *testing.T) {
	h := newHarness(t, fmt.Sprintf(`{ dmPolicy: "allowlist", allowFrom: [%q] }`, friend))
	h.send(t, h.dm(stranger, "hi"))
	if h.ch.count() != 0 || len(h.srv.Calls()) != 0 {
		t.Errorf("a stranger under allowlist got %d replies, %d model calls", h.ch.count(), len(h.srv.Calls()))
	}
	pending, _ := h.store.InboxPending(context.Background())
	if len(pending) != 0 {
		t.Errorf("ignored message left pending: %v", pending)
	}
}

func TestDisabledIgnoresAllDMs(t *testing.T) {
	h := newHarness(t, fmt.Sprintf(`{ dmPolicy: "disabled", allowFrom: [%q] }`, friend))
	h.send(t, h.dm(friend, "hi"))
	if h.ch.count() != 0 {
		t.Errorf("disabled DMs answered: %v", h.ch.to(friend))
	}
	h.send(t, h.self("/status"))
	if !strings.Contains(h.last("self"), "Model:") {
		t.Errorf("the self-chat stops working with DMs disabled: %q", h.last("self"))
	}
}

var codeRe = regexp.MustCompile(`\*([A-Z2-9]{8})\*`)

func TestPairing(t *testing.T) {
	h := newHarness(t, "")
	h.send(t, h.dm(stranger, "hi, who are you?"))
	reply := h.last(stranger)
	m := codeRe.FindStringSubmatch(reply)
	if m == nil || !strings.Contains(reply, "one hour") {
		t.Fatalf("pairing reply = %q; want an 8-character code and its validity", reply)
	}
	code := m[1]
	if strings.ContainsAny(code, "01OIL") {
		t.Errorf("code %q has look-alike characters", code)
	}
	if len(h.srv.Calls()) != 0 {
		t.Error("an unpaired message reached the model")
	}
	// Repeated messages do not mint new codes or get answers.
	h.send(t, h.dm(stranger, "hello?"))
	h.send(t, h.dm(stranger, "hello??"))
	if n := len(h.ch.to(stranger)); n != 1 {
		t.Errorf("stranger got %d replies; want the one code", n)
	}
	// An admin approves it; the requester is told.
	h.send(t, h.self("/pair list"))
	if !strings.Contains(h.last("self"), code) || !strings.Contains(h.last("self"), stranger) {
		t.Errorf("/pair list = %q", h.last("self"))
	}
	h.send(t, h.self("/pair approve "+strings.ToLower(code)))
	if !strings.Contains(h.last("self"), stranger+" is approved") || !strings.Contains(h.last(stranger), "approved") {
		t.Errorf("approve: admin saw %q, requester %q", h.last("self"), h.last(stranger))
	}
	h.send(t, h.dm(stranger, "thanks"))
	if h.last(stranger) != "echo: thanks" {
		t.Errorf("after approval: %q", h.last(stranger))
	}
	h.send(t, h.self("/pair approve "+code))
	if !strings.Contains(h.last("self"), "that code was already approved") {
		t.Errorf("reusing a code: %q; want already approved", h.last("self"))
	}
}

func TestPairingCodesExpireAndAreCapped(t *testing.T) {
	h := newHarness(t, "")
	number := func(i int) string { return fmt.Sprintf("+155500001%02d", i) }
	for i := range access.MaxPending + 2 {
		h.send(t, h.dm(number(i), "hi"))
	}
	got := 0
	for i := range access.MaxPending + 2 {
		if codeRe.MatchString(h.last(number(i))) {
			got++
		}
	}
	if got != access.MaxPending {
		t.Errorf("%d of %d new senders got codes; want %d", got, access.MaxPending+2, access.MaxPending)
	}
	late := number(access.MaxPending + 1)
	if s := h.last(late); !strings.Contains(s, "too many requests") {
		t.Errorf("a sender over the cap was told %q; want that too many requests are waiting", s)
	}
	// An hour later the codes have expired: approving fails; a sender
	// whose code expired unanswered gets nothing more today; one who was
	// told to wait gets a code now that there is room.
	first := codeRe.FindStringSubmatch(h.last(number(0)))[1]
	h.clock.Advance(61 * time.Minute)
	h.send(t, h.self("/pair approve "+first))
	if !strings.Contains(h.last("self"), "expired") {
		t.Errorf("approving an expired code: %q", h.last("self"))
	}
	h.send(t, h.dm(number(0), "me again"))
	if n := len(h.ch.to(number(0))); n != 1 {
		t.Errorf("a sender whose code expired unanswered got %d messages; want only the first code", n)
	}
	h.send(t, h.dm(late, "me again"))
	if !codeRe.MatchString(h.last(late)) {
		t.Errorf("a sender told to wait, asking again when there is room, got %q; want a code", h.last(late))
	}
	h.clock.Advance(access.PairingCooldown)
	h.send(t, h.dm(number(0), "one more try"))
	again := codeRe.FindStringSubmatch(h.last(number(0)))
	if again == nil || again[1] == first {
		t.Errorf("a day later the sender got %q; want a new code", h.last(number(0)))
	}
}

func TestSelfChatAndEchoes(t *testing.T) {
	h := newHarness(t, "")
	h.send(t, h.self("what is 2+2?"))
	if h.last("self") != "echo: what is 2+2?" {
		t.Fatalf("self-chat reply = %q", h.last("self"))
	}
	// The bot's own reply comes back as a message from the linked account:
	// it must not be taken as input.
	echo := Inbound{ChatID: "self", SenderID: "self", FromSelf: true, SelfChat: true, Text: "echo: what is 2+2?", MessageID: "out-1", Time: h.clock.Now()}
	h.send(t, echo)
	// The owner writing to someone else from the linked phone is never
	// answered.
	h.send(t, Inbound{ChatID: friend, SenderID: "self", FromSelf: true, Text: "see you tomorrow", MessageID: "own-1", Time: h.clock.Now()})
	if n := len(h.srv.Calls()); n != 1 {
		t.Errorf("model calls = %d; want only the owner's question", n)
	}
	if len(h.ch.to(friend)) != 0 {
		t.Error("the bot answered the owner's conversation with someone else")
	}
}

func TestGroups(t *testing.T) {
	const group = "120363000000000001@g.us"
	h := newHarness(t, fmt.Sprintf(`{ admins: [%q], allowFrom: [%q], groups: { %q: {} } }`, owner, friend, group))
	msg := func(text string, mention bool) Inbound {
		in := h.dm(friend, text)
		in.ChatID, in.IsGroup, in.MentionsMe = group, true, mention
		return in
	}
	// A member nobody allowed reaches no model, even mentioning the bot.
	fromStranger := h.dm(stranger, "@bot answer me")
	fromStranger.ChatID, fromStranger.IsGroup, fromStranger.MentionsMe = group, true, true
	h.send(t, fromStranger)
	h.send(t, msg("chatter among friends", false))
	if h.ch.count() != 0 {
		t.Fatal("answered a group message that did not mention the bot")
	}
	h.send(t, msg("@bot what's the time?", true))
	out := h.ch.to(group)
	if len(out) != 1 || out[0] != "echo: @bot what's the time?" {
		t.Fatalf("mentioned in a listed group: %v", out)
	}
	if h.ch.sent[0].quote == "" {
		t.Error("a group reply should quote the message it answers")
	}
	reply := msg("thanks", false)
	reply.RepliesToMe = true
	h.send(t, reply)
	if len(h.ch.to(group)) != 2 {
		t.Error("a reply to the bot in a group was not answered")
	}
	other := msg("@bot hi", true)
	other.ChatID = "120363000000000002@g.us"
	h.send(t, other)
	if len(h.ch.to(other.ChatID)) != 0 {
		t.Error("answered in a group that is not listed")
	}

	// groupAllowFrom "*" lets every member of a listed group in.
	open := newHarness(t, fmt.Sprintf(`{ groupAllowFrom: ["*"], groups: { %q: {} } }`, group))
	open.send(t, fromStranger)
	if got := open.ch.to(group); len(got) != 1 {
		t.Errorf("with groupAllowFrom \"*\" a member's mention got %q; want an answer", got)
	}
}

func TestDeniedNumberIsIgnored(t *testing.T) {
	h := newHarness(t, "")
	h.send(t, h.self("/deny "+stranger))
	h.send(t, h.dm(stranger, "hi"))
	if len(h.ch.to(stranger)) != 0 {
		t.Errorf("a blocked number got %v", h.ch.to(stranger))
	}
	h.send(t, h.self("/allow "+stranger))
	h.send(t, h.dm(stranger, "hi again"))
	if h.last(stranger) != "echo: hi again" {
		t.Errorf("after /allow: %q", h.last(stranger))
	}
}

func TestDuplicatesAreAnsweredOnce(t *testing.T) {
	h := newHarness(t, "")
	in := h.dm(friend, "once please")
	h.send(t, in)
	h.send(t, in)
	if n := len(h.ch.to(friend)); n != 1 {
		t.Errorf("a redelivered message was answered %d times", n)
	}
}

// After three days down, six messages from a friend arrive at once: none
// is answered, none gets a rate-limit notice, and the friend hears once
// that they came in late and were not answered. A stranger's backlog gets
// nothing, and a fresh message is answered as usual.
func TestBacklogAfterDowntime(t *testing.T) {
	h := newHarness(t, "")
	for i := range 6 {
		in := h.dm(friend, fmt.Sprintf("old news %d", i))
		in.Time = h.clock.Now().Add(-72 * time.Hour)
		h.send(t, in)
		old := h.dm(stranger, "hello?")
		old.Time = in.Time
		h.send(t, old)
	}
	if got := h.ch.to(friend); !slices.Equal(got, []string{backlogNotice}) {
		t.Errorf("the friend's backlog got %q; want one line saying it was not answered", got)
	}
	if got := h.ch.to(stranger); len(got) != 0 {
		t.Errorf("a stranger's backlog got %q; want nothing", got)
	}
	if n := len(modelCalls(h)); n != 0 {
		t.Errorf("%d model requests for stale messages; want none", n)
	}
	if items, _ := h.store.InboxPending(context.Background()); len(items) != 0 {
		t.Errorf("%d stale messages still pending", len(items))
	}
	h.send(t, h.dm(friend, "are you back?"))
	if got := h.last(friend); got != "echo: are you back?" {
		t.Errorf("a fresh message after the backlog got %q", got)
	}
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, fmt.Sprintf(`{ admins: [%q], allowFrom: [%q], rateLimit: { perMinute: 6, burst: 3 } }`, owner, friend))
	for i := range 6 {
		h.send(t, h.dm(friend, fmt.Sprintf("message %d", i)))
	}
	out := h.ch.to(friend)
	if len(out) != 4 || !strings.Contains(out[3], "faster than I can answer") {
		t.Fatalf("replies = %q; want 3 answers, then one notice, then silence", out)
	}
	h.clock.Advance(20 * time.Second) // two tokens back
	h.send(t, h.dm(friend, "later"))
	if h.last(friend) != "echo: later" {
		t.Errorf("after the bucket refilled: %q", h.last(friend))
	}
	var skipped int
	h.store.DB().QueryRow(`SELECT count(*) FROM inbox WHERE state = ? AND reason = 'rate limited'`, store.InboxSkipped).Scan(&skipped)
	if skipped != 1 {
		t.Errorf("rate-limited messages recorded: %d; want only the one that got the notice", skipped)
	}
}
