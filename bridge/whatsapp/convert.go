package whatsapp

import (
	"cmp"
	"strings"
	"time"
	"unicode"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"waclaw/bridge"
)

// Why a message is not passed to the bridge. Each is deliberate.
const (
	ignoreEmpty         = "empty event"
	ignoreStatus        = "status broadcast"
	ignoreBroadcastList = "broadcast list message without a sender"
	ignoreNewsletter    = "newsletter"
	ignoreBot           = "sent by a bot"
	ignoreReaction      = "reaction"
	ignorePollVote      = "poll vote"
	ignoreRevoke        = "delete for everyone that names no message"
	ignoreEdit          = "edit"
	ignoreProtocol      = "protocol message"
	ignoreOwnElsewhere  = "sent by the linked account outside its self-chat"
	ignoreSelfChat      = "self-chat, and selfChatMode is off"
	ignoreNoText        = "no text"
)

// lookupTimeout bounds a LID store lookup while converting a message.
const lookupTimeout = 5 * time.Second

// inbound translates a message event into the bridge's Inbound, or returns
// a non-empty reason why the message is ignored. A picture, voice note,
// location, contact card, poll or other kind that is not text is passed on
// with its kind in Media (and its caption or the button picked, if any, as
// the text): the bridge decides what to answer. A voice note, audio file,
// picture, sticker or document also carries an Attachment (media.go). The
// bridge also recognises
// the bot's own messages coming back. Chats and senders are named by
// their key (keys.go); an error means a number could not be looked up,
// and the message should be delivered again later.
func (a *Adapter) inbound(evt *events.Message) (bridge.Inbound, string, error) {
	if evt = unwrapped(evt); evt == nil {
		return bridge.Inbound{}, ignoreEmpty, nil
	}
	msg, info := evt.Message, evt.Info
	if msg == nil {
		return bridge.Inbound{}, ignoreEmpty, nil
	}
	chat, sender := info.Chat.ToNonAD(), info.Sender.ToNonAD()
	// A broadcast list is the sender's list, not a chat: each recipient
	// sees the message in their DM with the sender, so it is answered
	// there.
	broadcast := chat.IsBroadcastList()
	if broadcast {
		chat = sender
	}
	switch {
	case chat == types.StatusBroadcastJID:
		return bridge.Inbound{}, ignoreStatus, nil
	case broadcast && sender.User == "":
		return bridge.Inbound{}, ignoreBroadcastList, nil
	case chat.Server == types.NewsletterServer:
		return bridge.Inbound{}, ignoreNewsletter, nil
	case sender.IsBot() || chat.IsBot():
		return bridge.Inbound{}, ignoreBot, nil
	}
	if reason := ignoredKind(evt); reason != "" {
		return bridge.Inbound{}, reason, nil
	}

	pn, lid, _ := a.cli.Identity()
	isGroup := chat.Server == types.GroupServer
	selfChat := !isGroup && !broadcast && (sameUser(chat, pn) || sameUser(chat, lid))
	fromSelf := info.IsFromMe || sameUser(sender, pn) || sameUser(sender, lid)
	if fromSelf && !selfChat {
		return bridge.Inbound{}, ignoreOwnElsewhere, nil
	}
	if selfChat && a.opts.IgnoreSelfChat {
		return bridge.Inbound{}, ignoreSelfChat, nil
	}
	who, err := a.person(sender, info.SenderAlt)
	if err != nil {
		return bridge.Inbound{}, "", err
	}
	key, senderID := chat, sender
	if !isGroup {
		// In a DM the chat is the other person (or, in the self-chat,
		// the account), whose alternative address is SenderAlt when they
		// wrote it and RecipientAlt when the account did.
		alt := info.SenderAlt
		if info.IsFromMe {
			alt = info.RecipientAlt
		}
		if key = who; chat != sender {
			if key, err = a.person(chat, alt); err != nil {
				return bridge.Inbound{}, "", err
			}
		}
		senderID = who
	}
	in := bridge.Inbound{
		ChatID:      key.String(),
		SenderID:    senderID.String(),
		SenderPhone: phoneOf(who),
		PushName:    info.PushName,
		IsGroup:     isGroup,
		FromSelf:    fromSelf,
		SelfChat:    selfChat,
		MessageID:   info.ID,
		Time:        info.Timestamp,
	}
	if revoked, ok := revokedID(evt); ok {
		if revoked == "" {
			return bridge.Inbound{}, ignoreRevoke, nil
		}
		in.Revokes = revoked
		return in, "", nil
	}
	c := contentOf(msg)
	if c.text == "" && c.media == "" {
		return bridge.Inbound{}, ignoreNoText, nil
	}
	in.Text, in.Media = c.text, c.media
	// Only the message's own file: a quoted picture stays a snippet.
	in.Attachment = a.attachment(evt, c.media)
	if ci := c.ci; ci != nil {
		in.QuotedText = quotedText(ci.GetQuotedMessage())
		for _, m := range ci.GetMentionedJID() {
			if j, err := types.ParseJID(m); err == nil && (sameUser(j, pn) || sameUser(j, lid)) {
				in.MentionsMe = true
				in.Text = stripMention(in.Text, j.User)
			}
		}
		if in.QuotedID = ci.GetStanzaID(); in.QuotedID != "" {
			// The bot writes as the linked account, so a reply to one of
			// its messages quotes the account; the bridge also knows the
			// ids it sent.
			if j, err := types.ParseJID(ci.GetParticipant()); err == nil && (sameUser(j, pn) || sameUser(j, lid)) {
				in.RepliesToMe = true
			}
		}
	}
	return in, "", nil
}

// wireChat is the chat a message came in as WhatsApp addressed it: a
// group, or a DM peer (a broadcast list's sender), before keying.
func wireChat(evt *events.Message) types.JID {
	if evt.Info.Chat.IsBroadcastList() {
		return evt.Info.Sender.ToNonAD()
	}
	return evt.Info.Chat.ToNonAD()
}

// unwrapped is evt with its message out of the ephemeral, view-once and
// other wrappers, the way whatsmeow delivers it; evt itself is not
// changed.
func unwrapped(evt *events.Message) *events.Message {
	if evt == nil || evt.Message != nil || evt.RawMessage == nil {
		return evt
	}
	c := *evt
	return c.UnwrapRaw()
}

// ignoredKind names message kinds that never reach the bridge: reactions,
// poll votes, edits and protocol messages other than a delete for
// everyone.
func ignoredKind(evt *events.Message) string {
	msg := evt.Message
	if _, ok := revokedID(evt); ok {
		return ""
	}
	if pm := msg.GetProtocolMessage(); pm != nil {
		if pm.GetType() == waE2E.ProtocolMessage_MESSAGE_EDIT {
			return ignoreEdit
		}
		return ignoreProtocol
	}
	switch evt.Info.Edit {
	case types.EditAttributeMessageEdit, types.EditAttributeAdminEdit:
		return ignoreEdit
	case types.EditAttributePinInChat:
		return ignoreProtocol
	}
	if evt.IsEdit {
		return ignoreEdit
	}
	if msg.GetReactionMessage() != nil || msg.GetEncReactionMessage() != nil {
		return ignoreReaction
	}
	if msg.GetPollUpdateMessage() != nil {
		return ignorePollVote
	}
	return ""
}

// revokedID reports whether evt deletes a message for everyone (its
// sender did, or a group admin), and the id of the message it deletes,
// "" if it does not say.
func revokedID(evt *events.Message) (string, bool) {
	pm := evt.Message.GetProtocolMessage()
	// REVOKE is the protocol message type 0, so a message that is no
	// protocol message at all reads as one.
	revoke := pm != nil && pm.GetType() == waE2E.ProtocolMessage_REVOKE
	switch evt.Info.Edit {
	case types.EditAttributeSenderRevoke, types.EditAttributeAdminRevoke:
		revoke = true
	}
	return pm.GetKey().GetID(), revoke
}

// content is what a message carries: its text, the kind of anything
// else, and its reply, mention and disappearing-timer data.
type content struct {
	// text is the body, a caption, or the words on the button or list
	// row the sender picked (WhatsApp shows them as the sender's message).
	text string
	// media names what the message carries besides text, in words a reply
	// can use ("image", "location", "poll", ...); "" for none.
	media string
	ci    *waE2E.ContextInfo
}

// contentOf reads a message of any kind the bridge is told about. Kinds
// that carry nothing to read (a location, a contact card, a poll) still
// get a media kind, so the sender hears that the bot reads only text.
func contentOf(m *waE2E.Message) content {
	switch {
	case m.GetConversation() != "":
		return content{text: m.GetConversation()}
	case m.GetExtendedTextMessage() != nil:
		x := m.GetExtendedTextMessage()
		return content{text: x.GetText(), ci: x.GetContextInfo()}
	case m.GetImageMessage() != nil:
		x := m.GetImageMessage()
		return content{text: x.GetCaption(), media: "image", ci: x.GetContextInfo()}
	case m.GetVideoMessage() != nil:
		x := m.GetVideoMessage()
		return content{text: x.GetCaption(), media: "video", ci: x.GetContextInfo()}
	case m.GetPtvMessage() != nil:
		return content{media: "video note", ci: m.GetPtvMessage().GetContextInfo()}
	case m.GetAudioMessage() != nil:
		x := m.GetAudioMessage()
		if x.GetPTT() {
			return content{media: "voice note", ci: x.GetContextInfo()}
		}
		return content{media: "audio", ci: x.GetContextInfo()}
	case m.GetDocumentMessage() != nil:
		x := m.GetDocumentMessage()
		return content{text: x.GetCaption(), media: "document", ci: x.GetContextInfo()}
	case m.GetStickerMessage() != nil:
		return content{media: "sticker", ci: m.GetStickerMessage().GetContextInfo()}
	case m.GetStickerPackMessage() != nil:
		return content{media: "sticker pack", ci: m.GetStickerPackMessage().GetContextInfo()}
	case m.GetLocationMessage() != nil:
		return content{media: "location", ci: m.GetLocationMessage().GetContextInfo()}
	case m.GetLiveLocationMessage() != nil:
		return content{media: "live location", ci: m.GetLiveLocationMessage().GetContextInfo()}
	case m.GetContactMessage() != nil:
		return content{media: "contact", ci: m.GetContactMessage().GetContextInfo()}
	case m.GetContactsArrayMessage() != nil:
		return content{media: "contacts", ci: m.GetContactsArrayMessage().GetContextInfo()}
	case m.GetPollCreationMessage() != nil, m.GetPollCreationMessageV2() != nil,
		m.GetPollCreationMessageV3() != nil, m.GetPollCreationMessageV5() != nil:
		poll := cmp.Or(m.GetPollCreationMessage(), m.GetPollCreationMessageV2(), m.GetPollCreationMessageV3(), m.GetPollCreationMessageV5())
		return content{media: "poll", ci: poll.GetContextInfo()}
	case m.GetPollCreationMessageV4() != nil:
		// A wrapper around a poll of one of the other versions.
		return content{media: "poll", ci: contentOf(m.GetPollCreationMessageV4().GetMessage()).ci}
	case m.GetEventMessage() != nil:
		return content{media: "event", ci: m.GetEventMessage().GetContextInfo()}
	case m.GetGroupInviteMessage() != nil:
		return content{media: "group invite", ci: m.GetGroupInviteMessage().GetContextInfo()}
	case m.GetButtonsResponseMessage() != nil:
		x := m.GetButtonsResponseMessage()
		return content{text: x.GetSelectedDisplayText(), media: "button reply", ci: x.GetContextInfo()}
	case m.GetTemplateButtonReplyMessage() != nil:
		x := m.GetTemplateButtonReplyMessage()
		return content{text: x.GetSelectedDisplayText(), media: "button reply", ci: x.GetContextInfo()}
	case m.GetInteractiveResponseMessage() != nil:
		x := m.GetInteractiveResponseMessage()
		return content{text: x.GetBody().GetText(), media: "button reply", ci: x.GetContextInfo()}
	case m.GetListResponseMessage() != nil:
		x := m.GetListResponseMessage()
		return content{text: x.GetTitle(), media: "list reply", ci: x.GetContextInfo()}
	case m.GetButtonsMessage() != nil:
		return content{media: "interactive message", ci: m.GetButtonsMessage().GetContextInfo()}
	case m.GetListMessage() != nil:
		return content{media: "interactive message", ci: m.GetListMessage().GetContextInfo()}
	case m.GetInteractiveMessage() != nil:
		return content{media: "interactive message", ci: m.GetInteractiveMessage().GetContextInfo()}
	case m.GetTemplateMessage() != nil:
		return content{media: "interactive message", ci: m.GetTemplateMessage().GetContextInfo()}
	case m.GetHighlyStructuredMessage() != nil:
		return content{media: "interactive message"}
	case m.GetProductMessage() != nil:
		return content{media: "product", ci: m.GetProductMessage().GetContextInfo()}
	case m.GetOrderMessage() != nil:
		return content{media: "order", ci: m.GetOrderMessage().GetContextInfo()}
	case m.GetSendPaymentMessage() != nil, m.GetRequestPaymentMessage() != nil, m.GetPaymentInviteMessage() != nil,
		m.GetDeclinePaymentRequestMessage() != nil, m.GetCancelPaymentRequestMessage() != nil:
		return content{media: "payment"}
	}
	return content{}
}

// quotedText is the text of a quoted message, unwrapped the way whatsmeow
// unwraps received ones.
func quotedText(q *waE2E.Message) string {
	if q == nil {
		return ""
	}
	evt := (&events.Message{RawMessage: q}).UnwrapRaw()
	return contentOf(evt.Message).text
}

// stripMention removes a leading "@user" mention and the spaces after
// it, so that "@bot /status" in a group is the command "/status". Text
// that does not start with the mention, or is nothing but it, is left
// alone.
func stripMention(text, user string) string {
	rest, ok := strings.CutPrefix(text, "@"+user)
	if !ok || user == "" || (rest != "" && rest[0] >= '0' && rest[0] <= '9') {
		return text
	}
	if rest = strings.TrimLeftFunc(rest, unicode.IsSpace); rest == "" {
		return text
	}
	return rest
}

// sameUser reports whether two JIDs name the same account on the same
// server, ignoring devices. Empty JIDs never match.
func sameUser(a, b types.JID) bool {
	return a.User != "" && a.User == b.User && a.Server == b.Server
}

// phoneOf is the E.164 number of a phone-number JID, "" for anything else.
func phoneOf(j types.JID) string {
	if j.Server != types.DefaultUserServer || j.User == "" {
		return ""
	}
	return "+" + j.User
}
