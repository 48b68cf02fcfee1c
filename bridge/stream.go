package bridge

import (
	"context"
	"strings"
	"sync"

	"waclaw/agent"
	"waclaw/store"
)

// A long answer goes out in parts while the model writes it
// (channels.whatsapp.streamReplies), so that the first words arrive
// seconds after the question rather than a minute. Each part is cut at a
// paragraph break (else, in a long paragraph, at the end of a sentence),
// never inside a code block, never shorter than minPart, and only from
// text that has passed the agent's think filter. Like every reply it is
// recorded in the outbox with its id before it is sent and marked once the
// channel has it; the outbound limiter paces it. The rest of the answer,
// once the model has finished, is the reply's last part.
//
// A part is recorded as a reply that failed ("cut off"): if the process
// dies before the rest is recorded, the restart sends the parts not yet
// confirmed and then one line saying the answer was cut off.

const (
	// minPart is the shortest part sent while the answer is written.
	minPart = 300
	// sentenceAfter is how long a paragraph may grow before it is cut at a
	// sentence end instead.
	sentenceAfter = 3 * minPart
	// streamCutReason marks the parts sent while an answer was written.
	streamCutReason = "answer cut off while it was being sent in parts"
	// cutOffNotice ends an answer whose model stopped after parts of it
	// went out; no other model starts it again from the beginning.
	cutOffNotice = "_(my answer was cut off: the model stopped responding)_"
	// restartedNotice ends an answer whose parts went out before a restart.
	restartedNotice = "_(my answer was cut off: I was restarted while writing it)_"
)

// streamer is an agent.Stream that sends an answer's parts to one chat.
// Write is called from the agent's stream loop; it records and sends a
// part before it returns, so Committed is exact.
type streamer struct {
	b       *Bridge
	ctx     context.Context
	inboxID int64
	chatID  string
	quote   string // the first part quotes it (groups)

	mu        sync.Mutex
	text      strings.Builder // this attempt's answer so far
	cut       int             // bytes of text already sent as parts
	committed bool            // some part was recorded: it will go out
	parts     int             // parts recorded
	err       error           // recording or sending failed: cut no more
}

var _ agent.Stream = (*streamer)(nil)

func (s *streamer) Write(piece string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.text.WriteString(piece)
	for s.err == nil {
		rest := s.text.String()[s.cut:]
		n := partEnd(rest)
		if n < 0 {
			return
		}
		s.err = s.send(strings.TrimSpace(rest[:n]))
		s.cut += n
	}
}

func (s *streamer) Committed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.committed
}

func (s *streamer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.text.Reset()
	s.cut = 0
}

// send records one part (as many messages as the channel formats it
// into) and sends them, marking each once the channel has it.
func (s *streamer) send(md string) error {
	b := s.b
	var parts []store.OutboxPart
	for _, text := range b.ch.Format(md) {
		p := store.OutboxPart{ChatID: s.chatID, MsgID: b.ch.NewMessageID(), Text: text, ThenState: store.InboxFailed, ThenReason: streamCutReason}
		if s.parts == 0 && len(parts) == 0 {
			p.QuoteID = s.quote
		}
		parts = append(parts, p)
	}
	all, err := b.store.OutboxAppend(context.WithoutCancel(s.ctx), s.inboxID, parts)
	if err != nil {
		return err
	}
	s.committed = true
	s.parts++
	for _, p := range all[len(all)-len(parts):] {
		if err := b.limits.waitOutbound(s.ctx, b.sleep); err != nil {
			return err
		}
		b.sent.add(p.MsgID)
		if err := b.ch.Send(s.ctx, p.ChatID, p.MsgID, p.Text, p.QuoteID); err != nil {
			return &sendError{err}
		}
		if err := b.store.OutboxSent(context.WithoutCancel(s.ctx), p.ID); err != nil {
			return err
		}
	}
	return nil
}

// rest is what remains to be sent of the final answer: the part of final
// after the text already sent. When final does not begin with it (the
// server's final text differs from what it streamed), the streamed text's
// own remainder is used, so nothing is sent twice.
func (s *streamer) rest(final string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	streamed := s.text.String()
	sent := strings.TrimSpace(streamed[:s.cut])
	if after, ok := strings.CutPrefix(strings.TrimSpace(final), sent); ok {
		return strings.TrimSpace(after)
	}
	s.b.log.Warn("the final answer differs from the text streamed; sending the rest as streamed", "inbox", s.inboxID)
	return strings.TrimSpace(streamed[s.cut:])
}

// partEnd returns where the next part of s ends, or -1 while none is
// ready: at the last paragraph break (else, past sentenceAfter, the last
// sentence end) that leaves a part of at least minPart, is outside a code
// block, and has more text after it (so the last part waits for the end).
func partEnd(s string) int {
	if len(s) < minPart {
		return -1
	}
	best := -1
	for i := minPart; i < len(s); i++ {
		if s[i-1] == '\n' && s[i] == '\n' && strings.TrimSpace(s[i:]) != "" && closeFence(s[:i]) == s[:i] {
			best = i + 1
		}
	}
	if best >= 0 || len(s) < sentenceAfter {
		return best
	}
	for i := minPart; i+1 < len(s); i++ {
		if strings.IndexByte(".!?", s[i-1]) >= 0 && (s[i] == ' ' || s[i] == '\n') &&
			strings.TrimSpace(s[i:]) != "" && closeFence(s[:i]) == s[:i] {
			best = i + 1
		}
	}
	return best
}
