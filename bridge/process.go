package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"waclaw/agent"
	"waclaw/bridge/access"
	"waclaw/compaction"
	"waclaw/store"
)

// process handles one job in its chat's worker. When the disk holding
// the database is full it tells the sender once, keeps the message and
// tries again with a growing pause until there is room. A reply that
// could not be sent (the connection is down, WhatsApp is reconnecting)
// stays pending with its outbox ids and is sent again, under the same ids,
// with the same growing pause, until sendGiveUp after the message arrived.
// Later messages of the chat wait behind it, so replies keep their order;
// other chats go on.
func (b *Bridge) process(ctx context.Context, j job) {
	for wait := time.Second; ; wait = min(2*wait, time.Minute) {
		err := b.run(ctx, &j)
		var unsent *sendError
		switch {
		case err == nil:
			return
		case ctx.Err() != nil:
			// Shutting down: the row stays pending and is answered on the
			// next start.
			b.log.Info("turn interrupted by shutdown; it stays pending", "inbox", j.inboxID)
			return
		case store.IsDiskFull(err):
			b.log.Error("the disk holding the database is full: free some space there; the message is kept and answered once there is room",
				"db", b.store.Path(), "inbox", j.inboxID, "retry_in", wait, "err", err)
			if wait == time.Second {
				b.notify(ctx, j.in.ChatID, diskFullNotice)
			}
		case errors.As(err, &unsent) && !errors.Is(err, ErrUndeliverable):
			if age := b.now().Sub(j.in.Time); age >= sendGiveUp {
				b.log.Error("giving up on a reply: it could not be sent for a day", "inbox", j.inboxID, "chat", HashID(j.in.ChatID), "err", err)
				b.finish(ctx, j.inboxID, store.InboxFailed, fmt.Sprintf("reply not delivered within %s of the message: %v", sendGiveUp, err))
				return
			}
			if wait == time.Second {
				b.log.Warn("could not send a reply; it stays pending and goes out under the same ids once the connection is back",
					"inbox", j.inboxID, "chat", HashID(j.in.ChatID), "err", err)
			}
		default:
			b.log.Warn("message failed", "inbox", j.inboxID, "err", err)
			b.finish(ctx, j.inboxID, store.InboxFailed, err.Error())
			return
		}
		j.resumed = true // its reply may be recorded, even partly sent
		if !b.pause(wait) {
			return // shutting down: it stays pending
		}
	}
}

// sendGiveUp is how long after a message arrived its reply is still sent:
// past it, a reply WhatsApp would not take is given up on (and the row
// says why).
const sendGiveUp = 24 * time.Hour

// pause waits d between tries without holding a slot, so that other chats
// go on meanwhile. It reports false when the bridge is shutting down.
func (b *Bridge) pause(d time.Duration) bool {
	<-b.slots
	err := b.sleep(b.draining, d)
	b.slots <- struct{}{} // the worker gives it back when the job ends
	return err == nil && !b.isClosing()
}

// What the bot says when it does not answer with a model.
const (
	diskFullNotice   = "Sorry, I can't answer right now: the disk of the computer I run on is full. Your message is kept, and I'll answer it once there is room again."
	rateLimitNotice  = "You're sending messages faster than I can answer. I'll read new ones again in a minute."
	gaveUpNotice     = "Sorry, something went wrong every time I tried to answer your last message, so I've stopped trying. Please send it again, perhaps in other words."
	mediaNotice      = "Sorry, I can't open that kind of message. Could you tell me in words?"
	localOnlyNotice  = "Sorry, no local model could answer right now, and this chat is set to local only, so your message was not sent to a hosted model. Please try again later."
	approvedNotice   = "You're approved! Send me a message any time."
	tooLongNotice    = "Sorry, your message is too long for me: it has %d characters, and I read at most %d. Please send a shorter one, or the part you need help with."
	revokedText      = "(The user deleted this message.)"
	revokedReplyText = "(The answer to a message the user deleted.)"
	backlogNotice    = "Sorry, I was offline when you wrote, and your messages only reached me now, so I haven't answered them. If you still need something, please send it again."
	mediaNoticeEvery = 10 * time.Minute // a burst of pictures gets one notice
	// backlogNoticeEvery: a chat hears about its late messages once per
	// catch-up.
	backlogNoticeEvery = 6 * time.Hour
	quoteShown         = 500    // characters of a quoted message a turn shows
	mediaCall          = "call" // Inbound.Media of a call
)

// run takes one inbox row to its end: it works out the reply, unless an
// earlier run recorded one and stopped before sending all of it, records
// the reply in the outbox, sends it and finishes the row.
func (b *Bridge) run(ctx context.Context, j *job) error {
	var parts []store.OutboxPart
	if j.resumed {
		var err error
		if parts, err = b.store.Outbox(ctx, j.inboxID); err != nil {
			return err
		}
		if streamedOnly(parts) && j.stream != nil {
			parts = nil // this run is still writing that answer: finish it
		}
	}
	state, reason := store.InboxDone, ""
	if len(parts) == 0 {
		switch st, ok, err := b.store.InboxStateOf(ctx, j.inboxID); {
		case err != nil:
			return err
		case ok && st != store.InboxPending:
			return nil // deleted by its sender while it waited
		}
		r, err := b.compose(ctx, j)
		if err != nil {
			return err
		}
		if parts, err = b.record(ctx, j.inboxID, r); err != nil {
			return err
		}
		if len(parts) == 0 {
			return b.store.InboxFinish(context.WithoutCancel(ctx), j.inboxID, r.state, r.reason)
		}
		state, reason = r.state, r.reason
	} else {
		b.log.Info("sending a reply recorded before the restart", "inbox", j.inboxID, "parts", len(parts))
		if streamedOnly(parts) {
			// The model was still writing when the process stopped: what
			// went out stays, and the chat is told the rest is missing.
			var err error
			if parts, err = b.record(ctx, j.inboxID, reply{streamed: true, state: store.InboxFailed, reason: "answer cut off by a restart",
				msgs: []message{{chatID: parts[0].ChatID, text: restartedNotice}}}); err != nil {
				return err
			}
		}
		last := parts[len(parts)-1]
		state, reason = last.ThenState, last.ThenReason
	}
	if err := b.deliver(ctx, parts); err != nil {
		return err
	}
	return b.store.InboxFinish(context.WithoutCancel(ctx), j.inboxID, state, reason)
}

// streamedOnly reports a recorded reply that holds only the parts sent
// while the model was writing: its end was never recorded.
func streamedOnly(parts []store.OutboxPart) bool {
	return len(parts) > 0 && parts[len(parts)-1].ThenReason == streamCutReason
}

// compose works out a job's reply: a pairing code, the media notice, a
// command's answer or the model's.
func (b *Bridge) compose(ctx context.Context, j *job) (reply, error) {
	in := j.in
	if b.stale(in) {
		return b.backlogReply(in, j.role), nil
	}
	if !j.started { // one attempt per run, however long it waits for disk space
		switch err := b.store.InboxStart(ctx, j.inboxID); {
		case store.IsDiskFull(err):
			return reply{}, err // nothing could be stored: do not ask a model yet
		case err != nil:
			b.log.Error("update inbox", "inbox", j.inboxID, "err", err)
		default:
			j.started = true
		}
	}
	if b.cfg.WhatsApp.SendReadReceipts && !in.SelfChat && j.role.Answered() && in.Media != mediaCall {
		// Blue ticks only in chats the bot answers.
		if err := b.ch.MarkRead(ctx, in.ChatID, in.SenderID, in.MessageID); err != nil {
			b.log.Debug("mark read", "err", err)
		}
	}
	switch {
	case j.role == access.Pairing:
		// Left pending by an earlier run: the code, if any, was recorded
		// with it; never reached a model.
		return reply{state: store.InboxSkipped, reason: access.ReasonWaiting}, nil
	case in.Cut > 0:
		return say(in, fmt.Sprintf(tooLongNotice, in.Cut, b.cfg.WhatsApp.MaxMessageChars), in.MessageID, store.InboxSkipped,
			fmt.Sprintf("too long: %d characters", in.Cut)), nil
	case mediaOnly(in) && in.Attachment == nil:
		return b.mediaReply(in), nil
	}
	if in.Attachment != nil && j.read == nil {
		r, done := b.readAttachment(ctx, j)
		if err := ctx.Err(); err != nil {
			return reply{}, err // shutting down: the message stays pending
		}
		if done {
			return r, nil
		}
		in = j.in // a voice note's words are its text
	}
	switch {
	case j.role == access.Admin && isCommand(in.Text):
		return b.command(ctx, *j), nil
	default:
		return b.answer(ctx, j)
	}
}

// mediaOnly reports a message with a picture, voice note or the like and
// no text: nothing the model can read.
func mediaOnly(in Inbound) bool { return in.Media != "" && strings.TrimSpace(in.Text) == "" }

// mediaReply tells the sender that media cannot be read, at most once
// every mediaNoticeEvery in a chat.
func (b *Bridge) mediaReply(in Inbound) reply {
	notice := mediaNotice
	if in.Media == mediaCall {
		notice = b.cfg.WhatsApp.CallReply
	}
	if notice == "" || !b.once("media", in.ChatID, mediaNoticeEvery) {
		return reply{state: store.InboxSkipped, reason: "media without text (" + in.Media + "); not told"}
	}
	return say(in, notice, "", store.InboxSkipped, "media without text ("+in.Media+")")
}

// stale reports a message older than staleAfter: one that waited while
// waclaw was down, which answering now would confuse more than help.
func (b *Bridge) stale(in Inbound) bool {
	return b.cfg.WhatsApp.StaleAfter > 0 && b.now().Sub(in.Time) > b.cfg.WhatsApp.StaleAfter
}

// backlogReply skips a stale message. Someone the bot answers hears once
// (per chat, per backlogNoticeEvery) that their messages came in late and
// were not answered, rather than silence or notices about messages nobody
// read.
func (b *Bridge) backlogReply(in Inbound, r access.Role) reply {
	reason := fmt.Sprintf("stale: received %s ago", b.now().Sub(in.Time).Round(time.Second))
	if !r.Answered() || !b.once("backlog", in.ChatID, backlogNoticeEvery) {
		return reply{state: store.InboxSkipped, reason: reason}
	}
	return say(in, backlogNotice, "", store.InboxSkipped, reason)
}

// once reports whether chat may hear a notice of this kind now: not if it
// heard one within every. It remembers when it did, forgetting chats told
// long ago so that the memory stays bounded.
func (b *Bridge) once(kind, chat string, every time.Duration) bool {
	now := b.now()
	key := kind + "\x00" + chat
	b.mu.Lock()
	defer b.mu.Unlock()
	if last, seen := b.noticed[key]; seen && now.Sub(last) < every {
		return false
	}
	if len(b.noticed) >= 1024 {
		for k, at := range b.noticed {
			if now.Sub(at) >= backlogNoticeEvery { // the longest window
				delete(b.noticed, k)
			}
		}
	}
	b.noticed[key] = now
	return true
}

// answer runs an agent turn with the chat's history. When no model
// answers, the reply is an apology and the row ends failed.
func (b *Bridge) answer(ctx context.Context, j *job) (reply, error) {
	in := j.in
	text := in.Text
	var images []agent.Image
	if j.read != nil {
		text, images = j.read.text, j.read.images
	}
	if in.QuotedText != "" {
		text = "(Replying to: \"" + truncate(in.QuotedText, quoteShown) + "\")\n" + text
	}
	if strings.TrimSpace(text) == "" {
		return reply{state: store.InboxDone}, nil // a message with nothing to answer
	}
	var turn *compaction.Turn
	var err error
	if j.unsaved != nil {
		// Answered before the disk filled: store that answer now.
		turn, err = j.unsaved, b.history.Save(ctx, in.ChatID, text, in.MessageID, j.unsaved)
	} else {
		turnCtx := ctx
		if b.cfg.WhatsApp.StreamReplies {
			j.stream = &streamer{b: b, ctx: ctx, inboxID: j.inboxID, chatID: in.ChatID}
			if in.IsGroup {
				j.stream.quote = in.MessageID
			}
			turnCtx = agent.WithStream(ctx, j.stream)
		}
		// Typing stays on while parts go out; the channel keeps it alive.
		b.typing(ctx, in.ChatID, true)
		turn, err = b.history.Reply(turnCtx, in.ChatID, text, in.MessageID, images...)
		b.typing(ctx, in.ChatID, false)
	}
	streamed := j.stream != nil && j.stream.Committed()
	j.unsaved = nil
	if store.IsDiskFull(err) && turn.Answered() {
		j.unsaved = turn // keep the answer while waiting for room, rather than ask again
	}
	if err != nil {
		if ctx.Err() != nil {
			return reply{}, ctx.Err()
		}
		var ce *agent.ChainError
		if errors.As(err, &ce) && streamed {
			// Parts of the answer are out: no other model starts it again.
			b.noteFailure(in.ChatID, turn)
			r := say(in, cutOffNotice, "", store.InboxFailed, fmt.Sprintf("answer cut off: %v", err))
			r.streamed = true
			return r, nil
		}
		if errors.Is(err, agent.ErrCannotSee) {
			// The chat's models changed while the picture was read.
			return b.cannotSee(in, j.role, turn.Model, b.localOnly(ctx, in.ChatID)), nil
		}
		if errors.As(err, &ce) {
			b.noteFailure(in.ChatID, turn)
			msg := ce.UserMessage()
			if sess, serr := b.store.ActiveSession(ctx, in.ChatID); serr == nil && sess.Privacy == store.PrivacyLocal {
				msg = localOnlyNotice
			}
			return say(in, msg, in.MessageID, store.InboxFailed, fmt.Sprintf("no model answered: %v", err)), nil
		}
		return reply{}, err
	}
	quote := ""
	if in.IsGroup {
		quote = in.MessageID // in a group, say whom the answer is for
	}
	if turn.Resumed {
		b.log.Info("turn answered before the restart; sending the stored reply", "chat", HashID(in.ChatID))
		return say(in, turn.Reply, quote, store.InboxDone, ""), nil
	}
	b.noteFailure(in.ChatID, turn)
	out := turn.Outcome
	// One line per turn; never the text, and the chat only as a hash.
	b.log.Info("turn", "chat", HashID(in.ChatID), "model", out.Model.Ref(), "fallback", out.Reasons(),
		"tokens_in", out.Usage.InputTokens, "tokens_out", out.Usage.OutputTokens, "cost", out.Cost,
		"latency", out.Latency, "context_tokens", turn.ContextTokens, "compacted", turn.Compacted != nil)
	b.log.Debug("turn text", "chat", HashID(in.ChatID), "in", in.Text, "out", turn.Reply)
	text = turn.Reply
	if streamed {
		text, quote = j.stream.rest(turn.Reply), ""
	}
	if out.FellBack() && !in.IsGroup && b.cfg.Agent.FallbackNotice {
		text = strings.TrimLeft(closeFence(text)+"\n\n", "\n") + "_(answered by " + out.Model.Label() + ": " + out.Failures[0].Reason() + ")_"
	}
	if j.read != nil && j.read.note != "" {
		text = strings.TrimLeft(closeFence(text)+"\n\n", "\n") + j.read.note
	}
	r := say(in, text, quote, store.InboxDone, "")
	if j.read != nil && j.read.echo != "" {
		r.msgs = append([]message{{chatID: in.ChatID, text: j.read.echo, quote: in.MessageID}}, r.msgs...)
	}
	r.streamed = streamed
	return r, nil
}

// pairRequest answers an unknown sender under dmPolicy "pairing" as the
// access policy decides: a code, with the owner told who asked, or once a
// day that too many requests are waiting; or nothing (their code is still
// waiting, or expired unanswered not long ago). Nothing is stored unless
// someone is told something, and then not the sender's text.
func (b *Bridge) pairRequest(ctx context.Context, in Inbound, r access.Role) error {
	req, err := b.access.RequestPairing(ctx, in.SenderPhone, in.ChatID)
	if err != nil {
		return err
	}
	b.log.Info("pairing request", "sender", HashID(in.SenderPhone), "outcome", req.Reason)
	if req.TellRequester == "" {
		b.stats.strangers.Add(1)
		return nil
	}
	rep := say(in, req.TellRequester, "", store.InboxSkipped, req.Reason)
	if req.TellOwner != "" {
		text := req.TellOwner
		if name := strings.TrimSpace(in.PushName); name != "" {
			text += fmt.Sprintf("\n(Their WhatsApp name: %q.)", truncate(name, 40))
		}
		rep.msgs = append(rep.msgs, b.tellOwner(in, text)...)
	}
	return b.settle(ctx, in, r, rep)
}

// tellOwner is a message to each of the owner's chats, but never to the
// chat the message came from.
func (b *Bridge) tellOwner(in Inbound, text string) []message {
	if b.owner == nil {
		return nil
	}
	var out []message
	for _, chat := range b.owner() {
		if chat != "" && chat != in.ChatID {
			out = append(out, message{chatID: chat, text: text})
		}
	}
	return out
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

func (b *Bridge) typing(ctx context.Context, chatID string, on bool) {
	if err := b.ch.Typing(ctx, chatID, on); err != nil {
		b.log.Debug("typing", "err", err)
	}
}

// closeFence closes a code block that a reply left open (an answer cut
// at its length limit can end inside one), so that text appended after it
// is not shown as code.
func closeFence(md string) string {
	open := "" // the fence of the code block still open
	for _, line := range strings.Split(md, "\n") {
		t := strings.TrimLeft(line, " ")
		if len(line)-len(t) > 3 || t == "" || (t[0] != '`' && t[0] != '~') {
			continue // indented: code or a continuation, never a fence
		}
		n := len(t) - len(strings.TrimLeft(t, t[:1]))
		fence, rest := t[:n], t[n:]
		switch {
		case n < 3:
		case open == "":
			if fence[0] == '~' || !strings.Contains(rest, "`") { // a ``` info string holds no backtick
				open = fence
			}
		case fence[0] == open[0] && n >= len(open) && strings.TrimSpace(rest) == "":
			open = ""
		}
	}
	if open == "" {
		return md
	}
	return strings.TrimRight(md, "\n") + "\n" + open
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}

// HashID names a chat, a sender or a phone number in logs without giving
// it away: the same id always gives the same short hash, so one person's
// messages can be followed through the log. Nothing above debug level logs
// a number or a JID in the clear.
func HashID(id string) string {
	if id == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:6])
}
