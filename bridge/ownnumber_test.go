package bridge

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"waclaw/agent/agenttest"
	"waclaw/store"
)

// On your own number: what the people who write to you see of the bot.

// A stranger who writes to a personal number sees no sign of the bot: no
// reply, no blue ticks, no typing, and nothing of theirs is stored. The
// owner sees in /status that they were not answered.
func TestStrangerLeavesNoTrace(t *testing.T) {
	h := newHarness(t, fmt.Sprintf(`{ admins: [%q], allowFrom: [%q] }`, owner, friend)) // selfChatMode: true by default
	for i := range 20 {
		h.send(t, h.dm(stranger, fmt.Sprintf("hi mum, it's me %d", i)))
	}
	h.ch.mu.Lock()
	sentN, typing, read := len(h.ch.sent), len(h.ch.typing), len(h.ch.read)
	h.ch.mu.Unlock()
	if sentN+typing+read != 0 {
		t.Errorf("a stranger saw %d replies, %d typing indicators, %d read receipts; want none", sentN, typing, read)
	}
	if states := inboxStates(t, h); len(states) != 0 {
		t.Errorf("a stranger's messages were stored: %v", states)
	}
	h.send(t, h.self("/status"))
	status := h.last("self")
	if !strings.Contains(status, "20 messages from people not allowed") {
		t.Errorf("/status does not count the unanswered messages:\n%s", status)
	}
	if !strings.Contains(status, "personal number") || !strings.Contains(status, "strangers get no answer") {
		t.Errorf("/status does not say the bot runs on a personal number and what strangers meet:\n%s", status)
	}
}

// Blue ticks go only to chats the bot answers: a friend's message is
// marked read, a stranger asking for pairing is not.
func TestReadReceiptsOnlyWhereAnswered(t *testing.T) {
	h := newHarness(t, fmt.Sprintf(`{ dmPolicy: "pairing", admins: [%q], allowFrom: [%q] }`, owner, friend))
	fromFriend, fromStranger := h.dm(friend, "hello"), h.dm(stranger, "hello")
	h.send(t, fromFriend)
	h.send(t, fromStranger)
	h.ch.mu.Lock()
	read := slices.Clone(h.ch.read)
	h.ch.mu.Unlock()
	if !slices.Equal(read, []string{fromFriend.MessageID}) {
		t.Errorf("read receipts for %v; want only the friend's %s", read, fromFriend.MessageID)
	}
}

// A stranger asking for pairing gets a code, and the owner is told who
// asked and how to approve; the stranger's text is not stored.
func TestPairingRequestTellsTheOwner(t *testing.T) {
	h := newHarness(t, fmt.Sprintf(`{ dmPolicy: "pairing", admins: [%q], allowFrom: [%q] }`, owner, friend))
	in := h.dm(stranger, "my bank password is hunter2")
	in.PushName = "Eve"
	h.send(t, in)
	m := codeRe.FindStringSubmatch(h.last(stranger))
	if m == nil {
		t.Fatalf("stranger got %q; want a pairing code", h.last(stranger))
	}
	told := h.last("self")
	for _, want := range []string{stranger, `"Eve"`, "/pair approve " + m[1]} {
		if !strings.Contains(told, want) {
			t.Errorf("the owner was told %q; want it to contain %q", told, want)
		}
	}
	var payload string
	h.store.DB().QueryRow(`SELECT payload FROM inbox`).Scan(&payload)
	if strings.Contains(payload, "hunter2") {
		t.Errorf("a stranger's text was stored: %s", payload)
	}
	// Asking again tells nobody anything new.
	h.send(t, h.dm(stranger, "hello?"))
	if n, m := len(h.ch.to(stranger)), len(h.ch.to("self")); n != 1 || m != 1 {
		t.Errorf("after a second message: %d messages to the stranger, %d to the owner; want 1 and 1", n, m)
	}
}

// In a group, an admin's command whose answer names people or codes is
// answered in the admin's own chat; the group only hears where it went.
// A command about the group itself is answered there.
func TestGroupCommandAnswersPrivately(t *testing.T) {
	const group = "120363000000000001@g.us"
	h := newHarness(t, fmt.Sprintf(`{ dmPolicy: "pairing", admins: [%q], allowFrom: [%q], groups: { %q: {} } }`, owner, friend, group))
	h.send(t, h.dm(stranger, "hi")) // a pairing request is waiting
	inGroup := func(text string) Inbound {
		in := h.dm(owner, text)
		in.ChatID, in.IsGroup, in.MentionsMe = group, true, true
		return in
	}
	h.send(t, inGroup("/pair list"))
	if got := h.ch.to(group); len(got) != 1 || got[0] != privateAnswerNotice {
		t.Errorf("the group saw %q; want only %q", got, privateAnswerNotice)
	}
	if !strings.Contains(h.last(owner), stranger) {
		t.Errorf("the admin's own chat got %q; want the pending list", h.last(owner))
	}
	h.send(t, inGroup("/status"))
	if strings.Contains(strings.Join(h.ch.to(group), "\n"), "Model:") {
		t.Errorf("/status was answered in the group")
	}
	h.send(t, inGroup("/model"))
	if !strings.Contains(h.last(group), "Model:") {
		t.Errorf("/model in a group = %q; want it answered there", h.last(group))
	}
	// A member who is not an admin cannot run commands in the group.
	member := h.dm(friend, "/pair list")
	member.ChatID, member.IsGroup, member.MentionsMe = group, true, true
	h.send(t, member)
	if strings.Contains(strings.Join(h.ch.to(group), "\n")+strings.Join(h.ch.to(friend), "\n"), stranger) {
		t.Error("a member who is not an admin saw the pending pairing requests")
	}
}

// A message deleted for everyone while it waits is not answered, and once
// answered it is blanked in history: no later request carries it.
func TestDeletedMessage(t *testing.T) {
	h := newHarness(t, "")
	release := make(chan struct{})
	h.srv.SetResponder(func(r agenttest.Request) agenttest.Reply {
		if strings.Contains(lastInput(r.Body), "slow") {
			<-release
		}
		return agenttest.Reply{Text: echo(r.Body)}
	})
	secret := h.dm(friend, "my PIN is 4321")
	h.send(t, secret)
	slow, waiting := h.dm(friend, "slow question"), h.dm(friend, "sent by mistake")
	ctx := context.Background()
	for _, in := range []Inbound{slow, waiting} {
		if err := h.b.Handle(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{waiting.MessageID, secret.MessageID} {
		del := h.dm(friend, "")
		del.Revokes = id
		if err := h.b.Handle(ctx, del); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	if err := h.b.Idle(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range h.ch.to(friend) {
		if strings.Contains(s, "by mistake") {
			t.Errorf("a deleted message was answered: %q", s)
		}
	}
	h.clock.Advance(time.Minute) // the rate limit refills
	h.send(t, h.dm(friend, "what did I tell you?"))
	calls := modelCalls(h)
	if last := string(calls[len(calls)-1].Body); strings.Contains(last, "4321") || strings.Contains(last, "by mistake") {
		t.Errorf("a deleted message reached the model again:\n%s", last)
	}
}

// A message over maxMessageChars never reaches a model, whole or in part:
// the sender is told, and the inbox holds no more than the cap.
func TestTooLongMessage(t *testing.T) {
	h := newHarness(t, fmt.Sprintf(`{ admins: [%q], allowFrom: [%q], maxMessageChars: 1000 }`, owner, friend))
	long := h.dm(friend, strings.Repeat("ä", 5000))
	long.QuotedText = strings.Repeat("q", 100000)
	h.send(t, long)
	if got := h.last(friend); !strings.Contains(got, "too long") || !strings.Contains(got, "5000") || !strings.Contains(got, "1000") {
		t.Errorf("the sender was told %q; want that it is too long, with both lengths", got)
	}
	if n := len(modelCalls(h)); n != 0 {
		t.Errorf("%d model requests for a message over the cap; want none", n)
	}
	var size int
	h.store.DB().QueryRow(`SELECT length(payload) FROM inbox`).Scan(&size)
	if size > 4000 {
		t.Errorf("the inbox holds %d bytes of a message capped at 1000 characters", size)
	}
	h.send(t, h.dm(friend, strings.Repeat("b", 1000)))
	if got := h.last(friend); !strings.HasPrefix(got, "echo: bbb") {
		t.Errorf("a message of exactly the cap got %q; want it answered", got)
	}
}

// A message deleted in a group (the deletion mentions nobody) is blanked
// in the group's history too.
func TestDeletedGroupMessage(t *testing.T) {
	const group = "120363000000000001@g.us"
	h := newHarness(t, fmt.Sprintf(`{ allowFrom: [%q], groups: { %q: {} } }`, friend, group))
	ask := h.dm(friend, "@bot my PIN is 4321")
	ask.ChatID, ask.IsGroup, ask.MentionsMe = group, true, true
	h.send(t, ask)
	del := h.dm(friend, "")
	del.ChatID, del.IsGroup, del.Revokes = group, true, ask.MessageID
	h.send(t, del)
	next := h.dm(friend, "@bot what did I say?")
	next.ChatID, next.IsGroup, next.MentionsMe = group, true, true
	h.send(t, next)
	calls := modelCalls(h)
	if len(calls) != 2 || strings.Contains(string(calls[1].Body), "4321") {
		t.Errorf("after the deletion the model got:\n%s", calls[len(calls)-1].Body)
	}
}

// A call from someone the bot answers gets the call reply (once in a
// while); from a stranger, nothing. Calls are never marked read.
func TestCallReply(t *testing.T) {
	h := newHarness(t, fmt.Sprintf(`{ dmPolicy: "pairing", admins: [%q], allowFrom: [%q], callReply: "No calls, please write." }`, owner, friend))
	h.send(t, h.media(friend, "call"))
	h.send(t, h.media(stranger, "call"))
	if got := h.ch.to(friend); !slices.Equal(got, []string{"No calls, please write."}) {
		t.Errorf("a friend's call got %q", got)
	}
	if got := h.ch.to(stranger); len(got) != 0 {
		t.Errorf("a stranger's call got %q; want nothing", got)
	}
	h.ch.mu.Lock()
	read := len(h.ch.read)
	h.ch.mu.Unlock()
	if read != 0 {
		t.Errorf("%d read receipts for calls; want none", read)
	}

	quiet := newHarness(t, fmt.Sprintf(`{ allowFrom: [%q], callReply: "" }`, friend))
	quiet.send(t, quiet.media(friend, "call"))
	if n := quiet.ch.count(); n != 0 {
		t.Errorf("with callReply \"\" a call got %d messages; want none", n)
	}
}

// Finished inbox rows are pruned after inboxRetention; a waiting one is
// kept.
func TestInboxRetention(t *testing.T) {
	h := newHarness(t, fmt.Sprintf(`{ allowFrom: [%q], inboxRetention: "24h" }`, friend))
	for i := range 5 {
		h.send(t, h.dm(friend, fmt.Sprintf("old %d", i)))
		h.clock.Advance(time.Minute)
	}
	h.clock.Advance(25 * time.Hour)
	h.send(t, h.dm(friend, "new"))
	if states := inboxStates(t, h); states[store.InboxDone] != 1 || len(states) != 1 {
		t.Errorf("inbox after a day = %v; want only the new message", states)
	}
}
