package bridge

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"waclaw/agent"
	"waclaw/store"
)

// media is a message from number with only an attachment of kind.
func (h *harness) media(number, kind string) Inbound {
	in := h.dm(number, "")
	in.Media = kind
	return in
}

// A picture from someone the bot answers gets one short notice that it
// cannot be read, however many follow in the next minutes; nobody else
// learns anything, and no model is asked.
func TestMediaNotice(t *testing.T) {
	const group = "120363000000000001@g.us"
	h := newHarness(t, fmt.Sprintf(`{ admins: [%q], allowFrom: [%q], groups: { %q: { requireMention: false } } }`, owner, friend, group))
	h.send(t, h.media(friend, "image"))
	h.send(t, h.media(friend, "voice note"))
	if got := h.ch.to(friend); !slices.Equal(got, []string{mediaNotice}) {
		t.Errorf("an allowed sender's two pictures got %q; want the notice once", got)
	}
	h.clock.Advance(mediaNoticeEvery)
	h.send(t, h.media(friend, "sticker"))
	if n := len(h.ch.to(friend)); n != 2 {
		t.Errorf("after %s the notice went out %d times in all; want a second one", mediaNoticeEvery, n)
	}

	before := inboxStates(t, h)
	h.send(t, h.media(stranger, "image"))
	inGroup := h.media(friend, "image")
	inGroup.ChatID, inGroup.IsGroup = group, true
	h.send(t, inGroup)
	if len(h.ch.to(stranger)) != 0 || len(h.ch.to(group)) != 0 {
		t.Errorf("a stranger got %q and a group %q; want nothing: no notice, no pairing code", h.ch.to(stranger), h.ch.to(group))
	}
	if after := inboxStates(t, h); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("inbox went from %v to %v; a stranger's or a group's picture is not even stored", before, after)
	}

	// A picture with a caption is a question like any other.
	withCaption := h.media(friend, "image")
	withCaption.Text = "what is in this picture?"
	h.send(t, withCaption)
	if got := h.last(friend); got != "echo: what is in this picture?" {
		t.Errorf("a captioned picture got %q; want the caption answered", got)
	}
	if n := len(modelCalls(h)); n != 1 {
		t.Errorf("%d model calls; want only the caption's", n)
	}
}

// The media notice takes the one way out like any reply: it waits its turn
// at the outbound limit, is recorded before it is sent, and a stop while
// it waits sends it after the restart under the id recorded for it, once.
func TestMediaNoticeGoesOutLikeAnyReply(t *testing.T) {
	h := newHarness(t, fmt.Sprintf(`{ allowFrom: [%q], rateLimit: { outboundPerMinute: 1, outboundBurst: 1 } }`, friend))
	ctx := context.Background()
	// A real sleep: the notice waits a minute for the outbound limit.
	b := wire(t, h.cfg, h.store, h.ch, agent.Options{}, Options{Now: h.clock.Now, DrainTimeout: 50 * time.Millisecond})
	if err := b.Handle(ctx, h.dm(friend, "hello")); err != nil {
		t.Fatal(err)
	}
	if err := b.Idle(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Handle(ctx, h.media(friend, "image")); err != nil {
		t.Fatal(err)
	}
	var recorded []store.OutboxPart
	for deadline := time.Now().Add(10 * time.Second); len(recorded) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the notice was never recorded in the outbox")
		}
		recorded, _ = h.store.Outbox(ctx, 2)
	}
	b.Shutdown(ctx) // the stop comes while the notice waits for the limit
	if got := h.ch.to(friend); !slices.Equal(got, []string{"echo: hello"}) {
		t.Fatalf("sent %q before the stop; want only the answer: the notice waits for the outbound limit", got)
	}
	if len(recorded) != 1 || recorded[0].Text != mediaNotice {
		t.Fatalf("outbox holds %+v; want the notice", recorded)
	}

	restart(t, h)
	h.ch.mu.Lock()
	got := slices.Clone(h.ch.sent)
	h.ch.mu.Unlock()
	want := []sent{{friend, "echo: hello", "", "out-1"}, {friend, mediaNotice, "", recorded[0].MsgID}}
	if !slices.Equal(got, want) {
		t.Errorf("sent %+v; want the answer, then the notice once under its recorded id", got)
	}
	if it, _, _ := h.store.InboxGet(ctx, 2); it.State != store.InboxSkipped || it.Reason != "media without text (image)" {
		t.Errorf("the picture's row ended %s (%q)", it.State, it.Reason)
	}
	checkFinished(t, h)
}
