package bridge

import (
	"context"

	"waclaw/store"
)

// The one way out: everything the bot says is the reply to an inbox row.
// It is formatted by the channel, written to the outbox with the id each
// message will go out under, then sent through the outbound limiter, and
// the row is finished once the last part is out. After a crash the parts
// without confirmation go out again under the same ids, which WhatsApp
// shows once. Only the disk-full notice cannot be written down (see
// notify).

// message is one message of a reply, written in Markdown.
type message struct {
	chatID, text string
	quote        string // the message it answers, shown quoted; "" for none
}

// reply is what a job says, possibly nothing, and what its inbox row
// becomes once it is out.
type reply struct {
	msgs   []message
	state  store.InboxState
	reason string
	// streamed: parts of it went out while the model wrote it; these
	// messages follow them.
	streamed bool
}

// say is a reply of one message to in's chat.
func say(in Inbound, text, quote string, state store.InboxState, reason string) reply {
	return reply{msgs: []message{{chatID: in.ChatID, text: text, quote: quote}}, state: state, reason: reason}
}

// record has the channel format a reply into the messages to send and
// writes them, each with the id it will be sent under, to the outbox
// before anything is sent. None for a reply with nothing to show. A
// streamed reply's messages follow its parts already recorded, and every
// part is returned.
func (b *Bridge) record(ctx context.Context, inboxID int64, r reply) ([]store.OutboxPart, error) {
	var parts []store.OutboxPart
	for _, m := range r.msgs {
		for i, text := range b.ch.Format(m.text) {
			p := store.OutboxPart{ChatID: m.chatID, MsgID: b.ch.NewMessageID(), Text: text, ThenState: r.state, ThenReason: r.reason}
			if i == 0 {
				p.QuoteID = m.quote
			}
			parts = append(parts, p)
		}
	}
	if r.streamed {
		return b.store.OutboxAppend(context.WithoutCancel(ctx), inboxID, parts)
	}
	if len(parts) == 0 {
		return nil, nil
	}
	return b.store.OutboxAdd(context.WithoutCancel(ctx), inboxID, parts)
}

// deliver sends the parts not yet sent, in order, through the outbound
// limiter, marking each recorded part but the last once the channel has it
// (finishing the inbox row marks the last). A part sent but not yet marked
// when the process died goes out again under the same id.
func (b *Bridge) deliver(ctx context.Context, parts []store.OutboxPart) error {
	for i, p := range parts {
		if p.Sent {
			continue
		}
		if !b.unpaced {
			if err := b.limits.waitOutbound(ctx, b.sleep); err != nil {
				return err
			}
		}
		b.sent.add(p.MsgID) // its echo is never input, even if it beats Send back
		if err := b.ch.Send(ctx, p.ChatID, p.MsgID, p.Text, p.QuoteID); err != nil {
			return &sendError{err}
		}
		if i == len(parts)-1 || p.ID == 0 {
			continue
		}
		if err := b.store.OutboxSent(context.WithoutCancel(ctx), p.ID); err != nil {
			return err
		}
	}
	return nil
}

// sendError is a reply the channel did not take; process tries it again
// later unless it wraps ErrUndeliverable.
type sendError struct{ err error }

func (e *sendError) Error() string { return "send reply: " + e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// notify sends the one message that no inbox row can hold: the notice
// that the disk is full, which goes out because nothing can be written.
// It takes the same way out as a reply (formatted by the channel, paced
// by the outbound limiter, its ids known as the bot's) but is not
// recorded, so it goes out at most once.
func (b *Bridge) notify(ctx context.Context, chatID, text string) {
	var parts []store.OutboxPart
	for _, t := range b.ch.Format(text) {
		parts = append(parts, store.OutboxPart{ChatID: chatID, MsgID: b.ch.NewMessageID(), Text: t})
	}
	if err := b.deliver(ctx, parts); err != nil {
		b.log.Warn("send a notice", "err", err)
	}
}
