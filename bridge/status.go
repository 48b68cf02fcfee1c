package bridge

import (
	"context"
	"fmt"
	"strings"
	"time"

	"waclaw/config"
	"waclaw/store"
)

// status is /status: the chat's model and where it came from, the chain
// with each model's state (its own cooldown or its provider's, with the
// reason), who hears voice notes and sees pictures, the last fallback
// reason, the context and this session's usage.
func (b *Bridge) status(ctx context.Context, chatID string) (string, error) {
	sess, err := b.store.ActiveSession(ctx, chatID)
	if err != nil {
		return "", err
	}
	m := b.history.Model(sess)
	var sb strings.Builder
	source := "the default"
	if sess.ModelOverride != "" && m.Ref() == sess.ModelOverride {
		source = "chosen with /model"
	}
	if m.Label() != m.Ref() {
		fmt.Fprintf(&sb, "**Model:** %s (%s), %s\n", m.Label(), m.Ref(), source)
	} else {
		fmt.Fprintf(&sb, "**Model:** %s, %s\n", m.Ref(), source)
	}
	if b.link != nil {
		fmt.Fprintf(&sb, "**WhatsApp:** %s\n", b.link())
	}
	fmt.Fprintf(&sb, "**Number:** %s\n", b.cfg.WhatsApp.Mode())
	if sess.Privacy == store.PrivacyLocal {
		sb.WriteString("**Privacy:** local models only\n")
	}
	sb.WriteString("**Chain:**")
	for i, cm := range b.agent.Chain(m) {
		state := "ok"
		if why := cm.Provider.Unavailable(); why != "" {
			state = "not set up: " + why
		} else if sess.Privacy == store.PrivacyLocal && !cm.Provider.Local {
			state = "not used: this chat is local only"
		} else if cd := b.agent.CoolingDown(cm); cd != nil {
			state = fmt.Sprintf("skipped until %s: %s", cd.Until.Local().Format(time.TimeOnly), cd.Why())
		}
		fmt.Fprintf(&sb, "\n%d. %s: %s", i+1, cm.Label(), state)
	}
	sb.WriteString("\n") // the list ends: what follows is not part of its last item
	local := sess.Privacy == store.PrivacyLocal
	fmt.Fprintf(&sb, "**Voice notes:** %s\n**Pictures:** %s\n", b.voiceStatus(local), b.pictureStatus(m, local))
	if chain := b.agent.Chain(m); len(chain) == 1 {
		fmt.Fprintf(&sb, "\nNo fallback is configured: when %s cannot answer, this chat gets a short apology and nothing goes to a hosted model (`waclaw doctor` says how to add one).\n", chain[0].Label())
	}
	b.mu.Lock()
	last := b.lastFail[chatID]
	b.mu.Unlock()
	if last != "" {
		fmt.Fprintf(&sb, "\n**Last failure:** %s", last)
	}
	total, compacted, err := b.store.CountMessages(ctx, sess.ID)
	if err != nil {
		return "", err
	}
	sum, hasSum, err := b.store.LatestSummary(ctx, sess.ID)
	if err != nil {
		return "", err
	}
	notes := "none"
	if hasSum {
		notes = fmt.Sprintf("%d tokens", sum.Tokens)
	}
	tokens, err := b.history.ContextTokens(ctx, sess)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&sb, "\n**Context:** about %d of %d tokens (history cap %d); %d messages, %d compacted; notes %s",
		tokens, m.ContextWindow, b.cfg.Agent.Compaction.MaxHistoryTokens, total, compacted, notes)
	use, err := b.store.UsageSince(ctx, chatID, sess.CreatedAt)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&sb, "\n**This conversation:** %d model calls, %d tokens in, %d out, $%.4f", use.Turns, use.TokensIn, use.TokensOut, use.Cost)
	if n, m := b.stats.strangers.Load(), b.stats.limited.Load(); n+m > 0 {
		fmt.Fprintf(&sb, "\n**Not answered since start:** %d messages from people not allowed, %d over the rate limit (nothing of them stored)", n, m)
	}
	return sb.String(), nil
}

// voiceStatus says who transcribes this chat's voice notes, in order.
func (b *Bridge) voiceStatus(localOnly bool) string {
	a := b.cfg.Media.Audio
	if !a.Enabled {
		return "not transcribed: no transcriber is set up (tools.media.audio)"
	}
	var names []string
	for _, t := range a.Transcribers {
		switch {
		case t.Hosted() && localOnly:
		case t.Hosted():
			names = append(names, t.Name()+" (hosted)")
		default:
			names = append(names, t.Name())
		}
	}
	if len(names) == 0 {
		return "not transcribed: this chat is local only, and every transcriber is hosted"
	}
	return "transcribed by " + strings.Join(names, ", then ")
}

// pictureStatus says which model of this chat's chain sees its pictures.
func (b *Bridge) pictureStatus(m *config.Model, localOnly bool) string {
	if !b.cfg.Media.Image.Enabled {
		return "off (tools.media.image)"
	}
	for _, c := range b.agent.Candidates(m, localOnly) {
		if !c.CanSee() {
			continue
		}
		if c == m {
			return "seen by " + c.Label()
		}
		return fmt.Sprintf("seen by %s (%s can't see pictures)", c.Label(), m.Label())
	}
	return "no model of this chat can see pictures"
}
