package bridge

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"

	"waclaw/config"
	"waclaw/store"
)

// role is what the access policy lets a message do.
type role int

const (
	roleIgnore  role = iota // dropped silently, never stored or answered
	rolePairing             // an unknown sender under dmPolicy "pairing"
	roleUser                // may talk to the model
	roleAdmin               // may also run commands
	roleNotice              // internal: a rate-limit notice to send
)

// Pairing codes: 8 characters with no look-alikes (0/O, 1/I/L), valid for
// an hour, at most three waiting at once.
const (
	pairingAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
	pairingLength   = 8
	pairingTTL      = time.Hour
	maxPendingPairs = 3
)

// Answers reports whether the access policy lets in reach the model (or a
// command): channels use it before telling a sender something, such as
// that media cannot be read, so strangers learn nothing.
func (b *Bridge) Answers(ctx context.Context, in Inbound) bool {
	r, err := b.decide(ctx, in)
	return err == nil && (r == roleUser || r == roleAdmin)
}

// decide applies the access policy of channels.whatsapp to a message.
func (b *Bridge) decide(ctx context.Context, in Inbound) (role, error) {
	w := b.cfg.WhatsApp
	if in.FromSelf {
		// The linked account's own messages are the owner's, but only in
		// its self-chat; elsewhere they are the owner talking to people.
		if in.SelfChat && w.SelfChatMode {
			return roleAdmin, nil
		}
		return roleIgnore, nil
	}
	number := in.SenderPhone
	entry, known, err := b.accessEntry(ctx, number)
	if err != nil {
		return roleIgnore, err
	}
	admin := number != "" && (slices.Contains(w.Admins, number) || (known && entry.Admin && entry.State == store.AccessAllowed))
	if known && entry.State == store.AccessBlocked && !slices.Contains(w.Admins, number) {
		return roleIgnore, nil
	}
	allowed := admin || (known && entry.State == store.AccessAllowed) || listed(w.AllowFrom, number)

	if in.IsGroup {
		if !b.groupAllows(in, number, allowed) {
			return roleIgnore, nil
		}
		if admin {
			return roleAdmin, nil
		}
		return roleUser, nil
	}
	switch {
	case w.DMPolicy == "disabled":
		return roleIgnore, nil
	case admin:
		return roleAdmin, nil
	case allowed, w.DMPolicy == "open":
		return roleUser, nil
	case w.DMPolicy == "pairing" && number != "":
		return rolePairing, nil
	}
	return roleIgnore, nil // allowlist: unknown senders get no answer at all
}

func (b *Bridge) accessEntry(ctx context.Context, number string) (store.AccessEntry, bool, error) {
	if number == "" {
		return store.AccessEntry{}, false, nil
	}
	e, ok, err := b.store.Access(ctx, number)
	if err != nil {
		return e, false, fmt.Errorf("read access list: %w", err)
	}
	return e, ok, nil
}

// groupAllows: groups are off unless listed (or groupPolicy "open"), and
// then only messages that mention the bot or reply to it count, from
// senders groupAllowFrom admits.
func (b *Bridge) groupAllows(in Inbound, number string, allowed bool) bool {
	w := b.cfg.WhatsApp
	g, listedGroup := w.Groups[in.ChatID]
	if !listedGroup {
		g, listedGroup = w.Groups["*"]
	}
	switch w.GroupPolicy {
	case "disabled":
		return false
	case "allowlist":
		if !listedGroup {
			return false
		}
	case "open":
		if !listedGroup {
			g = config.Group{RequireMention: true}
		}
	}
	if g.RequireMention && !in.MentionsMe && !in.RepliesToMe {
		return false
	}
	if len(w.GroupAllowFrom) > 0 && !listed(w.GroupAllowFrom, number) && !allowed {
		return false
	}
	return true
}

func listed(list []string, number string) bool {
	return slices.Contains(list, "*") || (number != "" && slices.Contains(list, number))
}

// pair answers an unknown sender once with a code an admin can approve.
// A sender with a code still waiting, or any sender while three are
// waiting, gets no answer: repeated messages do not mint codes.
func (b *Bridge) pair(ctx context.Context, j job) (reason, text string, err error) {
	number := j.in.SenderPhone
	// Chats run in parallel: the count and the new code must be one step,
	// or a flood of new senders gets past the cap.
	b.pairMu.Lock()
	defer b.pairMu.Unlock()
	now := b.now()
	entry, known, err := b.accessEntry(ctx, number)
	if err != nil {
		return "", "", err
	}
	if known && entry.State == store.AccessPending && now.Before(entry.CodeExpiresAt) {
		return "awaiting pairing approval", "", nil
	}
	n, err := b.store.PendingCount(ctx, now)
	if err != nil {
		return "", "", fmt.Errorf("count pairing requests: %w", err)
	}
	if n >= maxPendingPairs {
		b.log.Warn("pairing request ignored: too many waiting", "waiting", n)
		return "too many pairing requests waiting", "", nil
	}
	var code string
	for range 5 {
		code = newPairingCode()
		err = b.store.SetAccess(ctx, store.AccessEntry{Number: number, State: store.AccessPending, PairingCode: code, CodeExpiresAt: now.Add(pairingTTL)})
		if !errors.Is(err, store.ErrPairingCodeInUse) {
			break
		}
	}
	if err != nil {
		return "", "", fmt.Errorf("save pairing code: %w", err)
	}
	if err := b.store.SetSetting(ctx, pairChatKey(number), j.in.ChatID); err != nil {
		return "", "", fmt.Errorf("save pairing chat: %w", err)
	}
	b.log.Info("pairing code issued", "expires", now.Add(pairingTTL).Format(time.TimeOnly))
	msg := fmt.Sprintf("Hi! This is a private assistant. To talk to it, ask its owner to approve this code:\n\n*%s*\n\nThe code is valid for one hour.", code)
	return "pairing code sent", msg, nil
}

func pairChatKey(number string) string { return "pairchat:" + number }

func newPairingCode() string {
	b := make([]byte, pairingLength)
	rand.Read(b)
	for i := range b {
		b[i] = pairingAlphabet[int(b[i])%len(pairingAlphabet)]
	}
	return string(b)
}
