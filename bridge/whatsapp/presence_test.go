package whatsapp

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mau.fi/whatsmeow/types/events"
)

// handTicks hands out typing-refresh tickers that the test ticks by hand,
// in the order the refreshers ask for them.
type handTicks struct {
	made chan chan time.Time
}

func newHandTicks(a *Adapter) *handTicks {
	h := &handTicks{made: make(chan chan time.Time, 16)}
	a.newTicker = func(time.Duration) (<-chan time.Time, func()) {
		ch := make(chan time.Time)
		h.made <- ch
		return ch, func() {}
	}
	return h
}

// next is the next refresher's ticker.
func (h *handTicks) next(t *testing.T) chan time.Time {
	t.Helper()
	select {
	case ch := <-h.made:
		return ch
	case <-time.After(10 * time.Second):
		t.Fatal("no typing refresher started")
		return nil
	}
}

// seenNow is what contacts have seen so far.
func (f *fakeClient) seenNow() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

// waitSeen waits until contacts have seen n presence updates.
func waitSeen(t *testing.T, f *fakeClient, n int) []string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if got := f.seenNow(); len(got) >= n {
			return got
		}
	}
	t.Fatalf("contacts saw %q; want %d updates", f.seenNow(), n)
	return nil
}

func checkSeen(t *testing.T, f *fakeClient, want []string) {
	t.Helper()
	if diff := cmp.Diff(want, f.seenNow()); diff != "" {
		t.Errorf("what contacts see (-want +got):\n%s", diff)
	}
}

// Alice and Bob are two chats; the fake names a chat by its user.
const (
	aliceChat = "15552223333@s.whatsapp.net"
	bobChat   = "15554445555@s.whatsapp.net"
)

// Connecting never shows the owner online: the account says unavailable
// as soon as it connects, and again when WhatsApp sends the push name.
func TestPresenceOnConnect(t *testing.T) {
	f := newFake()
	f.deliver(&events.Connected{}) // no adapter yet: nothing
	testAdapter(t, f, Options{})
	f.deliver(&events.Connected{})
	f.deliver(&events.PushNameSetting{})
	checkSeen(t, f, []string{"unavailable", "unavailable"})
	f.deliver(&events.Disconnected{})
	f.deliver(&events.PushNameSetting{}) // not connected: nothing to send on
	f.deliver(&events.Connected{})
	checkSeen(t, f, []string{"unavailable", "unavailable", "unavailable"})
}

// A freshly paired device has no push name until app state brings it;
// WhatsApp needs the name with a presence, so the presence waits for it.
func TestPresenceWaitsForPushName(t *testing.T) {
	f := newFake()
	f.pushName = ""
	testAdapter(t, f, Options{})
	f.deliver(&events.Connected{})
	checkSeen(t, f, nil)
	f.mu.Lock()
	f.pushName = "Bot" // whatsmeow stores it from app state, then emits the event
	f.mu.Unlock()
	f.deliver(&events.PushNameSetting{})
	checkSeen(t, f, []string{"unavailable"})
}

// While a reply is typed the account is available; when it is sent the
// account goes back to unavailable, and Alice's phone keeps ringing for
// her other messages.
func TestTypingOneChat(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{})
	newHandTicks(a)
	f.deliver(&events.Connected{})
	if err := a.Typing(t.Context(), aliceChat, true); err != nil {
		t.Fatal(err)
	}
	if err := a.Typing(t.Context(), aliceChat, false); err != nil {
		t.Fatal(err)
	}
	a.bg.Wait()
	checkSeen(t, f, []string{
		"unavailable",
		"available", "composing 15552223333",
		"paused 15552223333", "unavailable",
	})
}

// Two chats typing at once: available once, and unavailable only when
// the second stops.
func TestTypingTwoChats(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{})
	newHandTicks(a)
	f.deliver(&events.Connected{})
	for _, step := range []struct {
		chat string
		on   bool
	}{{aliceChat, true}, {bobChat, true}, {aliceChat, false}, {bobChat, false}} {
		if err := a.Typing(t.Context(), step.chat, step.on); err != nil {
			t.Fatal(err)
		}
	}
	a.bg.Wait()
	checkSeen(t, f, []string{
		"unavailable",
		"available", "composing 15552223333",
		"composing 15554445555",
		"paused 15552223333",
		"paused 15554445555", "unavailable",
	})
}

// A long answer: every refresh says available and typing again, so
// neither lapses; after the answer the account is unavailable and nothing
// more is sent.
func TestTypingLongAnswer(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{})
	ticks := newHandTicks(a)
	f.deliver(&events.Connected{})
	if err := a.Typing(t.Context(), aliceChat, true); err != nil {
		t.Fatal(err)
	}
	tick := ticks.next(t)
	tick <- t0
	waitSeen(t, f, 5)
	tick <- t0
	waitSeen(t, f, 7)
	if err := a.Typing(t.Context(), aliceChat, false); err != nil {
		t.Fatal(err)
	}
	a.bg.Wait() // the refresher has stopped
	checkSeen(t, f, []string{
		"unavailable",
		"available", "composing 15552223333",
		"available", "composing 15552223333",
		"available", "composing 15552223333",
		"paused 15552223333", "unavailable",
	})
}

// Typing that nobody turns off ends by itself after typingMax, and the
// account goes back to unavailable.
func TestTypingLeftOn(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{TypingRefresh: typingMax / 2})
	ticks := newHandTicks(a)
	f.deliver(&events.Connected{})
	if err := a.Typing(t.Context(), aliceChat, true); err != nil {
		t.Fatal(err)
	}
	tick := ticks.next(t)
	tick <- t0
	tick <- t0
	a.bg.Wait()
	checkSeen(t, f, []string{
		"unavailable",
		"available", "composing 15552223333",
		"available", "composing 15552223333",
		"available", "composing 15552223333",
		"paused 15552223333", "unavailable",
	})
	// Turning it off later still clears the chat, once more.
	if err := a.Typing(t.Context(), aliceChat, false); err != nil {
		t.Fatal(err)
	}
	if got := f.seenNow(); got[len(got)-1] != "paused 15552223333" {
		t.Errorf("last update %q; want paused (the account is unavailable already)", got[len(got)-1])
	}
}

// A connection that drops while a reply is typed comes back available,
// since the reply is still being typed.
func TestTypingAcrossReconnect(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{})
	newHandTicks(a)
	f.deliver(&events.Connected{})
	if err := a.Typing(t.Context(), aliceChat, true); err != nil {
		t.Fatal(err)
	}
	f.deliver(&events.Disconnected{})
	f.deliver(&events.Connected{})
	if err := a.Typing(t.Context(), aliceChat, false); err != nil {
		t.Fatal(err)
	}
	a.bg.Wait()
	checkSeen(t, f, []string{
		"unavailable",
		"available", "composing 15552223333",
		"available",
		"paused 15552223333", "unavailable",
	})
}
