package whatsapp

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"
)

// FuzzInbound builds message events from arbitrary text, captions, mention
// and quote JIDs and chat and sender JIDs: converting one never panics, and
// a message passed on to the bridge has text and an id.
func FuzzInbound(f *testing.F) {
	f.Add("hi", "", "", "", alicePN.String(), alicePN.String(), uint8(0), false)
	f.Add("@15550001111 hello", "", botPN.String(), alicePN.String(), group.String(), "15552223333:3@s.whatsapp.net", uint8(1), false)
	f.Add("", "a cat", botLID.String(), botLID.String(), aliceLI.String(), aliceLI.String(), uint8(2), false)
	f.Add("/status", "", "", "", botPN.String(), botPN.String(), uint8(0), true)
	f.Add("secret", "", "", "", botLID.String(), "99990001111:2@lid", uint8(3), true)
	f.Add("news", "", "", "", "120363000000000002@newsletter", "", uint8(0), false)
	f.Add("x", "", "", "", "status@broadcast", alicePN.String(), uint8(0), false)
	f.Add("\xff\x00\u202e", "\u200b", "@", ":@", "@lid", ".0:1@s.whatsapp.net", uint8(4), false)
	f.Add("", "", "", "", "", "", uint8(5), false)

	fake := newFake()
	fake.lids[aliceLI] = alicePN
	a := NewWithClient(fake, Options{
		Logger: slog.New(slog.DiscardHandler),
		Now:    func() time.Time { return t0 },
		Sleep:  func(context.Context, time.Duration) error { return nil },
	})
	f.Cleanup(a.Close)

	f.Fuzz(func(t *testing.T, body, caption, mention, participant, chatS, senderS string, kind uint8, fromMe bool) {
		chat, err := types.ParseJID(chatS)
		if err != nil {
			t.Skip()
		}
		sender, err := types.ParseJID(senderS)
		if err != nil {
			t.Skip()
		}
		ci := &waE2E.ContextInfo{
			MentionedJID:  []string{mention},
			StanzaID:      proto.String(participant),
			Participant:   proto.String(participant),
			QuotedMessage: &waE2E.Message{Conversation: proto.String(caption)},
		}
		var msg *waE2E.Message
		switch kind % 6 {
		case 0:
			msg = &waE2E.Message{Conversation: proto.String(body)}
		case 1:
			msg = &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: proto.String(body), ContextInfo: ci}}
		case 2:
			msg = &waE2E.Message{ImageMessage: &waE2E.ImageMessage{Caption: proto.String(caption), ContextInfo: ci}}
		case 3:
			msg = &waE2E.Message{EphemeralMessage: &waE2E.FutureProofMessage{Message: &waE2E.Message{
				ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: proto.String(body), ContextInfo: ci}}}}
		case 4:
			msg = &waE2E.Message{DocumentWithCaptionMessage: &waE2E.FutureProofMessage{Message: &waE2E.Message{
				DocumentMessage: &waE2E.DocumentMessage{Caption: proto.String(caption), ContextInfo: ci}}}}
		case 5:
			msg = &waE2E.Message{ViewOnceMessageV2: &waE2E.FutureProofMessage{Message: &waE2E.Message{
				VideoMessage: &waE2E.VideoMessage{Caption: proto.String(body), ContextInfo: ci}}}}
		}
		evt := msgEvent(chat, sender, msg, func(i *types.MessageInfo) { i.IsFromMe = fromMe })
		in, reason, _ := a.inbound(evt)
		if reason != "" {
			return
		}
		if (in.Text == "" && in.Media == "") || in.MessageID == "" {
			t.Errorf("inbound() passed on %+v with no ignore reason; want text or media, and an id", in)
		}
		if in.FromSelf && !in.SelfChat {
			t.Errorf("inbound() passed on the linked account's message outside its self-chat: %+v", in)
		}
		if in.Text != body && in.Text != caption && !(in.MentionsMe && strings.HasSuffix(body, in.Text)) {
			t.Errorf("inbound() text = %q; want the body %q (without a leading mention of the bot) or the caption %q", in.Text, body, caption)
		}
		// The raw, not yet unwrapped form converts the same.
		raw := &events.Message{Info: evt.Info, RawMessage: msg}
		if in2, reason2, _ := a.inbound(raw); reason2 != "" || in2.Text != in.Text {
			t.Errorf("raw event: %q, %q; unwrapped: %q", in2.Text, reason2, in.Text)
		}
	})
}
