package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/socket"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"

	"waclaw/bridge"
	"waclaw/bridge/whatsapp/markup"
)

// DefaultTextChunkLimit is the longest message the adapter sends when
// Options.TextChunkLimit is not set.
const DefaultTextChunkLimit = 4000

// Format renders a Markdown reply in WhatsApp's markup (*bold*, _italic_,
// ``` blocks, lists, tables as monospace) and splits it into messages of at
// most Options.TextChunkLimit characters, never inside a code block or a
// character.
func (a *Adapter) Format(markdown string) []string {
	return markup.Split(markup.ToWhatsApp(markdown), a.opts.TextChunkLimit)
}

// NewMessageID returns a fresh WhatsApp message id.
func (a *Adapter) NewMessageID() string { return a.cli.GenerateMessageID() }

// Send delivers text to a chat as message id, quoting quoteID when it is a
// message the adapter has seen in that chat, and keeping the chat's
// disappearing-message timer. It goes to the address the chat last wrote
// from (keys.go). It does not wait out a dropped connection:
// when WhatsApp is not connected it fails at once, so the bridge can send
// again later under the same id (WhatsApp delivers an id once), while
// whatsmeow reconnects. Other failures are tried again a few times
// (Options.SendAttempts) under the same id. An error no retry can fix (a
// chat id WhatsApp cannot send to) wraps bridge.ErrUndeliverable as well
// as whatsmeow's own error.
func (a *Adapter) Send(ctx context.Context, chatID, id, text, quoteID string) error {
	to, err := chatJID(chatID)
	if err != nil {
		return fmt.Errorf("send: %w: %w", bridge.ErrUndeliverable, err)
	}
	msg := a.buildText(to.String(), text, quoteID)
	to = a.address(to)
	for attempt := 1; ; attempt++ {
		_, err = a.cli.SendMessage(ctx, to, msg, whatsmeow.SendRequestExtra{ID: id})
		if err == nil {
			return nil
		}
		if undeliverable(err) {
			return fmt.Errorf("send: %w: %w", bridge.ErrUndeliverable, redactErr(err))
		}
		if attempt >= a.opts.SendAttempts || !retryNow(ctx, err) {
			return fmt.Errorf("send (attempt %d): %w", attempt, redactErr(err))
		}
		a.log.Debug("whatsapp: send failed; retrying", "chat", chatID, "attempt", attempt, "err", err)
		if err := a.sleep(ctx, time.Duration(attempt)*time.Second); err != nil {
			return fmt.Errorf("send (attempt %d): %w", attempt, err)
		}
	}
}

// undeliverable reports a send error that no retry can fix: whatsmeow
// refuses the recipient itself. Errors WhatsApp's server returns for a
// message (479, 403, 400, ...) are not among them: people see them pass
// after a while, so the bridge tries again later.
func undeliverable(err error) bool {
	for _, permanent := range []error{
		whatsmeow.ErrRecipientADJID, whatsmeow.ErrUnknownServer, whatsmeow.ErrBroadcastListUnsupported,
		whatsmeow.ErrInvalidInlineBotID, whatsmeow.ErrClientIsNil,
	} {
		if errors.Is(err, permanent) {
			return true
		}
	}
	return false
}

// retryNow reports whether sending again at once may help. Not when the
// connection is down or was lost while waiting for WhatsApp's answer
// (whatsmeow reconnects in its own time, and the bridge sends again later
// rather than hold the chat's worker), not when the account is logged out,
// and not once the caller gave up.
func retryNow(ctx context.Context, err error) bool {
	var lost *whatsmeow.DisconnectedError
	if ctx.Err() != nil || errors.As(err, &lost) {
		return false
	}
	for _, later := range []error{
		whatsmeow.ErrNotConnected, socket.ErrSocketClosed,
		whatsmeow.ErrMessageTimedOut, whatsmeow.ErrIQTimedOut, whatsmeow.ErrNotLoggedIn,
		context.Canceled, context.DeadlineExceeded,
	} {
		if errors.Is(err, later) {
			return false
		}
	}
	return true
}

// buildText is the message for a reply: plain text, or extended text when
// it quotes a message or the chat has a disappearing-message timer.
func (a *Adapter) buildText(chat, text, quoteID string) *waE2E.Message {
	a.mu.Lock()
	ref, quoted := a.msgs.get(quoteID)
	timer, _ := a.timers.get(chat)
	a.mu.Unlock()
	quoted = quoted && quoteID != "" && ref.chat == chat
	if quoteID != "" && !quoted {
		a.log.Debug("whatsapp: reply not quoted: message unknown in this chat", "chat", chat, "quote", quoteID)
	}
	if !quoted && timer == 0 {
		return &waE2E.Message{Conversation: proto.String(text)}
	}
	ci := &waE2E.ContextInfo{}
	if quoted {
		ci.StanzaID = proto.String(quoteID)
		ci.Participant = proto.String(ref.sender.String())
		ci.QuotedMessage = &waE2E.Message{Conversation: proto.String(ref.text)}
	}
	if timer > 0 {
		ci.Expiration = proto.Uint32(timer)
	}
	return &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: proto.String(text), ContextInfo: ci}}
}

// MarkRead sends read receipts for messages from one sender in a chat.
func (a *Adapter) MarkRead(ctx context.Context, chatID, senderID string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	chat, err := chatJID(chatID)
	if err != nil {
		return fmt.Errorf("mark read: %w", err)
	}
	var sender types.JID
	if senderID != "" {
		if sender, err = types.ParseJID(senderID); err != nil {
			return fmt.Errorf("mark read: sender %s: %w", bridge.HashID(senderID), redactErr(err))
		}
	}
	if err := a.cli.MarkRead(ctx, ids, a.now(), a.address(chat), sender.ToNonAD()); err != nil {
		return fmt.Errorf("mark read: %w", redactErr(err))
	}
	return nil
}

// chatJID parses a chat id from an Inbound.
func chatJID(chatID string) (types.JID, error) {
	j, err := types.ParseJID(chatID)
	if err != nil {
		return types.EmptyJID, fmt.Errorf("chat id %s: %w", bridge.HashID(chatID), redactErr(err))
	}
	if j.User == "" {
		return types.EmptyJID, fmt.Errorf("chat id %s: not a chat", bridge.HashID(chatID))
	}
	return j.ToNonAD(), nil
}
