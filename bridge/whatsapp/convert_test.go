package whatsapp

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"waclaw/bridge"
)

// msgEvent builds a received message the way whatsmeow does: the raw proto
// in RawMessage, unwrapped by UnwrapRaw.
func msgEvent(chat, sender types.JID, raw *waE2E.Message, edit ...func(*types.MessageInfo)) *events.Message {
	info := types.MessageInfo{
		MessageSource: types.MessageSource{Chat: chat, Sender: sender, IsGroup: chat.Server == types.GroupServer},
		ID:            "M1",
		PushName:      "Alice",
		Timestamp:     t0,
	}
	for _, e := range edit {
		e(&info)
	}
	return (&events.Message{Info: info, RawMessage: raw}).UnwrapRaw()
}

// revoke is a delete for everyone of message id.
func revoke(id string) *waE2E.Message {
	return &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
		Type: waE2E.ProtocolMessage_REVOKE.Enum(), Key: &waCommon.MessageKey{ID: proto.String(id)}}}
}

func text(s string) *waE2E.Message { return &waE2E.Message{Conversation: proto.String(s)} }

func extText(s string, ci *waE2E.ContextInfo) *waE2E.Message {
	return &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: proto.String(s), ContextInfo: ci}}
}

func device(j types.JID, d uint16) types.JID { j.Device = d; return j }

// aliceDM is the Inbound of a plain DM from Alice with the given text.
func aliceDM(text string) bridge.Inbound {
	return bridge.Inbound{
		ChatID: "15552223333@s.whatsapp.net", SenderID: "15552223333@s.whatsapp.net", SenderPhone: "+15552223333",
		PushName: "Alice", Text: text, MessageID: "M1", Time: t0,
	}
}

// aliceMedia is the Inbound of a DM from Alice with only media of a kind.
func aliceMedia(kind string) bridge.Inbound {
	in := aliceDM("")
	in.Media = kind
	return in
}

// attached is in with media of a kind the bridge can fetch, described by
// kind alone (the proto declares nothing more).
func attached(in bridge.Inbound, kind string) bridge.Inbound {
	in.Media, in.Attachment = kind, &bridge.Attachment{Kind: kind}
	return in
}

// ignoreFetch compares Inbounds without the function that downloads
// their file.
var ignoreFetch = cmpopts.IgnoreFields(bridge.Attachment{}, "Fetch")

func groupMsg(text string) bridge.Inbound {
	in := aliceDM(text)
	in.ChatID, in.IsGroup = group.String(), true
	return in
}

// list is a broadcast list Alice sends to; whatsmeow marks its messages as
// group messages (asWhatsmeow).
var list = types.NewJID("1717000000", types.BroadcastServer)

func asWhatsmeow(i *types.MessageInfo) { i.IsGroup = true }

func TestInbound(t *testing.T) {
	fromMe := func(i *types.MessageInfo) { i.IsFromMe = true }
	// A LID whose number is known is keyed by the number; one whose
	// number is unknown stays as it is.
	lidUnknown := aliceDM("hi")
	lidUnknown.ChatID, lidUnknown.SenderID, lidUnknown.SenderPhone = "88882223333@lid", "88882223333@lid", ""
	lidInGroup := func(text string) bridge.Inbound {
		in := groupMsg(text)
		in.SenderID = aliceLI.String()
		return in
	}

	tests := []struct {
		name   string
		evt    *events.Message
		lids   map[types.JID]types.JID
		want   bridge.Inbound
		reason string
	}{
		{name: "DM text", evt: msgEvent(alicePN, device(alicePN, 0), text("hi")), want: aliceDM("hi")},
		{name: "DM from a linked device of the sender", evt: msgEvent(alicePN, device(alicePN, 12), text("hi")), want: aliceDM("hi")},
		{
			name: "extended text with quote",
			evt: msgEvent(alicePN, alicePN, extText("and this?", &waE2E.ContextInfo{
				StanzaID: proto.String("Q1"), Participant: proto.String(alicePN.String()),
				QuotedMessage: text("earlier words"),
			})),
			want: func() bridge.Inbound {
				in := aliceDM("and this?")
				in.QuotedText, in.QuotedID = "earlier words", "Q1"
				return in
			}(),
		},
		{
			name: "quote of an ephemeral image caption",
			evt: msgEvent(alicePN, alicePN, extText("this one", &waE2E.ContextInfo{
				StanzaID: proto.String("Q1"), Participant: proto.String(alicePN.String()),
				QuotedMessage: &waE2E.Message{EphemeralMessage: &waE2E.FutureProofMessage{Message: &waE2E.Message{
					ImageMessage: &waE2E.ImageMessage{Caption: proto.String("a cat")}}}},
			})),
			want: func() bridge.Inbound {
				in := aliceDM("this one")
				in.QuotedText, in.QuotedID = "a cat", "Q1"
				return in
			}(),
		},
		{
			name: "image caption",
			evt:  msgEvent(alicePN, alicePN, &waE2E.Message{ImageMessage: &waE2E.ImageMessage{Caption: proto.String("what is this")}}),
			want: attached(aliceDM("what is this"), bridge.AttachImage),
		},
		{
			name: "video caption",
			evt:  msgEvent(alicePN, alicePN, &waE2E.Message{VideoMessage: &waE2E.VideoMessage{Caption: proto.String("look")}}),
			want: func() bridge.Inbound { in := aliceDM("look"); in.Media = "video"; return in }(),
		},
		{
			name: "document with caption",
			evt: msgEvent(alicePN, alicePN, &waE2E.Message{DocumentWithCaptionMessage: &waE2E.FutureProofMessage{Message: &waE2E.Message{
				DocumentMessage: &waE2E.DocumentMessage{Caption: proto.String("summarise"), FileName: proto.String("a.pdf")}}}}),
			want: func() bridge.Inbound {
				in := attached(aliceDM("summarise"), bridge.AttachDocument)
				in.Attachment.FileName = "a.pdf"
				return in
			}(),
		},
		{
			name: "ephemeral",
			evt: msgEvent(alicePN, alicePN, &waE2E.Message{EphemeralMessage: &waE2E.FutureProofMessage{Message: extText("secret",
				&waE2E.ContextInfo{Expiration: proto.Uint32(604800)})}}),
			want: aliceDM("secret"),
		},
		{
			name: "ephemeral, not yet unwrapped",
			evt: &events.Message{Info: msgEvent(alicePN, alicePN, text("x")).Info, RawMessage: &waE2E.Message{
				EphemeralMessage: &waE2E.FutureProofMessage{Message: text("secret")}}},
			want: aliceDM("secret"),
		},
		{
			name: "view once",
			evt: msgEvent(alicePN, alicePN, &waE2E.Message{ViewOnceMessageV2: &waE2E.FutureProofMessage{Message: &waE2E.Message{
				ImageMessage: &waE2E.ImageMessage{Caption: proto.String("once")}}}}),
			want: attached(aliceDM("once"), bridge.AttachImage),
		},
		{
			name: "LID sender with SenderAlt",
			evt: msgEvent(aliceLI, aliceLI, text("hi"), func(i *types.MessageInfo) {
				i.SenderAlt = device(alicePN, 0)
				i.AddressingMode = types.AddressingModeLID
			}),
			want: aliceDM("hi"),
		},
		{
			name: "LID sender via the LID store",
			evt:  msgEvent(aliceLI, device(aliceLI, 3), text("hi")),
			lids: map[types.JID]types.JID{aliceLI: alicePN},
			want: aliceDM("hi"),
		},
		{
			name: "group sender by LID with SenderAlt",
			evt: msgEvent(group, device(aliceLI, 2), extText("@99990001111 hello", &waE2E.ContextInfo{MentionedJID: []string{botLID.String()}}),
				func(i *types.MessageInfo) { i.SenderAlt = alicePN; i.AddressingMode = types.AddressingModeLID }),
			want: func() bridge.Inbound { in := lidInGroup("hello"); in.MentionsMe = true; return in }(),
		},
		{
			name: "group sender by LID via the LID store",
			evt:  msgEvent(group, aliceLI, text("chatter")),
			lids: map[types.JID]types.JID{aliceLI: alicePN},
			want: lidInGroup("chatter"),
		},
		{name: "LID sender unknown", evt: msgEvent(aliceLI, aliceLI, text("hi")), want: lidUnknown},
		{
			name: "group mention by phone JID",
			evt: msgEvent(group, device(alicePN, 3), extText("@15550001111 hello", &waE2E.ContextInfo{
				MentionedJID: []string{"15550001111@s.whatsapp.net"}})),
			want: func() bridge.Inbound { in := groupMsg("hello"); in.MentionsMe = true; return in }(),
		},
		{
			name: "group mention by LID",
			evt: msgEvent(group, alicePN, extText("@99990001111 hello", &waE2E.ContextInfo{
				MentionedJID: []string{"88882223333@lid", "99990001111@lid"}})),
			want: func() bridge.Inbound { in := groupMsg("hello"); in.MentionsMe = true; return in }(),
		},
		{
			name: "command addressed with a mention",
			evt: msgEvent(group, alicePN, extText("@99990001111  /status", &waE2E.ContextInfo{
				MentionedJID: []string{"99990001111@lid"}})),
			want: func() bridge.Inbound { in := groupMsg("/status"); in.MentionsMe = true; return in }(),
		},
		{
			name: "mention later in the text",
			evt: msgEvent(group, alicePN, extText("ask @15550001111 /status", &waE2E.ContextInfo{
				MentionedJID: []string{"15550001111@s.whatsapp.net"}})),
			want: func() bridge.Inbound { in := groupMsg("ask @15550001111 /status"); in.MentionsMe = true; return in }(),
		},
		{
			name: "nothing but the mention",
			evt: msgEvent(group, alicePN, extText("@15550001111 ", &waE2E.ContextInfo{
				MentionedJID: []string{"15550001111@s.whatsapp.net"}})),
			want: func() bridge.Inbound { in := groupMsg("@15550001111 "); in.MentionsMe = true; return in }(),
		},
		{
			name: "a longer number that starts like the bot's",
			evt: msgEvent(group, alicePN, extText("@155500011112 /status", &waE2E.ContextInfo{
				MentionedJID: []string{"15550001111@s.whatsapp.net", "155500011112@s.whatsapp.net"}})),
			want: func() bridge.Inbound { in := groupMsg("@155500011112 /status"); in.MentionsMe = true; return in }(),
		},
		{
			name: "the bot's number typed without a mention",
			evt:  msgEvent(group, alicePN, extText("@15550001111 /status", nil)),
			want: groupMsg("@15550001111 /status"),
		},
		{
			name: "group mention of someone else",
			evt: msgEvent(group, alicePN, extText("@88882223333 hello", &waE2E.ContextInfo{
				MentionedJID: []string{"88882223333@lid"}})),
			want: groupMsg("@88882223333 hello"),
		},
		{
			name: "reply to the bot",
			evt: msgEvent(group, alicePN, extText("why?", &waE2E.ContextInfo{
				StanzaID: proto.String("3EB0B1"), Participant: proto.String("99990001111@lid"), QuotedMessage: text("because")})),
			want: func() bridge.Inbound {
				in := groupMsg("why?")
				in.RepliesToMe, in.QuotedText, in.QuotedID = true, "because", "3EB0B1"
				return in
			}(),
		},
		{
			name: "self chat",
			evt:  msgEvent(botPN, device(botPN, 0), text("/status"), fromMe),
			want: bridge.Inbound{ChatID: botPN.String(), SenderID: botPN.String(), SenderPhone: "+15550001111", PushName: "Alice",
				Text: "/status", FromSelf: true, SelfChat: true, MessageID: "M1", Time: t0},
		},
		{
			name: "self chat by LID",
			evt:  msgEvent(botLID, device(botLID, 0), text("/status"), fromMe),
			want: bridge.Inbound{ChatID: botPN.String(), SenderID: botPN.String(), SenderPhone: "+15550001111", PushName: "Alice",
				Text: "/status", FromSelf: true, SelfChat: true, MessageID: "M1", Time: t0},
		},
		{
			name: "self chat by LID, written on the phone",
			evt: msgEvent(botLID, device(botPN, 0), text("/status"), fromMe, func(i *types.MessageInfo) {
				i.RecipientAlt = botPN
			}),
			want: bridge.Inbound{ChatID: botPN.String(), SenderID: botPN.String(), SenderPhone: "+15550001111", PushName: "Alice",
				Text: "/status", FromSelf: true, SelfChat: true, MessageID: "M1", Time: t0},
		},
		{name: "own message elsewhere", evt: msgEvent(alicePN, device(botPN, 0), text("see you"), fromMe), reason: ignoreOwnElsewhere},
		{name: "own message in a group", evt: msgEvent(group, device(botLID, 2), text("hello all"), fromMe), reason: ignoreOwnElsewhere},
		{name: "status broadcast", evt: msgEvent(types.StatusBroadcastJID, alicePN, text("my day")), reason: ignoreStatus},
		{name: "broadcast list: answered in the sender's DM", evt: msgEvent(list, device(alicePN, 2), text("to all"), asWhatsmeow), want: aliceDM("to all")},
		{
			name: "broadcast list from a LID sender",
			evt: msgEvent(list, aliceLI, text("hi"), asWhatsmeow, func(i *types.MessageInfo) {
				i.SenderAlt = alicePN
				i.AddressingMode = types.AddressingModeLID
			}),
			want: aliceDM("hi"),
		},
		{name: "own broadcast list message", evt: msgEvent(list, device(botPN, 0), text("to all"), asWhatsmeow, fromMe), reason: ignoreOwnElsewhere},
		{name: "broadcast list without a sender", evt: msgEvent(list, types.EmptyJID, text("to all"), asWhatsmeow), reason: ignoreBroadcastList},
		{name: "newsletter", evt: msgEvent(types.NewJID("120363000000000002", types.NewsletterServer), types.EmptyJID, text("news")), reason: ignoreNewsletter},
		{name: "bot", evt: msgEvent(types.NewMetaAIJID, types.NewMetaAIJID, text("beep")), reason: ignoreBot},
		{
			name: "reaction",
			evt: msgEvent(alicePN, alicePN, &waE2E.Message{ReactionMessage: &waE2E.ReactionMessage{
				Key: &waCommon.MessageKey{ID: proto.String("3EB0B1")}, Text: proto.String("👍")}}),
			reason: ignoreReaction,
		},
		{
			name: "delete for everyone",
			evt:  msgEvent(alicePN, alicePN, revoke("M0"), func(i *types.MessageInfo) { i.Edit = types.EditAttributeSenderRevoke }),
			want: func() bridge.Inbound { in := aliceDM(""); in.Revokes = "M0"; return in }(),
		},
		{
			name: "delete for everyone without the edit attribute",
			evt:  msgEvent(aliceLI, aliceLI, revoke("M0"), func(i *types.MessageInfo) { i.SenderAlt = alicePN }),
			want: func() bridge.Inbound { in := aliceDM(""); in.Revokes = "M0"; return in }(),
		},
		{
			name: "a group admin deletes someone's message",
			evt: msgEvent(group, device(alicePN, 3), &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
				Type: waE2E.ProtocolMessage_REVOKE.Enum(), Key: &waCommon.MessageKey{
					ID: proto.String("G0"), Participant: proto.String("15559990000@s.whatsapp.net")}}},
				func(i *types.MessageInfo) { i.Edit = types.EditAttributeAdminRevoke }),
			want: func() bridge.Inbound { in := groupMsg(""); in.Revokes = "G0"; return in }(),
		},
		{
			name: "the owner deletes in the self-chat",
			evt:  msgEvent(botPN, device(botPN, 0), revoke("S0"), fromMe, func(i *types.MessageInfo) { i.Edit = types.EditAttributeSenderRevoke }),
			want: bridge.Inbound{ChatID: botPN.String(), SenderID: botPN.String(), SenderPhone: "+15550001111", PushName: "Alice",
				FromSelf: true, SelfChat: true, MessageID: "M1", Revokes: "S0", Time: t0},
		},
		{
			name:   "the owner deletes elsewhere",
			evt:    msgEvent(alicePN, device(botPN, 0), revoke("X0"), fromMe, func(i *types.MessageInfo) { i.Edit = types.EditAttributeSenderRevoke }),
			reason: ignoreOwnElsewhere,
		},
		{
			name: "delete for everyone of no message",
			evt: msgEvent(alicePN, alicePN, &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{Type: waE2E.ProtocolMessage_REVOKE.Enum()}},
				func(i *types.MessageInfo) { i.Edit = types.EditAttributeSenderRevoke }),
			reason: ignoreRevoke,
		},
		{
			name: "edit",
			evt: msgEvent(alicePN, alicePN, &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
				Type: waE2E.ProtocolMessage_MESSAGE_EDIT.Enum(), Key: &waCommon.MessageKey{ID: proto.String("M0")},
				EditedMessage: text("fixed typo")}},
				func(i *types.MessageInfo) { i.Edit = types.EditAttributeMessageEdit }),
			reason: ignoreEdit,
		},
		{
			name:   "edit in the old wrapper",
			evt:    msgEvent(alicePN, alicePN, &waE2E.Message{EditedMessage: &waE2E.FutureProofMessage{Message: text("fixed")}}),
			reason: ignoreEdit,
		},
		{
			name: "disappearing timer change",
			evt: msgEvent(alicePN, alicePN, &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
				Type: waE2E.ProtocolMessage_EPHEMERAL_SETTING.Enum(), EphemeralExpiration: proto.Uint32(86400)}}),
			reason: ignoreProtocol,
		},
		{name: "image without caption", evt: msgEvent(alicePN, alicePN, &waE2E.Message{ImageMessage: &waE2E.ImageMessage{}}), want: attached(aliceDM(""), bridge.AttachImage)},
		{name: "voice note", evt: msgEvent(alicePN, alicePN, &waE2E.Message{AudioMessage: &waE2E.AudioMessage{PTT: proto.Bool(true)}}), want: attached(aliceDM(""), bridge.AttachVoice)},
		{name: "audio file", evt: msgEvent(alicePN, alicePN, &waE2E.Message{AudioMessage: &waE2E.AudioMessage{}}), want: attached(aliceDM(""), bridge.AttachAudio)},
		{name: "video note", evt: msgEvent(alicePN, alicePN, &waE2E.Message{PtvMessage: &waE2E.VideoMessage{}}), want: aliceMedia("video note")},
		{name: "sticker", evt: msgEvent(alicePN, alicePN, &waE2E.Message{StickerMessage: &waE2E.StickerMessage{}}), want: attached(aliceDM(""), bridge.AttachSticker)},
		{name: "poll vote", evt: msgEvent(alicePN, alicePN, &waE2E.Message{PollUpdateMessage: &waE2E.PollUpdateMessage{}}), reason: ignorePollVote},
		{name: "unknown kind", evt: msgEvent(alicePN, alicePN, &waE2E.Message{KeepInChatMessage: &waE2E.KeepInChatMessage{}}), reason: ignoreNoText},
		{name: "nil event", evt: nil, reason: ignoreEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			if tt.lids != nil {
				f.lids = tt.lids
			}
			a, _, _ := testAdapter(t, f, Options{})
			got, reason, err := a.inbound(tt.evt)
			if err != nil {
				t.Fatalf("inbound() error = %v", err)
			}
			if reason != tt.reason {
				t.Fatalf("inbound() reason = %q; want %q", reason, tt.reason)
			}
			if reason != "" {
				return
			}
			if diff := cmp.Diff(tt.want, got, ignoreFetch); diff != "" {
				t.Errorf("inbound() mismatch (-want +got):\n%s", diff)
			}
			if got.Attachment != nil && got.Attachment.Fetch == nil {
				t.Errorf("inbound() attachment has no Fetch")
			}
		})
	}
}

// With selfChatMode off the owner's self-chat is theirs alone: nothing in
// it reaches the bot, while other people's messages still do.
func TestInboundSelfChatModeOff(t *testing.T) {
	a, _, _ := testAdapter(t, newFake(), Options{IgnoreSelfChat: true})
	fromMe := func(i *types.MessageInfo) { i.IsFromMe = true }
	if _, reason, _ := a.inbound(msgEvent(botPN, device(botPN, 0), text("/status"), fromMe)); reason != ignoreSelfChat {
		t.Errorf("self-chat message with selfChatMode off: reason %q; want %q", reason, ignoreSelfChat)
	}
	if got, reason, _ := a.inbound(msgEvent(alicePN, alicePN, text("hi"))); reason != "" || got.Text != "hi" {
		t.Errorf("a DM with selfChatMode off: %q, reason %q; want it passed on", got.Text, reason)
	}
}

// A reply quoting the bot's message is addressed to it; the bridge, which
// knows the ids it sent, also gets the quoted id.
func TestInboundReplyToSentMessage(t *testing.T) {
	a, _, _ := testAdapter(t, newFake(), Options{})
	// The quote names the bot's phone JID in a DM this time.
	in, reason, _ := a.inbound(msgEvent(alicePN, alicePN, extText("thanks", &waE2E.ContextInfo{
		StanzaID: proto.String("3EB0A1"), Participant: proto.String(botPN.String()), QuotedMessage: text("an answer")})))
	if reason != "" || !in.RepliesToMe || in.QuotedText != "an answer" || in.QuotedID != "3EB0A1" {
		t.Errorf("inbound() = %+v, %q; want a reply to the bot quoting %q", in, reason, "an answer")
	}
	// Quoting someone else in a group is not a reply to the bot.
	in, _, _ = a.inbound(msgEvent(group, alicePN, extText("thanks", &waE2E.ContextInfo{
		StanzaID: proto.String("3EB0A2"), Participant: proto.String(alicePN.String())})))
	if in.RepliesToMe || in.QuotedID != "3EB0A2" {
		t.Errorf("inbound() of a quote of Alice = %+v; want not a reply to the bot, with the quoted id", in)
	}
}

// A LID store that cannot be read is no reason to drop a message, nor to
// take it under the wrong chat: it is left unacknowledged, so WhatsApp
// delivers it again, and then it is taken under the person's number.
func TestInboundLIDStoreError(t *testing.T) {
	f := newFake()
	f.lidErr = errors.New("database is locked")
	f.lids[aliceLI] = alicePN
	a, _, logs := testAdapter(t, f, Options{})
	h := &fakeHandler{}
	a.SetHandler(h)
	evt := msgEvent(aliceLI, aliceLI, text("hi"))
	if f.deliver(evt) {
		t.Fatal("the message was acknowledged though its sender could not be looked up")
	}
	if len(h.ins) != 0 {
		t.Errorf("the bridge was handed %+v; want nothing until the sender is known", h.ins)
	}
	if !strings.Contains(logs.String(), "database is locked") || !strings.Contains(logs.String(), "deliver it again") {
		t.Errorf("log does not say what went wrong and what happens next:\n%s", logs)
	}
	f.mu.Lock()
	f.lidErr = nil
	f.mu.Unlock()
	if !f.deliver(evt) {
		t.Fatal("the redelivered message was not acknowledged")
	}
	if diff := cmp.Diff([]bridge.Inbound{aliceDM("hi")}, h.ins); diff != "" {
		t.Errorf("handled (-want +got):\n%s", diff)
	}
}

// Kinds the bot cannot read reach the bridge named, so the sender hears
// that it reads only text; a button or list reply carries the words picked,
// which WhatsApp shows as the sender's message.
func TestInboundKinds(t *testing.T) {
	mention := &waE2E.ContextInfo{MentionedJID: []string{botLID.String()}}
	poll := &waE2E.PollCreationMessage{Name: proto.String("lunch?"), Options: []*waE2E.PollCreationMessage_Option{
		{OptionName: proto.String("pizza")}}, ContextInfo: mention}
	tests := []struct {
		name  string
		msg   *waE2E.Message
		media string
		text  string
	}{
		{"location", &waE2E.Message{LocationMessage: &waE2E.LocationMessage{
			DegreesLatitude: proto.Float64(52.5), DegreesLongitude: proto.Float64(13.4), ContextInfo: mention}}, "location", ""},
		{"live location", &waE2E.Message{LiveLocationMessage: &waE2E.LiveLocationMessage{
			DegreesLatitude: proto.Float64(52.5), ContextInfo: mention}}, "live location", ""},
		{"contact", &waE2E.Message{ContactMessage: &waE2E.ContactMessage{
			DisplayName: proto.String("Bob"), Vcard: proto.String("BEGIN:VCARD\nEND:VCARD"), ContextInfo: mention}}, "contact", ""},
		{"contacts", &waE2E.Message{ContactsArrayMessage: &waE2E.ContactsArrayMessage{
			Contacts: []*waE2E.ContactMessage{{DisplayName: proto.String("Bob")}}, ContextInfo: mention}}, "contacts", ""},
		{"poll", &waE2E.Message{PollCreationMessage: poll}, "poll", ""},
		{"poll v2", &waE2E.Message{PollCreationMessageV2: poll}, "poll", ""},
		{"poll v3", &waE2E.Message{PollCreationMessageV3: poll}, "poll", ""},
		{"poll v4", &waE2E.Message{PollCreationMessageV4: &waE2E.FutureProofMessage{Message: &waE2E.Message{PollCreationMessage: poll}}}, "poll", ""},
		{"poll v5", &waE2E.Message{PollCreationMessageV5: poll}, "poll", ""},
		{"event", &waE2E.Message{EventMessage: &waE2E.EventMessage{Name: proto.String("party"), ContextInfo: mention}}, "event", ""},
		{"group invite", &waE2E.Message{GroupInviteMessage: &waE2E.GroupInviteMessage{GroupName: proto.String("club"), ContextInfo: mention}}, "group invite", ""},
		{"button reply", &waE2E.Message{ButtonsResponseMessage: &waE2E.ButtonsResponseMessage{
			Response:    &waE2E.ButtonsResponseMessage_SelectedDisplayText{SelectedDisplayText: "Yes please"},
			ContextInfo: mention}}, "button reply", "Yes please"},
		{"template button reply", &waE2E.Message{TemplateButtonReplyMessage: &waE2E.TemplateButtonReplyMessage{
			SelectedDisplayText: proto.String("Track order"), ContextInfo: mention}}, "button reply", "Track order"},
		{"interactive reply", &waE2E.Message{InteractiveResponseMessage: &waE2E.InteractiveResponseMessage{
			Body: &waE2E.InteractiveResponseMessage_Body{Text: proto.String("Sent")}, ContextInfo: mention}}, "button reply", "Sent"},
		{"list reply", &waE2E.Message{ListResponseMessage: &waE2E.ListResponseMessage{
			Title: proto.String("Tuesday 10:00"), ContextInfo: mention}}, "list reply", "Tuesday 10:00"},
		{"buttons", &waE2E.Message{ButtonsMessage: &waE2E.ButtonsMessage{ContentText: proto.String("pick one"), ContextInfo: mention}}, "interactive message", ""},
		{"product", &waE2E.Message{ProductMessage: &waE2E.ProductMessage{ContextInfo: mention}}, "product", ""},
		{"payment", &waE2E.Message{RequestPaymentMessage: &waE2E.RequestPaymentMessage{}}, "payment", ""},
		{"sticker pack", &waE2E.Message{StickerPackMessage: &waE2E.StickerPackMessage{ContextInfo: mention}}, "sticker pack", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			a, _, _ := testAdapter(t, f, Options{})
			h := &fakeHandler{}
			a.SetHandler(h)
			// In a group, to see that the mention in each kind counts.
			if !f.deliver(msgEvent(group, alicePN, tt.msg)) {
				t.Fatal("not acknowledged")
			}
			want := groupMsg(tt.text)
			want.Media = tt.media
			want.MentionsMe = tt.media != "payment" // payments carry no context info
			if len(h.ins) != 1 {
				t.Fatalf("the bridge got %d messages; want 1", len(h.ins))
			}
			if diff := cmp.Diff(want, h.ins[0]); diff != "" {
				t.Errorf("the bridge got (-want +got):\n%s", diff)
			}
		})
	}
}
