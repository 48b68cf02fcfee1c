package whatsapp

import (
	"context"
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
	ignoreRevoke        = "revoke"
	ignoreEdit          = "edit"
	ignoreProtocol      = "protocol message"
	ignoreOwnElsewhere  = "sent by the linked account outside its self-chat"
	ignoreSelfChat      = "self-chat, and selfChatMode is off"
	ignoreNoText        = "no text"
)

// lookupTimeout bounds a LID store lookup while converting a message.
const lookupTimeout = 5 * time.Second

// inbound translates a message event into the bridge's Inbound, or returns
// a non-empty reason why the message is ignored. A picture, voice note or
// other attachment is passed on with its kind in Media (and its caption,
// if any, as the text): the bridge decides what to answer. The bridge
// also recognises the bot's own messages coming back.
func (a *Adapter) inbound(evt *events.Message) (bridge.Inbound, string) {
	if evt == nil {
		return bridge.Inbound{}, ignoreEmpty
	}
	if evt.Message == nil && evt.RawMessage != nil {
		unwrapped := *evt
		evt = unwrapped.UnwrapRaw()
	}
	msg, info := evt.Message, evt.Info
	if msg == nil {
		return bridge.Inbound{}, ignoreEmpty
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
		return bridge.Inbound{}, ignoreStatus
	case broadcast && sender.User == "":
		return bridge.Inbound{}, ignoreBroadcastList
	case chat.Server == types.NewsletterServer:
		return bridge.Inbound{}, ignoreNewsletter
	case sender.IsBot() || chat.IsBot():
		return bridge.Inbound{}, ignoreBot
	}
	if reason := ignoredKind(evt); reason != "" {
		return bridge.Inbound{}, reason
	}

	pn, lid, _ := a.cli.Identity()
	isGroup := chat.Server == types.GroupServer
	selfChat := !isGroup && !broadcast && (sameUser(chat, pn) || sameUser(chat, lid))
	fromSelf := info.IsFromMe || sameUser(sender, pn) || sameUser(sender, lid)
	if fromSelf && !selfChat {
		return bridge.Inbound{}, ignoreOwnElsewhere
	}
	if selfChat && a.opts.IgnoreSelfChat {
		return bridge.Inbound{}, ignoreSelfChat
	}
	text, media := textOf(msg), mediaKind(msg)
	if text == "" && media == "" {
		return bridge.Inbound{}, ignoreNoText
	}
	in := bridge.Inbound{
		ChatID:    chat.String(),
		SenderID:  sender.String(),
		PushName:  info.PushName,
		Text:      text,
		Media:     media,
		IsGroup:   isGroup,
		FromSelf:  fromSelf,
		SelfChat:  selfChat,
		MessageID: info.ID,
		Time:      info.Timestamp,
	}
	in.SenderPhone = a.senderPhone(info, pn, lid)
	if ci := contextInfo(msg); ci != nil {
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
	return in, ""
}

// ignoredKind names message kinds that never reach the bridge: reactions,
// revokes, edits and other protocol messages.
func ignoredKind(evt *events.Message) string {
	msg := evt.Message
	if pm := msg.GetProtocolMessage(); pm != nil {
		switch pm.GetType() {
		case waE2E.ProtocolMessage_REVOKE:
			return ignoreRevoke
		case waE2E.ProtocolMessage_MESSAGE_EDIT:
			return ignoreEdit
		}
		return ignoreProtocol
	}
	switch evt.Info.Edit {
	case types.EditAttributeSenderRevoke, types.EditAttributeAdminRevoke:
		return ignoreRevoke
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
	return ""
}

// senderPhone is the sender's number in E.164: from a phone-number JID,
// else from SenderAlt, else from the LID store.
func (a *Adapter) senderPhone(info types.MessageInfo, pn, lid types.JID) string {
	sender := info.Sender.ToNonAD()
	switch sender.Server {
	case types.DefaultUserServer:
		return phoneOf(sender)
	case types.HiddenUserServer:
		if sameUser(sender, lid) {
			return phoneOf(pn)
		}
		if alt := info.SenderAlt.ToNonAD(); alt.Server == types.DefaultUserServer {
			return phoneOf(alt)
		}
		ctx, cancel := context.WithTimeout(a.ctx, lookupTimeout)
		defer cancel()
		found, err := a.cli.LIDs().GetPNForLID(ctx, sender)
		if err != nil {
			a.log.Warn("whatsapp: look up the phone number of a LID", "lid", sender.String(), "err", err)
			return ""
		}
		if found.Server == types.DefaultUserServer {
			return phoneOf(found)
		}
	}
	return ""
}

// textOf is the text of a message: its body, or a media caption.
func textOf(m *waE2E.Message) string {
	switch {
	case m.GetConversation() != "":
		return m.GetConversation()
	case m.GetExtendedTextMessage() != nil:
		return m.GetExtendedTextMessage().GetText()
	case m.GetImageMessage() != nil:
		return m.GetImageMessage().GetCaption()
	case m.GetVideoMessage() != nil:
		return m.GetVideoMessage().GetCaption()
	case m.GetDocumentMessage() != nil:
		return m.GetDocumentMessage().GetCaption()
	}
	return ""
}

// mediaKind names what a message carries besides text, in words a reply
// can use; "" for none.
func mediaKind(m *waE2E.Message) string {
	switch {
	case m.GetImageMessage() != nil:
		return "image"
	case m.GetVideoMessage() != nil:
		return "video"
	case m.GetPtvMessage() != nil:
		return "video note"
	case m.GetAudioMessage() != nil && m.GetAudioMessage().GetPTT():
		return "voice note"
	case m.GetAudioMessage() != nil:
		return "audio"
	case m.GetDocumentMessage() != nil:
		return "document"
	case m.GetStickerMessage() != nil:
		return "sticker"
	}
	return ""
}

// contextInfo is the reply, mention and disappearing-timer data of the
// message kinds that carry text.
func contextInfo(m *waE2E.Message) *waE2E.ContextInfo {
	switch {
	case m.GetExtendedTextMessage() != nil:
		return m.GetExtendedTextMessage().GetContextInfo()
	case m.GetImageMessage() != nil:
		return m.GetImageMessage().GetContextInfo()
	case m.GetVideoMessage() != nil:
		return m.GetVideoMessage().GetContextInfo()
	case m.GetDocumentMessage() != nil:
		return m.GetDocumentMessage().GetContextInfo()
	case m.GetAudioMessage() != nil:
		return m.GetAudioMessage().GetContextInfo()
	case m.GetStickerMessage() != nil:
		return m.GetStickerMessage().GetContextInfo()
	}
	return nil
}

// quotedText is the text of a quoted message, unwrapped the way whatsmeow
// unwraps received ones.
func quotedText(q *waE2E.Message) string {
	if q == nil {
		return ""
	}
	evt := (&events.Message{RawMessage: q}).UnwrapRaw()
	return textOf(evt.Message)
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
