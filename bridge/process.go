package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"waclaw/agent"
	"waclaw/bridge/markup"
	"waclaw/compaction"
	"waclaw/store"
)

// process handles one job in its chat's worker.
func (b *Bridge) process(ctx context.Context, j job) {
	in := j.in
	if j.role == roleNotice {
		b.sendOrLog(ctx, in.ChatID, "You're sending messages faster than I can answer. I'll read new ones again in a minute.", "")
		return
	}
	if age := b.now().Sub(in.Time); b.cfg.WhatsApp.StaleAfter > 0 && age > b.cfg.WhatsApp.StaleAfter {
		// Answering hours late would confuse more than it helps.
		b.finish(ctx, j.inboxID, store.InboxSkipped, fmt.Sprintf("stale: received %s ago", age.Round(1e9)))
		return
	}
	if err := b.store.InboxStart(ctx, j.inboxID); err != nil {
		b.log.Error("update inbox", "inbox", j.inboxID, "err", err)
	}
	if b.cfg.WhatsApp.SendReadReceipts && !in.SelfChat {
		if err := b.ch.MarkRead(ctx, in.ChatID, in.SenderID, in.MessageID); err != nil {
			b.log.Debug("mark read", "err", err)
		}
	}

	var reason string
	var err error
	switch {
	case j.role == rolePairing:
		reason, err = b.pair(ctx, j)
	case j.role == roleAdmin && isCommand(in.Text):
		err = b.command(ctx, j)
		reason = "command"
	default:
		err = b.answer(ctx, j)
	}
	switch {
	case err == nil:
		state := store.InboxDone
		if j.role == rolePairing {
			state = store.InboxSkipped // never reached a model
		}
		b.finish(ctx, j.inboxID, state, reason)
	case ctx.Err() != nil:
		// Shutting down: the row stays pending and is answered on the
		// next start.
		b.log.Info("turn interrupted by shutdown; it stays pending", "inbox", j.inboxID)
	default:
		b.log.Warn("message failed", "inbox", j.inboxID, "err", err)
		b.finish(ctx, j.inboxID, store.InboxFailed, err.Error())
	}
}

// answer runs an agent turn with the chat's history and sends the reply.
func (b *Bridge) answer(ctx context.Context, j job) error {
	in := j.in
	text := in.Text
	if in.QuotedText != "" {
		text = "(Replying to: \"" + truncate(in.QuotedText, 500) + "\")\n" + text
	}
	if strings.TrimSpace(text) == "" {
		return nil // a message with nothing to answer (a sticker, a reaction)
	}
	b.typing(ctx, in.ChatID, true)
	turn, err := b.history.Reply(ctx, in.ChatID, text, in.MessageID)
	b.typing(ctx, in.ChatID, false)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ce *agent.ChainError
		if errors.As(err, &ce) {
			b.noteFailure(in.ChatID, turn)
			msg := ce.UserMessage()
			if sess, serr := b.store.ActiveSession(ctx, in.ChatID); serr == nil && sess.Privacy == "local" {
				msg = "Sorry, no local model could answer right now, and this chat is set to local only, so your message was not sent to a hosted model. Please try again later."
			}
			if serr := b.send(ctx, in.ChatID, msg, in.MessageID); serr != nil {
				return serr
			}
			return fmt.Errorf("no model answered: %w", err)
		}
		return err
	}
	b.noteFailure(in.ChatID, turn)
	out := turn.Outcome
	// One line per turn; never the text, and the chat only as a hash.
	b.log.Info("turn", "chat", chatHash(in.ChatID), "model", out.Model.Ref(), "fallback", out.Reasons(),
		"tokens_in", out.Usage.InputTokens, "tokens_out", out.Usage.OutputTokens, "cost", out.Cost,
		"latency", out.Latency, "context_tokens", turn.ContextTokens, "compacted", turn.Compacted != nil)
	b.log.Debug("turn text", "chat", chatHash(in.ChatID), "in", in.Text, "out", turn.Reply)
	reply := markup.ToWhatsApp(turn.Reply)
	if out.FellBack() && !in.IsGroup && b.cfg.Agent.FallbackNotice {
		reply += "\n\n_(answered by " + out.Model.Label() + ": " + out.Failures[0].Reason() + ")_"
	}
	quote := ""
	if in.IsGroup {
		quote = in.MessageID // in a group, say whom the answer is for
	}
	return b.send(ctx, in.ChatID, reply, quote)
}

// noteFailure keeps the last fallback reason of a chat for /status.
func (b *Bridge) noteFailure(chatID string, turn *compaction.Turn) {
	if turn == nil || turn.Outcome == nil || len(turn.Outcome.Failures) == 0 {
		return
	}
	b.mu.Lock()
	b.lastFail[chatID] = turn.Outcome.Reasons()
	b.mu.Unlock()
}

// send splits text at the chunk limit and sends each part through the
// outbound limiter, remembering the ids so the echoes are not taken as
// input.
func (b *Bridge) send(ctx context.Context, chatID, text, quoteID string) error {
	for i, part := range markup.Split(text, b.cfg.WhatsApp.TextChunkLimit) {
		if err := b.limits.waitOutbound(ctx, b.sleep); err != nil {
			return err
		}
		q := ""
		if i == 0 {
			q = quoteID
		}
		id, err := b.ch.Send(ctx, chatID, part, q)
		if err != nil {
			return fmt.Errorf("send reply: %w", err)
		}
		b.sent.add(id)
	}
	return nil
}

func (b *Bridge) sendOrLog(ctx context.Context, chatID, text, quoteID string) {
	if err := b.send(ctx, chatID, text, quoteID); err != nil {
		b.log.Warn("send", "err", err)
	}
}

func (b *Bridge) typing(ctx context.Context, chatID string, on bool) {
	if err := b.ch.Typing(ctx, chatID, on); err != nil {
		b.log.Debug("typing", "err", err)
	}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}

// chatHash names a chat in logs without its number or group id.
func chatHash(chatID string) string {
	sum := sha256.Sum256([]byte(chatID))
	return hex.EncodeToString(sum[:6])
}
