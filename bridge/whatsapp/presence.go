package whatsapp

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow/types"
)

// typingMax ends a typing indicator nobody turned off.
const typingMax = 10 * time.Minute

// Presence is what the owner's contacts see of the linked account. Most
// people link waclaw to their own number, so the account must not look
// "online" because the bot is connected: that shows them online to
// everyone around the clock and silences the notifications on their
// phone, which stops buzzing while another device is active. So the
// account is "unavailable" whenever it connects, "available" only while a
// reply is being typed, and "unavailable" again when the last chat stops
// typing. whatsmeow never sends a presence by itself; it sends delivery
// receipts as "inactive" while the account is unavailable.
//
// Every presence and chat-state the adapter sends goes out under
// typingMu, so what a contact sees is always in this order.

// typingChat is one chat showing "typing".
type typingChat struct {
	stop context.CancelFunc
}

// syncPresence sends the presence the account should have now: available
// while a chat is typing, else unavailable. It is sent even when it was
// sent already when force is set (after connecting or a push name change,
// WhatsApp needs it again). WhatsApp needs the push name with a presence,
// which a freshly paired device learns only from app state
// (events.PushNameSetting), so it may have to wait for that.
func (a *Adapter) syncPresence(force bool) {
	a.typingMu.Lock()
	defer a.typingMu.Unlock()
	if _, _, name := a.cli.Identity(); name == "" {
		a.log.Debug("whatsapp: presence waits for the push name")
		return
	}
	a.mu.Lock()
	connected, want := a.state.Connected, a.wantPresenceLocked()
	a.mu.Unlock()
	if !connected {
		return
	}
	if err := a.setPresence(a.ctx, want, force); err != nil {
		a.log.Warn("whatsapp: send presence", "presence", string(want), "err", redactErr(err))
	}
}

// wantPresenceLocked is the presence the account should have; a.mu held.
func (a *Adapter) wantPresenceLocked() types.Presence {
	if len(a.typing) > 0 {
		return types.PresenceAvailable
	}
	return types.PresenceUnavailable
}

// setPresence sends p unless it was the last presence sent on this
// connection and force is not set. typingMu held.
func (a *Adapter) setPresence(ctx context.Context, p types.Presence, force bool) error {
	a.mu.Lock()
	last := a.presence
	a.mu.Unlock()
	if last == p && !force {
		return nil
	}
	if err := a.cli.SendPresence(ctx, p); err != nil {
		return fmt.Errorf("send presence %s: %w", p, err)
	}
	a.mu.Lock()
	a.presence = p
	a.mu.Unlock()
	return nil
}

// Typing shows "typing..." in a chat, or clears it. While it is on, the
// account is available and both are sent again every
// Options.TypingRefresh (WhatsApp clears "typing" after about 25 s) until
// it is turned off or typingMax passes; when no chat is typing any more,
// the account goes back to unavailable.
func (a *Adapter) Typing(ctx context.Context, chatID string, on bool) error {
	to, err := chatJID(chatID)
	if err != nil {
		return fmt.Errorf("typing: %w", err)
	}
	to = a.address(to)
	a.typingMu.Lock()
	defer a.typingMu.Unlock()
	a.mu.Lock()
	if old := a.typing[chatID]; old != nil {
		old.stop()
		delete(a.typing, chatID)
	}
	a.mu.Unlock()
	if !on {
		return a.stopTyping(ctx, to)
	}

	tctx, cancel := context.WithCancel(a.ctx)
	tc := &typingChat{stop: cancel}
	a.mu.Lock()
	a.typing[chatID] = tc
	a.mu.Unlock()
	if err := a.setPresence(ctx, types.PresenceAvailable, false); err != nil {
		a.log.Debug("whatsapp: show typing: presence", "err", err)
	}
	if err := a.cli.SendChatPresence(ctx, to, types.ChatPresenceComposing, types.ChatPresenceMediaText); err != nil {
		cancel()
		a.mu.Lock()
		delete(a.typing, chatID)
		a.mu.Unlock()
		if perr := a.settle(ctx); perr != nil {
			a.log.Debug("whatsapp: show typing: presence", "err", perr)
		}
		return fmt.Errorf("show typing: %w", redactErr(err))
	}
	a.goBackground(func(context.Context) { a.refreshTyping(tctx, chatID, to, tc) })
	return nil
}

// stopTyping sends "paused" to a chat, then unavailable if no chat is
// typing any more. typingMu held.
func (a *Adapter) stopTyping(ctx context.Context, to types.JID) error {
	err := a.cli.SendChatPresence(ctx, to, types.ChatPresencePaused, types.ChatPresenceMediaText)
	if perr := a.settle(ctx); perr != nil && err == nil {
		err = perr
	}
	if err != nil {
		return fmt.Errorf("clear typing: %w", redactErr(err))
	}
	return nil
}

// settle sends unavailable when no chat is typing. typingMu held.
func (a *Adapter) settle(ctx context.Context) error {
	a.mu.Lock()
	idle := len(a.typing) == 0
	a.mu.Unlock()
	if !idle {
		return nil
	}
	return a.setPresence(ctx, types.PresenceUnavailable, false)
}

// refreshTyping sends available and "typing" again every TypingRefresh
// until ctx ends; after typingMax of refreshes it turns typing off itself,
// so a reply that never finished leaves no one looking online.
func (a *Adapter) refreshTyping(ctx context.Context, chatID string, to types.JID, tc *typingChat) {
	defer tc.stop()
	ticks, stopTicks := a.newTicker(a.opts.TypingRefresh)
	defer stopTicks()
	for n := max(int(typingMax/a.opts.TypingRefresh), 1); n > 0; n-- {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
		a.typingMu.Lock()
		if ctx.Err() == nil {
			if err := a.setPresence(ctx, types.PresenceAvailable, true); err != nil {
				a.log.Debug("whatsapp: refresh typing: presence", "err", err)
			}
			if err := a.cli.SendChatPresence(ctx, to, types.ChatPresenceComposing, types.ChatPresenceMediaText); err != nil {
				a.log.Debug("whatsapp: refresh typing", "chat", chatID, "err", err)
			}
		}
		a.typingMu.Unlock()
	}
	a.typingMu.Lock()
	defer a.typingMu.Unlock()
	a.mu.Lock()
	mine := a.typing[chatID] == tc
	if mine {
		delete(a.typing, chatID)
	}
	a.mu.Unlock()
	if !mine || ctx.Err() != nil {
		return
	}
	a.log.Debug("whatsapp: typing left on too long; clearing it", "chat", chatID)
	if err := a.stopTyping(a.ctx, to); err != nil {
		a.log.Debug("whatsapp: clear typing", "chat", chatID, "err", err)
	}
}

// timeTicker is a time.Ticker as a channel and its stop function.
func timeTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}
