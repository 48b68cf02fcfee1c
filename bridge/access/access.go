// Package access decides who may talk to the bot and what they may do, and
// is the one place that changes who may: the chat commands (/allow, /deny,
// /pair) and the shell (`waclaw access`) call the same methods, so the two
// cannot drift apart.
//
// The rules, from channels.whatsapp: the linked account's own self-chat is
// the owner (an admin); numbers in admins, and numbers approved as admins,
// are admins; allowFrom and approved numbers are users; a blocked number is
// ignored unless the config makes it an admin. Unknown senders get a
// pairing code under dmPolicy "pairing" (one at a time each, a limited
// number at once, see RequestPairing) and nothing otherwise. Groups are
// off unless listed, and then only messages addressed to the bot count,
// from people allowed in DMs or listed in groupAllowFrom.
package access

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"waclaw/config"
	"waclaw/store"
)

// Role is what the policy lets a message do.
type Role int

// The roles, from least to most.
const (
	Ignore  Role = iota // dropped silently: never stored, answered or read
	Pairing             // an unknown sender under dmPolicy "pairing": may get a code
	User                // may talk to the model
	Admin               // may also run commands
)

// Answered reports whether the role reaches the model or a command.
func (r Role) Answered() bool { return r == User || r == Admin }

// Sender is what the policy needs to know of a message.
type Sender struct {
	Chat  string // the conversation: a DM peer or a group's id
	Phone string // the sender's number in E.164, "" when unknown
	Group bool   // sent in a group
	// Addressed is set when a group message mentions the bot or replies
	// to it.
	Addressed bool
	// FromSelf is set for messages written by the linked account (or the
	// person at the terminal); SelfChat when that is in the account's own
	// "message yourself" chat, which is the owner's.
	FromSelf, SelfChat bool
}

// Pairing codes: 8 characters with no look-alikes (0/O, 1/I/L), valid for
// an hour. One number holds at most one code at a time, and at most
// MaxPending wait at once.
const (
	pairingAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
	pairingLength   = 8
	PairingTTL      = time.Hour
	MaxPending      = 10
	// PairingCooldown is how long a number whose code expired unapproved
	// waits before it can get another, so one number cannot keep asking
	// the owner; it is also how long a requester told that too many
	// requests are waiting is not told again.
	PairingCooldown = 24 * time.Hour
	// MaxToldPerHour caps the "too many requests waiting" notices, all
	// requesters together: under a flood of new numbers they would
	// otherwise take the outbound budget from the people the bot answers,
	// and sending hundreds of unsolicited messages gets a number banned.
	// A requester over it is not marked as told, so asking again later
	// can still get them the notice or a code.
	MaxToldPerHour = 20
	// pruneEvery is how often RequestPairing clears out pairing entries
	// that are done with.
	pruneEvery = time.Hour
)

// Why RequestPairing did or did not issue a code, for the inbox and logs.
const (
	ReasonCodeSent = "pairing code sent"
	ReasonWaiting  = "awaiting pairing approval"
	ReasonTooMany  = "too many pairing requests waiting"
	ReasonCooling  = "pairing code expired unapproved; no new one yet"
	ReasonFull     = "too many pairing requests waiting, and too many told so this hour"
	ReasonKnown    = "already on the access list"
)

// Request is RequestPairing's answer to one message from an unknown
// sender: what to tell whom. The bridge sends TellRequester, when it is
// not "", to the chat the message came from, and TellOwner, when it is
// not "", to the owner; it records Reason. Nobody is dropped silently: a
// requester who gets no code is told why once (too many waiting), or
// already knows (their code is waiting, or expired unapproved).
type Request struct {
	Code    string    // the new pairing code; "" when none was issued
	Expires time.Time // when Code stops working; zero without a code
	Reason  string    // one of the Reason constants
	// TellRequester is the text for the requester: their code, or that
	// too many requests are waiting (once per PairingCooldown); "" means
	// say nothing.
	TellRequester string
	// TellOwner is the text for the owner when a code was issued: who
	// asked and how to approve them; "" otherwise.
	TellOwner string
}

// ErrBadCode is returned for a pairing code that is unknown or expired.
var ErrBadCode = errors.New("no pairing request has that code (it may have expired: codes last an hour)")

// AlreadyApproved is Approve's error for a code this policy approved
// before: the number it names may already message the bot.
type AlreadyApproved struct{ Number string }

func (e AlreadyApproved) Error() string {
	return "that code was already approved: " + e.Number + " may message the bot"
}

// Policy applies channels.whatsapp's rules and the access list in the
// store. It is safe for concurrent use.
type Policy struct {
	cfg   config.WhatsApp
	store *store.Store
	now   func() time.Time

	pairMu    sync.Mutex    // serialises changes: check the caps, then mint
	lastPrune time.Time     // guarded by pairMu
	told      *rate.Limiter // "too many waiting" notices; guarded by pairMu
	// approved remembers the codes approved in this run, by code, so that
	// a second approval (two admins, or a retyped command) is told so
	// rather than that the code may have expired; guarded by pairMu.
	approved map[string]string
}

// New returns the policy of cfg over the access list in st; now is the
// clock pairing codes expire by (time.Now when nil).
func New(cfg config.WhatsApp, st *store.Store, now func() time.Time) *Policy {
	if now == nil {
		now = time.Now
	}
	return &Policy{cfg: cfg, store: st, now: now, told: rate.NewLimiter(rate.Every(time.Hour/MaxToldPerHour), MaxToldPerHour), approved: map[string]string{}}
}

// Decide applies the policy to one message.
func (p *Policy) Decide(ctx context.Context, s Sender) (Role, error) {
	if s.FromSelf {
		// The linked account's own messages are the owner's, but only in
		// its self-chat; elsewhere they are the owner talking to people.
		if s.SelfChat {
			return Admin, nil
		}
		return Ignore, nil
	}
	w := p.cfg
	number := s.Phone
	entry, known, err := p.entry(ctx, number)
	if err != nil {
		return Ignore, err
	}
	configAdmin := number != "" && slices.Contains(w.Admins, number)
	if known && entry.State == store.AccessBlocked && !configAdmin {
		return Ignore, nil
	}
	admin := configAdmin || (known && entry.Admin && entry.State == store.AccessAllowed)
	allowed := admin || (known && entry.State == store.AccessAllowed) || listed(w.AllowFrom, number)

	if s.Group {
		if !p.groupAllows(s, number, allowed) {
			return Ignore, nil
		}
		if admin {
			return Admin, nil
		}
		return User, nil
	}
	switch {
	case w.DMPolicy == "disabled":
		return Ignore, nil
	case admin:
		return Admin, nil
	case allowed, w.DMPolicy == "open":
		return User, nil
	case w.DMPolicy == "pairing" && number != "":
		return Pairing, nil
	}
	return Ignore, nil // allowlist: unknown senders get no answer at all
}

func (p *Policy) entry(ctx context.Context, number string) (store.AccessEntry, bool, error) {
	if number == "" {
		return store.AccessEntry{}, false, nil
	}
	e, ok, err := p.store.Access(ctx, number)
	if err != nil {
		return e, false, fmt.Errorf("read access list: %w", err)
	}
	return e, ok, nil
}

// groupAllows: groups are off unless listed (or groupPolicy "open"), and
// then only messages that mention the bot or reply to it count, from
// senders allowed in DMs (allowed: allowFrom, admins, approved numbers) or
// listed in groupAllowFrom. Being in a group with the bot is no
// introduction: "*" in groupAllowFrom is the only way to let every member
// in.
func (p *Policy) groupAllows(s Sender, number string, allowed bool) bool {
	w := p.cfg
	g, listedGroup := w.Groups[s.Chat]
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
	if g.RequireMention && !s.Addressed {
		return false
	}
	return allowed || listed(w.GroupAllowFrom, number)
}

func listed(list []string, number string) bool {
	return slices.Contains(list, "*") || (number != "" && slices.Contains(list, number))
}

// Number turns what a person typed into an E.164 number, or says how to
// write it. It is config.NormalizePhone, so a number typed to /allow or
// `waclaw access` is read as the config reads allowFrom: with its country
// code, or not at all.
func Number(typed string) (string, error) {
	return config.NormalizePhone(typed)
}

// AdminChange says what Allow does to a number's admin flag.
type AdminChange int

// What Allow does to the admin flag. Removing admin is always explicit:
// allowing a number never demotes it.
const (
	KeepAdmin   AdminChange = iota // an admin stays one; anyone else is not made one
	MakeAdmin                      // also make the number an admin
	RemoveAdmin                    // allowed, but no longer an admin
)

// Allow lets a number talk to the bot, whatever its state was (blocked,
// pending or unknown), and changes its admin flag as asked. It returns the
// entry as stored.
func (p *Policy) Allow(ctx context.Context, typed string, admin AdminChange) (store.AccessEntry, error) {
	return p.set(ctx, typed, func(e *store.AccessEntry) {
		e.State = store.AccessAllowed
		switch admin {
		case MakeAdmin:
			e.Admin = true
		case RemoveAdmin:
			e.Admin = false
		}
	})
}

// Deny blocks a number: its messages are ignored and it is no longer an
// admin. It returns the entry as stored. A number that an older waclaw
// stored without checking it (like +5551234) can still be denied by
// writing it exactly as `access list` shows it.
func (p *Policy) Deny(ctx context.Context, typed string) (store.AccessEntry, error) {
	block := func(e *store.AccessEntry) { e.State, e.Admin = store.AccessBlocked, false }
	if _, err := Number(typed); err != nil {
		if e, ok, lerr := p.store.Access(ctx, strings.TrimSpace(typed)); lerr == nil && ok {
			p.pairMu.Lock()
			defer p.pairMu.Unlock()
			e.PairingCode, e.CodeExpiresAt = "", time.Time{}
			block(&e)
			if err := p.store.SetAccess(ctx, e); err != nil {
				return store.AccessEntry{}, err
			}
			return e, nil
		}
	}
	return p.set(ctx, typed, block)
}

// set changes the entry of the number typed, dropping any pairing code it
// held, and stores it.
func (p *Policy) set(ctx context.Context, typed string, change func(e *store.AccessEntry)) (store.AccessEntry, error) {
	number, err := Number(typed)
	if err != nil {
		return store.AccessEntry{}, err
	}
	// One change at a time, so that a pairing request read just before
	// cannot turn the number back into a request.
	p.pairMu.Lock()
	defer p.pairMu.Unlock()
	entry, _, err := p.store.Access(ctx, number)
	if err != nil {
		return store.AccessEntry{}, err
	}
	entry.Number, entry.PairingCode, entry.CodeExpiresAt = number, "", time.Time{}
	change(&entry)
	if err := p.store.SetAccess(ctx, entry); err != nil {
		return store.AccessEntry{}, err
	}
	return entry, nil
}

// ConfigAdmin reports whether the config file lists number as an admin,
// which the access list cannot override: such a number stays an admin
// even when denied.
func (p *Policy) ConfigAdmin(number string) bool { return slices.Contains(p.cfg.Admins, number) }

// RequestPairing answers an unknown sender's message under dmPolicy
// "pairing", remembering chatID to tell them when they are approved. A
// number gets a code unless one of theirs is waiting (silence: they have
// it), theirs expired unapproved less than PairingCooldown ago (silence:
// the owner did not answer), or MaxPending codes are waiting (they are
// told so once per PairingCooldown). The state it keeps is one access
// entry per number that got a code or was told, cleared by Prune.
func (p *Policy) RequestPairing(ctx context.Context, number, chatID string) (Request, error) {
	// Chats run in parallel: the count and the new code must be one step,
	// or a flood of new senders gets past the cap.
	p.pairMu.Lock()
	defer p.pairMu.Unlock()
	now := p.now()
	if now.Sub(p.lastPrune) >= pruneEvery {
		if _, err := p.prune(ctx, now); err != nil {
			return Request{}, err
		}
	}
	entry, known, err := p.entry(ctx, number)
	if err != nil {
		return Request{}, err
	}
	if known && entry.State != store.AccessPending {
		// Allowed or blocked since the message was judged: not a stranger.
		return Request{Reason: ReasonKnown}, nil
	}
	hasCode := known && entry.PairingCode != ""
	switch {
	case hasCode && now.Before(entry.CodeExpiresAt):
		return Request{Reason: ReasonWaiting}, nil
	case hasCode && now.Before(entry.CodeExpiresAt.Add(PairingCooldown)):
		return Request{Reason: ReasonCooling}, nil
	}
	n, err := p.store.PendingCount(ctx, now)
	if err != nil {
		return Request{}, fmt.Errorf("count pairing requests: %w", err)
	}
	if n >= MaxPending {
		// A pending entry without a code, expiring when they may be told
		// again, remembers that they were told.
		if known && !hasCode && now.Before(entry.CodeExpiresAt) {
			return Request{Reason: ReasonTooMany}, nil
		}
		if !p.told.AllowN(now, 1) {
			return Request{Reason: ReasonFull}, nil
		}
		told := store.AccessEntry{Number: number, State: store.AccessPending, CodeExpiresAt: now.Add(PairingCooldown)}
		if err := p.store.SetAccess(ctx, told); err != nil {
			return Request{}, fmt.Errorf("save pairing request: %w", err)
		}
		return Request{Reason: ReasonTooMany, TellRequester: tooManyText}, nil
	}
	expires := now.Add(PairingTTL)
	var code string
	for range 5 {
		code = newPairingCode()
		err = p.store.SetAccess(ctx, store.AccessEntry{Number: number, State: store.AccessPending, PairingCode: code, CodeExpiresAt: expires})
		if !errors.Is(err, store.ErrPairingCodeInUse) {
			break
		}
	}
	if err != nil {
		return Request{}, fmt.Errorf("save pairing code: %w", err)
	}
	if err := p.store.SetPairingChat(ctx, number, chatID); err != nil {
		return Request{}, fmt.Errorf("save pairing chat: %w", err)
	}
	return Request{
		Code: code, Expires: expires, Reason: ReasonCodeSent,
		TellRequester: fmt.Sprintf(codeText, code),
		TellOwner:     fmt.Sprintf(ownerText, number, code),
	}, nil
}

// What RequestPairing has the bridge say.
const (
	codeText    = "Hi! This is a private assistant. To talk to it, ask its owner to approve this code:\n\n**%s**\n\nThe code is valid for one hour."
	ownerText   = "%s wants to talk to the bot: /pair approve %s (valid for one hour)"
	tooManyText = "Hi! This is a private assistant. Its owner has too many requests waiting right now, so no code could be given. Please try again later."
)

// Prune deletes the pairing entries that are done with: numbers whose
// code expired more than PairingCooldown ago, and numbers told that too
// many requests were waiting whose PairingCooldown has passed. It
// returns how many it deleted. RequestPairing also prunes, at most once
// an hour, so a flood of requesters leaves no lasting rows.
func (p *Policy) Prune(ctx context.Context) (int, error) {
	p.pairMu.Lock()
	defer p.pairMu.Unlock()
	return p.prune(ctx, p.now())
}

func (p *Policy) prune(ctx context.Context, now time.Time) (int, error) {
	n, err := p.store.PrunePending(ctx, now.Add(-PairingCooldown), now)
	if err != nil {
		return 0, err
	}
	p.lastPrune = now
	return n, nil
}

// Pending lists the pairing requests still waiting, by number.
func (p *Policy) Pending(ctx context.Context) ([]store.AccessEntry, error) {
	entries, err := p.store.AccessList(ctx)
	if err != nil {
		return nil, err
	}
	now := p.now()
	return slices.DeleteFunc(entries, func(e store.AccessEntry) bool { return !waiting(e, now) }), nil
}

// List is every number allowed or blocked, and the pairing requests still
// waiting, by number. Pending entries that hold no waiting code (an
// expired code, a requester told that too many were waiting) only pace
// pairing and are left out.
func (p *Policy) List(ctx context.Context) ([]store.AccessEntry, error) {
	entries, err := p.store.AccessList(ctx)
	if err != nil {
		return nil, err
	}
	now := p.now()
	return slices.DeleteFunc(entries, func(e store.AccessEntry) bool {
		return e.State == store.AccessPending && !waiting(e, now)
	}), nil
}

// waiting reports whether e is a pairing request whose code can still be
// approved at now.
func waiting(e store.AccessEntry, now time.Time) bool {
	return e.State == store.AccessPending && e.PairingCode != "" && now.Before(e.CodeExpiresAt)
}

// Approve allows the number that asked for code, as an admin if asked. It
// returns the number and the chat the request came from ("" if unknown),
// where the sender can be told.
func (p *Policy) Approve(ctx context.Context, code string, admin bool) (number, chatID string, err error) {
	p.pairMu.Lock()
	defer p.pairMu.Unlock()
	code = strings.ToUpper(strings.TrimSpace(code))
	entry, ok, err := p.store.AccessByCode(ctx, code)
	if err != nil {
		return "", "", err
	}
	if !ok || !waiting(entry, p.now()) {
		if number, done := p.approved[code]; done && !ok {
			return "", "", AlreadyApproved{Number: number}
		}
		return "", "", ErrBadCode
	}
	// Read the chat while the entry still holds its code: Prune forgets
	// the chats of numbers that do not.
	chatID, _, chatErr := p.store.PairingChat(ctx, entry.Number)
	entry.State, entry.PairingCode, entry.CodeExpiresAt, entry.Admin = store.AccessAllowed, "", time.Time{}, admin
	if err := p.store.SetAccess(ctx, entry); err != nil {
		return "", "", err
	}
	if len(p.approved) >= 1024 {
		clear(p.approved) // a bound, not a history: codes are rarely approved twice
	}
	p.approved[code] = entry.Number
	if chatErr != nil {
		return entry.Number, "", fmt.Errorf("%s is approved, but the chat to tell them in could not be read: %w", entry.Number, chatErr)
	}
	return entry.Number, chatID, nil
}

func newPairingCode() string {
	b := make([]byte, pairingLength)
	rand.Read(b)
	for i := range b {
		b[i] = pairingAlphabet[int(b[i])%len(pairingAlphabet)]
	}
	return string(b)
}
