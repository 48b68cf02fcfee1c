package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"waclaw/bridge"
)

// Reconnect limits for connect failures that whatsmeow does not retry.
const (
	maxConnectFailures = 10
	versionTimeout     = 30 * time.Second
	prefillTimeout     = 30 * time.Second
)

// handleEvent is the one event handler registered with whatsmeow. Its
// result is whatsmeow's success status: false leaves a message
// unacknowledged (with SynchronousAck), so WhatsApp delivers it again.
func (a *Adapter) handleEvent(rawEvt any) bool {
	a.update(func(s *State) { s.LastEvent = a.now() })
	switch evt := rawEvt.(type) {
	case *events.Message:
		return a.handleMessage(evt)
	case *events.Connected:
		a.handleConnected()
	case *events.MediaRetry:
		a.handleMediaRetry(evt)
	case *events.PushNameSetting:
		a.syncPresence(true)
	case *events.PairSuccess:
		a.update(func(s *State) { s.LinkedNumber = phoneOf(evt.ID.ToNonAD()) })
	case *events.Disconnected:
		a.mu.Lock()
		a.presence = "" // WhatsApp forgets it with the connection
		a.mu.Unlock()
		a.update(func(s *State) { s.Connected = false })
	case *events.KeepAliveTimeout:
		a.log.Warn("whatsapp: keep-alive ping failed", "errors", evt.ErrorCount, "last_success", evt.LastSuccess)
		a.update(func(s *State) { s.Degraded = true })
	case *events.KeepAliveRestored:
		a.update(func(s *State) { s.Degraded = false })
	case *events.LoggedOut:
		a.handleLoggedOut(evt)
	case *events.StreamReplaced:
		a.stop(StopStreamReplaced, time.Time{}, true)
		a.goBackground(func(context.Context) { a.cli.Disconnect() })
	case *events.TemporaryBan:
		a.handleTemporaryBan(evt)
	case *events.ClientOutdated:
		a.handleClientOutdated()
	case *events.ConnectFailure:
		a.connectFailed(fmt.Sprintf("connect failure %s %s", evt.Reason, evt.Message))
	case *events.OfflineSyncPreview:
		a.log.Info("whatsapp: catching up on messages received while offline",
			"total", evt.Total, "messages", evt.Messages, "notifications", evt.Notifications,
			"receipts", evt.Receipts, "app_data", evt.AppDataChanges)
	case *events.OfflineSyncCompleted:
		a.log.Info("whatsapp: caught up on offline messages", "count", evt.Count)

	case *events.QR, *events.PairError, *events.QRScannedWithoutMultidevice:
		// Pairing: GetQRChannel reports these to Pair.
	case *events.UndecryptableMessage:
		// whatsmeow already asked the sender to retry.
		a.log.Debug("whatsapp: message could not be decrypted", "id", evt.Info.ID, "chat", evt.Info.Chat.String())
	case *events.HistorySync, *events.Receipt, *events.ChatPresence, *events.Presence,
		*events.AppState, *events.AppStateSyncComplete, *events.Contact, *events.PushName,
		*events.BusinessName, *events.Pin, *events.Star, *events.Mute, *events.Archive,
		*events.MarkChatAsRead, *events.ClearChat, *events.DeleteChat, *events.DeleteForMe,
		*events.UnarchiveChatsSetting, *events.UserStatusMute, *events.LabelEdit,
		*events.LabelAssociationChat, *events.LabelAssociationMessage, *events.Picture,
		*events.UserAbout, *events.IdentityChange, *events.PrivacySettings, *events.Blocklist,
		*events.GroupInfo, *events.JoinedGroup:
		// Ignored on purpose: the bot keeps no contact list, read state or
		// history beyond its own store.
	case *events.CallOffer:
		a.handleCallOffer(evt)
	case *events.CallOfferNotice, *events.CallAccept, *events.CallPreAccept, *events.CallTransport,
		*events.CallRelayLatency, *events.CallTerminate, *events.CallReject, *events.UnknownCallEvent:
		// Group calls (offer notices) and the rest of a call's life: the
		// bot takes no calls, and rejects 1:1 offers only.
	default:
		a.log.Debug("whatsapp: unhandled event", "type", fmt.Sprintf("%T", rawEvt))
	}
	return true
}

// handleMessage passes a message to the handler and reports whether it was
// handled: only then may whatsmeow acknowledge it. A message whose sender
// could not be looked up, or whose chat could not be moved to its key, is
// left unacknowledged too, so WhatsApp delivers it again.
func (a *Adapter) handleMessage(evt *events.Message) bool {
	evt = unwrapped(evt)
	in, reason, err := a.inbound(evt)
	if err != nil {
		a.log.Warn("whatsapp: message not taken; WhatsApp will deliver it again", "id", evt.Info.ID, "err", err)
		return false
	}
	a.remember(evt, in, reason)
	if reason != "" {
		a.log.Debug("whatsapp: ignored message", "id", evt.Info.ID, "chat", evt.Info.Chat.String(), "reason", reason)
		return true
	}
	if err := a.moveLearned(evt, in); err != nil {
		a.log.Warn("whatsapp: message not taken; WhatsApp will deliver it again", "id", in.MessageID, "err", err)
		return false
	}
	a.mu.Lock()
	h := a.handler
	a.mu.Unlock()
	if h == nil {
		a.log.Warn("whatsapp: message arrived before the bridge was ready; WhatsApp will deliver it again", "id", in.MessageID)
		return false
	}
	if err := h.Handle(a.ctx, in); err != nil {
		a.log.Warn("whatsapp: message not recorded; WhatsApp will deliver it again", "id", in.MessageID, "err", redactErr(err))
		return false
	}
	return true
}

// moveLearned moves what is stored under the LIDs a message names to the
// phone numbers it shows for them: its DM chat's and its sender's.
func (a *Adapter) moveLearned(evt *events.Message, in bridge.Inbound) error {
	if key, err := types.ParseJID(in.ChatID); err == nil {
		if err := a.moveToKey(a.ctx, wireChat(evt), key); err != nil {
			return err
		}
	}
	if d := digits(in.SenderPhone); d != "" {
		return a.moveToKey(a.ctx, evt.Info.Sender.ToNonAD(), types.NewJID(d, types.DefaultUserServer))
	}
	return nil
}

// Bounds on what the adapter remembers of inbound messages, so that its
// memory stays small whatever strangers send.
const (
	quoteMemory  = 2048 // messages that a reply may quote
	quoteSnippet = 300  // characters of a quoted message's text kept
	timerMemory  = 4096 // chats whose disappearing-message timer is known
)

// remember keeps what replies need: the address the chat wrote from, the
// message to quote, as a short snippet, and the chat's
// disappearing-message timer. A group message not addressed to the bot
// (no mention, no reply to it) will not be answered, so nothing of it is
// kept.
func (a *Adapter) remember(evt *events.Message, in bridge.Inbound, reason string) {
	evt = unwrapped(evt)
	if evt == nil || evt.Message == nil {
		return
	}
	if pm := evt.Message.GetProtocolMessage(); pm != nil && pm.GetType() == waE2E.ProtocolMessage_EPHEMERAL_SETTING {
		chat := a.timerChat(evt)
		a.mu.Lock()
		a.setTimer(chat, pm.GetEphemeralExpiration())
		a.mu.Unlock()
		return
	}
	if reason != "" {
		return
	}
	chat := in.ChatID
	if key, err := types.ParseJID(chat); err == nil {
		a.noteAddress(key, wireChat(evt))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if in.Revokes != "" {
		// Deleted for everyone: the bot must not quote it back.
		a.msgs.del(in.Revokes)
		return
	}
	if in.IsGroup && !in.MentionsMe && !in.RepliesToMe {
		return
	}
	c := contentOf(evt.Message)
	if c.ci != nil {
		a.setTimer(chat, c.ci.GetExpiration())
	}
	// The quote shows the message as its sender wrote it (with the
	// mention the bridge does not see).
	a.msgs.put(in.MessageID, quoteRef{chat: chat, sender: evt.Info.Sender.ToNonAD(), text: snippet(c.text, quoteSnippet)})
}

// timerChat is the key of the chat a disappearing-timer change is for.
// The timer only shapes replies, so a number that cannot be looked up
// leaves it keyed by the address.
func (a *Adapter) timerChat(evt *events.Message) string {
	wire := wireChat(evt)
	alt := evt.Info.SenderAlt
	if evt.Info.IsFromMe {
		alt = evt.Info.RecipientAlt
	}
	key, err := a.person(wire, alt)
	if err != nil {
		a.log.Debug("whatsapp: disappearing timer kept under the chat's address", "err", err)
	}
	return key.String()
}

// setTimer records a chat's disappearing-message timer; a.mu held.
func (a *Adapter) setTimer(chat string, seconds uint32) {
	if seconds == 0 {
		a.timers.del(chat)
		return
	}
	a.timers.put(chat, seconds)
}

// snippet is the first n characters of s, copied so that a long message
// is not kept alive by its first words.
func snippet(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return strings.Clone(s[:j]) + "…"
		}
		i++
	}
	return strings.Clone(s)
}

// handleCallOffer rejects a 1:1 call when Options.RejectCalls is set and
// tells the handler, which decides whether to text the caller (it knows
// who may talk to the bot; strangers hear nothing). On a personal number
// the owner takes their own calls, so nothing is done. Call events are
// acknowledged whatever the handler says: WhatsApp does not offer a call
// again.
func (a *Adapter) handleCallOffer(evt *events.CallOffer) {
	if !a.opts.RejectCalls {
		return
	}
	caller, alt := evt.CallCreator.ToNonAD(), evt.CallCreatorAlt
	if caller.IsEmpty() {
		caller, alt = evt.From.ToNonAD(), types.EmptyJID
	}
	pn, lid, _ := a.cli.Identity()
	switch {
	case !evt.GroupJID.IsEmpty():
		a.log.Debug("whatsapp: group call left alone", "call", evt.CallID)
		return
	case caller.User == "" || sameUser(caller, pn) || sameUser(caller, lid):
		a.log.Debug("whatsapp: own call left alone", "call", evt.CallID)
		return
	}
	if err := a.cli.RejectCall(a.ctx, caller, evt.CallID); err != nil {
		a.log.Warn("whatsapp: reject a call", "call", evt.CallID, "err", redactErr(err))
	}
	// WhatsApp does not offer a call again, so a number that cannot be
	// looked up leaves the caller named by their LID (and, without a
	// number, most likely untold).
	key, err := a.person(caller, alt)
	if err != nil {
		a.log.Warn("whatsapp: a caller's number could not be looked up", "call", evt.CallID, "err", err)
	}
	a.noteAddress(key, caller)
	if err := a.moveToKey(a.ctx, caller, key); err != nil {
		a.log.Warn("whatsapp: a caller's chat stays under their LID for now", "call", evt.CallID, "err", err)
	}
	in := bridge.Inbound{
		ChatID:      key.String(),
		SenderID:    key.String(),
		SenderPhone: phoneOf(key),
		Media:       "call",
		MessageID:   evt.CallID,
		Time:        evt.Timestamp,
	}
	a.mu.Lock()
	h := a.handler
	a.mu.Unlock()
	if h == nil {
		a.log.Warn("whatsapp: a call came before the bridge was ready; the caller is not told", "call", evt.CallID)
		return
	}
	if err := h.Handle(a.ctx, in); err != nil {
		a.log.Warn("whatsapp: call not recorded; the caller is not told", "call", evt.CallID, "err", redactErr(err))
	}
}

// handleConnected records a healthy connection, sends the presence (see
// presence.go) and looks up the LIDs of known numbers.
func (a *Adapter) handleConnected() {
	pn, _, _ := a.cli.Identity()
	now := a.now()
	a.mu.Lock()
	a.failures, a.offline = 0, 0
	a.outdatedTried = false
	a.presence = ""
	a.mu.Unlock()
	a.update(func(s *State) {
		if n := phoneOf(pn); n != "" {
			s.LinkedNumber = n
		}
		s.Connected, s.Degraded, s.LastConnected = true, false, now
		s.Stopped, s.StopReason, s.Until, s.LastError = false, "", time.Time{}, ""
	})
	a.log.Info("whatsapp: connected", "account", bridge.HashID(phoneOf(pn)))
	if a.opts.OnConnected != nil {
		a.opts.OnConnected(now)
	}
	a.syncPresence(true)
	a.prefillLIDs()
}

// prefillLIDs asks WhatsApp for the LIDs of the known numbers; whatsmeow's
// GetUserInfo stores the mappings, so a LID-addressed message from them
// resolves to their number.
func (a *Adapter) prefillLIDs() {
	var jids []types.JID
	for _, n := range a.opts.KnownNumbers {
		if d := digits(n); d != "" {
			jids = append(jids, types.NewJID(d, types.DefaultUserServer))
		}
	}
	if len(jids) == 0 {
		return
	}
	a.goBackground(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, prefillTimeout)
		defer cancel()
		if _, err := a.cli.GetUserInfo(ctx, jids); err != nil {
			a.log.Warn("whatsapp: look up the LIDs of allowed numbers", "count", len(jids), "err", redactErr(err))
		}
	})
}

func (a *Adapter) handleLoggedOut(evt *events.LoggedOut) {
	a.log.Error("whatsapp: logged out; run `waclaw pair` to link again", "reason", evt.Reason.String(), "on_connect", evt.OnConnect)
	a.update(func(s *State) { s.LinkedNumber = "" })
	a.stop(StopLoggedOut, time.Time{}, true)
}

func (a *Adapter) handleTemporaryBan(evt *events.TemporaryBan) {
	reason := StopReason(fmt.Sprintf("%s (%s)", StopTemporaryBan, evt.Code))
	if evt.Expire <= 0 {
		a.log.Error("whatsapp: temporarily banned; the ban has no end date, so waclaw stops", "code", evt.Code.String())
		a.stop(reason, time.Time{}, true)
		return
	}
	until := a.now().Add(evt.Expire)
	a.log.Error("whatsapp: temporarily banned; reconnecting when it expires", "code", evt.Code.String(), "until", until)
	a.stop(reason, until, false)
	a.reconnectAfter(evt.Expire)
}

// handleClientOutdated fetches the current WhatsApp Web version once and
// reconnects with it; if that fails or happens again, it stops.
func (a *Adapter) handleClientOutdated() {
	a.log.Error("whatsapp: WhatsApp rejected this client version as outdated (405)", "version", store.GetWAVersion().String())
	a.mu.Lock()
	if a.pairing {
		a.mu.Unlock()
		return // Pair updates the version and starts again with a new QR code
	}
	tried := a.outdatedTried
	a.outdatedTried = true
	a.mu.Unlock()
	if tried {
		a.stop(StopClientOutdated, time.Time{}, true)
		return
	}
	a.update(func(s *State) { s.Connected, s.LastError = false, "client version outdated" })
	a.goBackground(func(ctx context.Context) {
		if err := a.refreshVersion(ctx); err != nil {
			a.log.Error("whatsapp: find the current WhatsApp Web version", "err", err)
			a.stop(StopClientOutdated, time.Time{}, true)
			return
		}
		a.reconnect(ctx, "reconnect after a version update: ")
	})
}

// refreshVersion fetches the current WhatsApp Web version and connects
// with it from now on; it fails when none newer than the one in use is
// published.
func (a *Adapter) refreshVersion(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	latest, err := a.fetchVersion(ctx)
	if err != nil {
		return fmt.Errorf("fetch the current WhatsApp Web version: %w", err)
	}
	if latest == nil || !store.GetWAVersion().LessThan(*latest) {
		return errors.New("no newer version published")
	}
	a.log.Warn("whatsapp: retrying with the current WhatsApp Web version", "version", latest.String())
	a.setVersion(*latest)
	return nil
}

// connectFailed backs off and reconnects, up to maxConnectFailures in a
// row.
func (a *Adapter) connectFailed(why string) {
	a.mu.Lock()
	a.failures++
	n := a.failures
	a.mu.Unlock()
	a.update(func(s *State) { s.Connected, s.LastError = false, why })
	if n > maxConnectFailures {
		a.log.Error("whatsapp: giving up after repeated connect failures", "failures", n-1, "last", redact(why))
		a.stop(StopReason(fmt.Sprintf("%s (%s)", StopConnectFailed, why)), time.Time{}, true)
		return
	}
	d := backoff(n)
	a.log.Warn("whatsapp: connection failed; retrying", "in", d, "attempt", n, "reason", redact(why))
	a.reconnectAfter(d)
}

// backoff is the wait before reconnect attempt n (from 1).
func backoff(n int) time.Duration {
	steps := []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute}
	if n-1 < len(steps) {
		return steps[max(n-1, 0)]
	}
	return 5 * time.Minute
}

// reconnectAfter connects again after d, unless a reconnect is already
// waiting or the adapter is closed.
func (a *Adapter) reconnectAfter(d time.Duration) {
	a.mu.Lock()
	if a.reconnecting {
		a.mu.Unlock()
		return
	}
	a.reconnecting = true
	a.mu.Unlock()
	a.goBackground(func(ctx context.Context) {
		err := a.sleep(ctx, d)
		a.mu.Lock()
		a.reconnecting = false
		a.mu.Unlock()
		if err != nil {
			return
		}
		a.reconnect(ctx, "reconnect: ")
	})
}

// reconnect connects again; a failure is retried later, forever while the
// network is in the way, else up to maxConnectFailures times.
func (a *Adapter) reconnect(ctx context.Context, what string) {
	err := a.connect(ctx)
	var u *UnreachableError
	switch {
	case err == nil, errors.Is(err, whatsmeow.ErrAlreadyConnected), ctx.Err() != nil:
	case errors.As(err, &u):
		a.unreachableRetry(u, true)
	default:
		a.connectFailed(what + err.Error())
	}
}

// stop records why the adapter stopped; a permanent stop closes Done.
func (a *Adapter) stop(reason StopReason, until time.Time, permanent bool) {
	a.update(func(s *State) {
		s.Connected, s.Stopped, s.StopReason, s.Until = false, true, string(reason), until
	})
	if permanent {
		a.log.Error("whatsapp: stopped", "reason", string(reason))
		a.mu.Lock()
		select {
		case <-a.done:
		default:
			close(a.done)
		}
		a.mu.Unlock()
	}
}

// digits keeps the digits of a phone number.
func digits(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			out = append(out, s[i])
		}
	}
	return string(out)
}
