package whatsapp

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/socket"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/google/go-cmp/cmp"

	"waclaw/bridge"
)

func TestSendBuildsMessage(t *testing.T) {
	groupQuestion := msgEvent(group, device(alicePN, 4), extText("@bot what time is it?", &waE2E.ContextInfo{
		MentionedJID: []string{botPN.String()}}), func(i *types.MessageInfo) { i.ID = "G1" })
	ephemeralQuestion := msgEvent(alicePN, alicePN, &waE2E.Message{EphemeralMessage: &waE2E.FutureProofMessage{
		Message: extText("psst", &waE2E.ContextInfo{Expiration: proto.Uint32(604800)})}}, func(i *types.MessageInfo) { i.ID = "E1" })

	tests := []struct {
		name    string
		inbound []any // delivered first
		chat    string
		quote   string
		wantTo  types.JID
		want    *waE2E.Message
	}{
		{
			name:    "DM",
			inbound: []any{msgEvent(alicePN, alicePN, text("hi"))},
			chat:    alicePN.String(),
			wantTo:  alicePN,
			want:    &waE2E.Message{Conversation: proto.String("hello there")},
		},
		{
			name:    "group quote",
			inbound: []any{groupQuestion},
			chat:    group.String(),
			quote:   "G1",
			wantTo:  group,
			want: &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{
				Text: proto.String("hello there"),
				ContextInfo: &waE2E.ContextInfo{
					StanzaID:      proto.String("G1"),
					Participant:   proto.String(alicePN.String()),
					QuotedMessage: &waE2E.Message{Conversation: proto.String("@bot what time is it?")},
				},
			}},
		},
		{
			name:    "quote of an unknown message is left out",
			inbound: []any{groupQuestion},
			chat:    group.String(),
			quote:   "NOPE",
			wantTo:  group,
			want:    &waE2E.Message{Conversation: proto.String("hello there")},
		},
		{
			name:    "ephemeral chat",
			inbound: []any{ephemeralQuestion},
			chat:    alicePN.String(),
			wantTo:  alicePN,
			want: &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{
				Text:        proto.String("hello there"),
				ContextInfo: &waE2E.ContextInfo{Expiration: proto.Uint32(604800)},
			}},
		},
		{
			name:    "ephemeral chat with a quote",
			inbound: []any{ephemeralQuestion},
			chat:    alicePN.String(),
			quote:   "E1",
			wantTo:  alicePN,
			want: &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{
				Text: proto.String("hello there"),
				ContextInfo: &waE2E.ContextInfo{
					StanzaID:      proto.String("E1"),
					Participant:   proto.String(alicePN.String()),
					QuotedMessage: &waE2E.Message{Conversation: proto.String("psst")},
					Expiration:    proto.Uint32(604800),
				},
			}},
		},
		{
			name:    "broadcast list message: quoted in the sender's DM",
			inbound: []any{msgEvent(list, alicePN, text("to all my friends"), asWhatsmeow, func(i *types.MessageInfo) { i.ID = "B1" })},
			chat:    alicePN.String(),
			quote:   "B1",
			wantTo:  alicePN,
			want: &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{
				Text: proto.String("hello there"),
				ContextInfo: &waE2E.ContextInfo{
					StanzaID:      proto.String("B1"),
					Participant:   proto.String(alicePN.String()),
					QuotedMessage: &waE2E.Message{Conversation: proto.String("to all my friends")},
				},
			}},
		},
		{
			name: "a message deleted for everyone is not quoted",
			inbound: []any{
				msgEvent(alicePN, alicePN, text("oops, my password"), func(i *types.MessageInfo) { i.ID = "P1" }),
				msgEvent(alicePN, alicePN, revoke("P1"), func(i *types.MessageInfo) { i.ID = "R1"; i.Edit = types.EditAttributeSenderRevoke }),
			},
			chat:   alicePN.String(),
			quote:  "P1",
			wantTo: alicePN,
			want:   &waE2E.Message{Conversation: proto.String("hello there")},
		},
		{
			name: "timer turned off",
			inbound: []any{ephemeralQuestion, msgEvent(alicePN, alicePN, &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
				Type: waE2E.ProtocolMessage_EPHEMERAL_SETTING.Enum(), EphemeralExpiration: proto.Uint32(0)}})},
			chat:   alicePN.String(),
			wantTo: alicePN,
			want:   &waE2E.Message{Conversation: proto.String("hello there")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			a, _, _ := testAdapter(t, f, Options{})
			a.SetHandler(&fakeHandler{})
			for _, evt := range tt.inbound {
				f.deliver(evt)
			}
			id := a.NewMessageID()
			err := a.Send(t.Context(), tt.chat, id, "hello there", tt.quote)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if len(f.sent) != 1 {
				t.Fatalf("sent %d messages; want 1", len(f.sent))
			}
			got := f.sent[0]
			if got.to != tt.wantTo || got.id != id || id == "" {
				t.Errorf("sent to %v with id %q; want %v and the id %q", got.to, got.id, tt.wantTo, id)
			}
			if diff := cmp.Diff(tt.want, got.msg, protocmp.Transform()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}

// A failed send says whether trying again later can help: the bridge
// keeps a reply whose send failed and sends it again under the same id,
// unless the error wraps bridge.ErrUndeliverable. While WhatsApp is not
// connected the adapter fails at once instead of holding the chat's
// worker; other failures get a short retry of its own.
func TestSendErrors(t *testing.T) {
	flaky := errors.New("failed to encrypt for device")
	tests := []struct {
		name          string
		errs          []error
		wantCalls     int
		wantErr       error // errors.Is must hold; nil for success
		undeliverable bool
		wantWaits     []time.Duration
	}{
		{name: "recovers", errs: []error{flaky}, wantCalls: 2, wantWaits: []time.Duration{time.Second}},
		{name: "bounded", errs: []error{flaky, flaky, flaky, flaky, flaky}, wantCalls: 3, wantErr: flaky,
			wantWaits: []time.Duration{time.Second, 2 * time.Second}},
		{name: "not connected", errs: []error{whatsmeow.ErrNotConnected}, wantCalls: 1, wantErr: whatsmeow.ErrNotConnected},
		{name: "usync while not connected", errs: []error{fmt.Errorf("failed to get device list: failed to send usync query: %w", whatsmeow.ErrNotConnected)},
			wantCalls: 1, wantErr: whatsmeow.ErrNotConnected},
		{name: "socket closed while sending", errs: []error{fmt.Errorf("failed to send frame: %w", socket.ErrSocketClosed)},
			wantCalls: 1, wantErr: socket.ErrSocketClosed},
		{name: "dropped before the answer", errs: []error{&whatsmeow.DisconnectedError{Action: "message send"}}, wantCalls: 1,
			wantErr: &whatsmeow.DisconnectedError{Action: "message send"}},
		{name: "no answer in time", errs: []error{whatsmeow.ErrMessageTimedOut}, wantCalls: 1, wantErr: whatsmeow.ErrMessageTimedOut},
		{name: "logged out", errs: []error{whatsmeow.ErrNotLoggedIn}, wantCalls: 1, wantErr: whatsmeow.ErrNotLoggedIn},
		{name: "server error passes with time", errs: slices.Repeat([]error{fmt.Errorf("%w %d", whatsmeow.ErrServerReturnedError, 479)}, 5),
			wantCalls: 3, wantErr: whatsmeow.ErrServerReturnedError, wantWaits: []time.Duration{time.Second, 2 * time.Second}},
		{name: "device JID", errs: []error{whatsmeow.ErrRecipientADJID}, wantCalls: 1, wantErr: whatsmeow.ErrRecipientADJID, undeliverable: true},
		{name: "unknown server", errs: []error{fmt.Errorf("%w %s", whatsmeow.ErrUnknownServer, "example")}, wantCalls: 1,
			wantErr: whatsmeow.ErrUnknownServer, undeliverable: true},
		{name: "broadcast list", errs: []error{whatsmeow.ErrBroadcastListUnsupported}, wantCalls: 1,
			wantErr: whatsmeow.ErrBroadcastListUnsupported, undeliverable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.sendErrs = tt.errs
			a, sl, _ := testAdapter(t, f, Options{})
			id := a.NewMessageID()
			err := a.Send(t.Context(), alicePN.String(), id, "hi", "")
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Send() error = %v; want success", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("Send() error = %v; want one that is %v", err, tt.wantErr)
			}
			if got := errors.Is(err, bridge.ErrUndeliverable); got != tt.undeliverable {
				t.Errorf("Send() error = %v: undeliverable %v; want %v", err, got, tt.undeliverable)
			}
			if len(f.sent) != tt.wantCalls {
				t.Errorf("SendMessage called %d times; want %d", len(f.sent), tt.wantCalls)
			}
			for _, s := range f.sent {
				if s.id != id {
					t.Errorf("a try used id %q; want the id given, %q, every time", s.id, id)
				}
			}
			if !slices.Equal(sl.all(), tt.wantWaits) {
				t.Errorf("waits %v; want %v", sl.all(), tt.wantWaits)
			}
		})
	}
}

// WhatsApp drops the connection for 30 s while a reply is being sent, far
// longer than the adapter's own retries. Every failed send returns at
// once, none is marked undeliverable, so the bridge sends again later
// (here a loop does what the bridge does, with its growing waits on a
// fake clock), and every try carries the same id: when the connection is
// back, the reply arrives, once.
func TestSendOutlastsAConnectionDrop(t *testing.T) {
	now := t0
	f := newFake()
	delivered := map[types.MessageID]int{}
	f.sendHook = func(to types.JID, id types.MessageID) error {
		switch {
		case now.Before(t0.Add(2 * time.Second)):
			return fmt.Errorf("failed to send frame: %w", socket.ErrSocketClosed)
		case now.Before(t0.Add(30 * time.Second)):
			return whatsmeow.ErrNotConnected
		}
		delivered[id]++
		return nil
	}
	a, sl, _ := testAdapter(t, f, Options{})
	id := a.NewMessageID()
	wait := time.Second
	var tries int
	for {
		tries++
		err := a.Send(t.Context(), alicePN.String(), id, "the answer", "")
		if err == nil {
			break
		}
		if errors.Is(err, bridge.ErrUndeliverable) {
			t.Fatalf("try %d at +%s: %v: marked undeliverable, so the reply would be lost", tries, now.Sub(t0), err)
		}
		if tries > 20 {
			t.Fatalf("still failing after %d tries: %v", tries, err)
		}
		now = now.Add(wait)
		wait *= 2
	}
	if got := sl.all(); len(got) != 0 {
		t.Errorf("the adapter waited %v itself while WhatsApp was not connected; want it to return at once", got)
	}
	if len(delivered) != 1 || delivered[id] != 1 {
		t.Errorf("delivered %v; want the reply once, under %q", delivered, id)
	}
	for _, s := range f.sent {
		if s.id != id {
			t.Errorf("a try used id %q; want %q every time", s.id, id)
		}
	}
	if tries < 3 {
		t.Errorf("%d tries; the fake's outage was not exercised", tries)
	}
}

func TestSendBadChat(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{})
	for _, chat := range []string{"", "s.whatsapp.net"} {
		err := a.Send(t.Context(), chat, a.NewMessageID(), "hi", "")
		if !errors.Is(err, bridge.ErrUndeliverable) {
			t.Errorf("Send(%q) error = %v; want it undeliverable", chat, err)
		}
	}
	if len(f.sent) != 0 {
		t.Errorf("sent %v", f.sent)
	}
}

func TestMarkRead(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{})
	if err := a.MarkRead(t.Context(), group.String(), "15552223333:4@s.whatsapp.net", "G1", "G2"); err != nil {
		t.Fatal(err)
	}
	if err := a.MarkRead(t.Context(), alicePN.String(), alicePN.String()); err != nil {
		t.Fatal(err) // nothing to mark
	}
	want := []readCall{{ids: []types.MessageID{"G1", "G2"}, chat: group, sender: alicePN}}
	if diff := cmp.Diff(want, f.reads, cmp.AllowUnexported(readCall{})); diff != "" {
		t.Errorf("MarkRead calls (-want +got):\n%s", diff)
	}
}

// The WhatsApp channel shows a Markdown reply in WhatsApp's own markup and
// splits it at the configured limit, never inside a code block.
func TestFormat(t *testing.T) {
	a, _, _ := testAdapter(t, newFake(), Options{TextChunkLimit: 100})
	if got := a.Format("It's **4**, _roughly_.\n\n# Why\n\n- two\n- plus two"); !slices.Equal(got, []string{"It's *4*, _roughly_.\n\n*Why*\n\n- two\n- plus two"}) {
		t.Errorf("Format = %q; want WhatsApp markup in one message", got)
	}
	code := "```\n" + strings.Repeat("x := 1\n", 10) + "```"
	long := strings.Repeat("word ", 15) + "\n\n" + code
	parts := a.Format(long)
	if len(parts) != 2 || parts[1] != code {
		t.Errorf("Format of %d characters at a limit of 100 = %q; want the text, then the code block whole", len(long), parts)
	}
	for i, p := range parts {
		if n := len([]rune(p)); n > 100 {
			t.Errorf("part %d has %d characters; limit 100", i, n)
		}
	}
	if got := a.Format(" \n\n "); len(got) != 0 {
		t.Errorf("Format of blank text = %q; want no message", got)
	}
	if a, _, _ := testAdapter(t, newFake(), Options{}); len(a.Format(strings.Repeat("a ", 2500))) != 2 {
		t.Errorf("with no limit set, a 5000-character reply is not split in two at the default %d", DefaultTextChunkLimit)
	}
}
