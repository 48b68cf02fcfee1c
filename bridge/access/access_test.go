package access

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"waclaw/config"
	"waclaw/config/clock"
	"waclaw/store"
)

const (
	owner    = "+15550000001" // an admin in the config
	friend   = "+15550000002" // in allowFrom
	stranger = "+15550000003"
)

// newPolicy is the policy of a channels.whatsapp block over a fresh
// database, with a clock the test moves.
func newPolicy(t *testing.T, whatsapp string) (*Policy, *store.Store, *clock.Manual) {
	t.Helper()
	src := fmt.Sprintf(`{ channels: { whatsapp: %s } }`, whatsapp)
	cfg, err := config.Parse("t", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "waclaw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewManual(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	st.SetClock(clk.Now)
	return New(cfg.WhatsApp, st, clk.Now), st, clk
}

// defaultBlock is a dedicated bot number, where strangers may ask to pair.
var defaultBlock = fmt.Sprintf(`{ selfChatMode: false, admins: [%q], allowFrom: [%q] }`, owner, friend)

func decide(t *testing.T, p *Policy, s Sender) Role {
	t.Helper()
	r, err := p.Decide(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDecide(t *testing.T) {
	const group = "120363000000000001@g.us"
	tests := []struct {
		name     string
		whatsapp string
		sender   Sender
		want     Role
	}{
		{"owner in the self-chat", defaultBlock, Sender{Chat: "self", FromSelf: true, SelfChat: true}, Admin},
		{"owner writing to someone else", defaultBlock, Sender{Chat: friend, FromSelf: true}, Ignore},
		{"admin from the config", defaultBlock, Sender{Chat: owner, Phone: owner}, Admin},
		{"allowFrom", defaultBlock, Sender{Chat: friend, Phone: friend}, User},
		{"stranger under pairing", defaultBlock, Sender{Chat: stranger, Phone: stranger}, Pairing},
		{"stranger writing to a personal number", fmt.Sprintf(`{ admins: [%q], allowFrom: [%q] }`, owner, friend), Sender{Chat: stranger, Phone: stranger}, Ignore},
		{"friend writing to a personal number", fmt.Sprintf(`{ admins: [%q], allowFrom: [%q] }`, owner, friend), Sender{Chat: friend, Phone: friend}, User},
		{"stranger with no number", defaultBlock, Sender{Chat: "x@lid"}, Ignore},
		{"stranger under allowlist", fmt.Sprintf(`{ dmPolicy: "allowlist", allowFrom: [%q] }`, friend), Sender{Chat: stranger, Phone: stranger}, Ignore},
		{"anyone under open", `{ dmPolicy: "open", allowFrom: ["*"] }`, Sender{Chat: stranger, Phone: stranger}, User},
		{"DMs disabled", fmt.Sprintf(`{ dmPolicy: "disabled", allowFrom: [%q] }`, friend), Sender{Chat: friend, Phone: friend}, Ignore},
		{"unlisted group", defaultBlock, Sender{Chat: group, Phone: friend, Group: true, Addressed: true}, Ignore},
		{"listed group, not addressed", fmt.Sprintf(`{ groups: { %q: {} } }`, group), Sender{Chat: group, Phone: stranger, Group: true}, Ignore},
		{"stranger in a listed group mentioning the bot", fmt.Sprintf(`{ groups: { %q: {} } }`, group), Sender{Chat: group, Phone: stranger, Group: true, Addressed: true}, Ignore},
		{"allowFrom in a listed group mentioning the bot", fmt.Sprintf(`{ allowFrom: [%q], groups: { %q: {} } }`, friend, group), Sender{Chat: group, Phone: friend, Group: true, Addressed: true}, User},
		{"stranger in a group open to every member", fmt.Sprintf(`{ groups: { %q: {} }, groupAllowFrom: ["*"] }`, group), Sender{Chat: group, Phone: stranger, Group: true, Addressed: true}, User},
		{"member with no known number, group open to every member", fmt.Sprintf(`{ groups: { %q: {} }, groupAllowFrom: ["*"] }`, group), Sender{Chat: group, Group: true, Addressed: true}, User},
		{"stranger listed in groupAllowFrom", fmt.Sprintf(`{ groups: { %q: {} }, groupAllowFrom: [%q] }`, group, stranger), Sender{Chat: group, Phone: stranger, Group: true, Addressed: true}, User},
		{"stranger in a group under groupPolicy open", `{ groupPolicy: "open" }`, Sender{Chat: group, Phone: stranger, Group: true, Addressed: true}, Ignore},
		{"admin in a listed group", fmt.Sprintf(`{ admins: [%q], groups: { %q: {} } }`, owner, group), Sender{Chat: group, Phone: owner, Group: true, Addressed: true}, Admin},
		{"groupAllowFrom keeps others out", fmt.Sprintf(`{ groups: { "*": {} }, groupAllowFrom: [%q] }`, friend), Sender{Chat: group, Phone: stranger, Group: true, Addressed: true}, Ignore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, _ := newPolicy(t, tt.whatsapp)
			if got := decide(t, p, tt.sender); got != tt.want {
				t.Errorf("Decide(%+v) = %v; want %v", tt.sender, got, tt.want)
			}
		})
	}
}

// A number approved for DMs, by pairing or from the shell, may also talk
// to the bot in the groups it answers in; being blocked keeps it out.
func TestGroupsFollowWhoIsAllowedInDMs(t *testing.T) {
	const group = "120363000000000001@g.us"
	p, _, _ := newPolicy(t, fmt.Sprintf(`{ selfChatMode: false, groups: { %q: {} } }`, group))
	ctx := context.Background()
	inGroup := Sender{Chat: group, Phone: stranger, Group: true, Addressed: true}
	if got := decide(t, p, inGroup); got != Ignore {
		t.Fatalf("a stranger in the group: %v; want Ignore", got)
	}
	req, err := p.RequestPairing(ctx, stranger, "chat-of-stranger")
	if err != nil || req.Code == "" {
		t.Fatalf("RequestPairing = %+v, %v", req, err)
	}
	if got := decide(t, p, inGroup); got != Ignore {
		t.Errorf("a stranger with a code waiting, in the group: %v; want Ignore", got)
	}
	if _, _, err := p.Approve(ctx, req.Code, false); err != nil {
		t.Fatal(err)
	}
	if got := decide(t, p, inGroup); got != User {
		t.Errorf("an approved number in the group: %v; want User", got)
	}
	if _, err := p.Deny(ctx, stranger); err != nil {
		t.Fatal(err)
	}
	if got := decide(t, p, inGroup); got != Ignore {
		t.Errorf("a denied number in the group: %v; want Ignore", got)
	}
	if _, err := p.Allow(ctx, stranger, MakeAdmin); err != nil {
		t.Fatal(err)
	}
	if got := decide(t, p, inGroup); got != Admin {
		t.Errorf("a number allowed as an admin, in the group: %v; want Admin", got)
	}
}

// Allowing a number again never takes its admin rights away: the shell's
// `access allow` once did, while the chat's /allow did not.
func TestAllowNeverDemotes(t *testing.T) {
	p, _, _ := newPolicy(t, defaultBlock)
	ctx := context.Background()
	if _, err := p.Allow(ctx, "+1 555 000 0009", MakeAdmin); err != nil {
		t.Fatal(err)
	}
	e, err := p.Allow(ctx, "+15550000009", KeepAdmin)
	if err != nil || !e.Admin || e.State != store.AccessAllowed {
		t.Fatalf("Allow(KeepAdmin) of an admin = %+v, %v; want still an allowed admin", e, err)
	}
	if got := decide(t, p, Sender{Chat: "+15550000009", Phone: "+15550000009"}); got != Admin {
		t.Errorf("after allowing an admin again: %v; want Admin", got)
	}
	if e, _ := p.Allow(ctx, "+15550000009", RemoveAdmin); e.Admin || e.State != store.AccessAllowed {
		t.Errorf("Allow(RemoveAdmin) = %+v; want allowed, not an admin", e)
	}
	if got := decide(t, p, Sender{Chat: "+15550000009", Phone: "+15550000009"}); got != User {
		t.Errorf("after removing admin: %v; want User", got)
	}
	if _, err := p.Allow(ctx, "call me", KeepAdmin); err == nil || !strings.Contains(err.Error(), "international form") {
		t.Errorf("Allow of something that is not a number = %v; want it refused, saying how to write one", err)
	}
}

// A number typed to /allow, /deny or `waclaw access` is read as the
// config reads allowFrom: without a country code it is refused, never
// stored with a "+" guessed in front of a local number.
func TestNumberNeedsTheCountryCode(t *testing.T) {
	tests := []struct{ typed, want, err string }{
		{typed: "+1 (555) 000-0009", want: "+15550000009"},
		{typed: "0044 20 7946 0958", want: "+442079460958"},
		{typed: "5551234", err: `"5551234" has no country code: write it in international form with the country code, like +15551234567`},
		{typed: "15550000009", err: `"15550000009" has no country code: write it in international form`},
		{typed: "+5551234", err: "too short for an international number"},
		{typed: "call me", err: `"call me" is not a phone number: write it in international form`},
	}
	for _, tt := range tests {
		t.Run(tt.typed, func(t *testing.T) {
			got, err := Number(tt.typed)
			if tt.err == "" {
				if err != nil || got != tt.want {
					t.Errorf("Number(%q) = %q, %v; want %q", tt.typed, got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Number(%q) = %q, %v; want an error containing %q", tt.typed, got, err, tt.err)
			}
		})
	}

	p, st, _ := newPolicy(t, defaultBlock)
	for _, typed := range []string{"5551234", "+5551234"} {
		if e, err := p.Allow(context.Background(), typed, MakeAdmin); err == nil {
			t.Errorf("Allow(%q) = %+v; want it refused", typed, e)
		}
	}
	if list, err := st.AccessList(context.Background()); err != nil || len(list) != 0 {
		t.Errorf("access list after refused numbers = %+v, %v; want nothing stored", list, err)
	}
}

func TestDenyBlocksAndDemotes(t *testing.T) {
	p, _, _ := newPolicy(t, defaultBlock)
	ctx := context.Background()
	p.Allow(ctx, stranger, MakeAdmin)
	e, err := p.Deny(ctx, stranger)
	if err != nil || e.Admin || e.State != store.AccessBlocked {
		t.Fatalf("Deny = %+v, %v; want blocked and not an admin", e, err)
	}
	if got := decide(t, p, Sender{Chat: stranger, Phone: stranger}); got != Ignore {
		t.Errorf("a denied number: %v; want Ignore", got)
	}
	// allowFrom does not override a deny; admins in the config do, and the
	// policy says so.
	p.Deny(ctx, friend)
	if got := decide(t, p, Sender{Chat: friend, Phone: friend}); got != Ignore {
		t.Errorf("a denied allowFrom number: %v; want Ignore", got)
	}
	p.Deny(ctx, owner)
	if got := decide(t, p, Sender{Chat: owner, Phone: owner}); got != Admin || !p.ConfigAdmin(owner) || p.ConfigAdmin(friend) {
		t.Errorf("a denied config admin: %v, ConfigAdmin %v; want still Admin, and said so", got, p.ConfigAdmin(owner))
	}
}

func TestPairingRequestAndApproval(t *testing.T) {
	p, _, _ := newPolicy(t, defaultBlock)
	ctx := context.Background()
	req, err := p.RequestPairing(ctx, stranger, "chat-of-stranger")
	if err != nil || len(req.Code) != 8 || req.Reason != ReasonCodeSent {
		t.Fatalf("RequestPairing = %+v, %v; want an 8-character code", req, err)
	}
	code := req.Code
	if !strings.Contains(req.TellRequester, "**"+code+"**") || !strings.Contains(req.TellRequester, "one hour") {
		t.Errorf("the requester is told %q; want the code and how long it lasts", req.TellRequester)
	}
	if want := stranger + " wants to talk to the bot: /pair approve " + code + " (valid for one hour)"; req.TellOwner != want {
		t.Errorf("the owner is told %q; want %q", req.TellOwner, want)
	}
	// The requester has their code: more messages get nothing new.
	if again, _ := p.RequestPairing(ctx, stranger, "chat-of-stranger"); again != (Request{Reason: ReasonWaiting}) {
		t.Errorf("a second request while one waits = %+v; want silence", again)
	}
	if pending, _ := p.Pending(ctx); len(pending) != 1 || pending[0].PairingCode != code {
		t.Errorf("Pending = %+v; want the one code", pending)
	}
	number, chat, err := p.Approve(ctx, " "+strings.ToLower(code)+" ", true)
	if err != nil || number != stranger || chat != "chat-of-stranger" {
		t.Fatalf("Approve = %q, %q, %v; want the number and the chat to tell", number, chat, err)
	}
	if got := decide(t, p, Sender{Chat: stranger, Phone: stranger}); got != Admin {
		t.Errorf("approved as an admin: %v", got)
	}
	var already AlreadyApproved
	if _, _, err := p.Approve(ctx, code, false); !errors.As(err, &already) || already.Number != stranger {
		t.Errorf("approving a used code: %v; want AlreadyApproved naming %s", err, stranger)
	}
	if again, _ := p.RequestPairing(ctx, stranger, "chat-of-stranger"); again.Code != "" || again.TellRequester != "" {
		t.Errorf("RequestPairing for an approved number = %+v; want nothing, and no demotion", again)
	}
	if got := decide(t, p, Sender{Chat: stranger, Phone: stranger}); got != Admin {
		t.Errorf("after a stray pairing request: %v; want still Admin", got)
	}
}

// A code that expires unapproved is not replaced at once: one number
// cannot keep asking the owner. The owner can still let them in.
func TestPairingCooldown(t *testing.T) {
	p, _, clk := newPolicy(t, defaultBlock)
	ctx := context.Background()
	first, _ := p.RequestPairing(ctx, stranger, "c")
	clk.Advance(PairingTTL)
	if _, _, err := p.Approve(ctx, first.Code, false); !errors.Is(err, ErrBadCode) {
		t.Errorf("approving an expired code: %v; want ErrBadCode", err)
	}
	if req, _ := p.RequestPairing(ctx, stranger, "c"); req != (Request{Reason: ReasonCooling}) {
		t.Errorf("asking again right after the code expired = %+v; want silence", req)
	}
	if pending, _ := p.Pending(ctx); len(pending) != 0 {
		t.Errorf("Pending = %+v; want none", pending)
	}
	if list, _ := p.List(ctx); len(list) != 0 {
		t.Errorf("List = %+v; want no entry for an expired request", list)
	}
	clk.Advance(PairingCooldown - time.Minute)
	if req, _ := p.RequestPairing(ctx, stranger, "c"); req.Code != "" {
		t.Errorf("asking again a minute before the cooldown ends = %+v; want no code", req)
	}
	clk.Advance(time.Minute)
	second, _ := p.RequestPairing(ctx, stranger, "c")
	if second.Code == "" || second.Code == first.Code || second.TellOwner == "" {
		t.Fatalf("asking again after the cooldown = %+v; want a new code, and the owner told", second)
	}
	clk.Advance(PairingTTL)
	if _, err := p.Allow(ctx, stranger, KeepAdmin); err != nil {
		t.Fatal(err)
	}
	if got := decide(t, p, Sender{Chat: stranger, Phone: stranger}); got != User {
		t.Errorf("allowed by the owner while cooling down: %v; want User", got)
	}
}

// A flood of new numbers gets MaxPending codes; the next MaxToldPerHour
// are told once that too many requests are waiting, and not again; the
// rest, over that budget, hear nothing and leave nothing; nobody blocks
// the rest for long, and the state left behind is pruned.
func TestPairingFlood(t *testing.T) {
	p, st, clk := newPolicy(t, defaultBlock)
	ctx := context.Background()
	const n = 1000
	number := func(i int) string { return fmt.Sprintf("+1555%07d", i) }
	rows := func() int {
		t.Helper()
		var n int
		if err := st.DB().QueryRow(`SELECT count(*) FROM access`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var codes, told, full []int
	for i := range n {
		req, err := p.RequestPairing(ctx, number(i), "c")
		switch {
		case err != nil:
			t.Fatal(err)
		case req.Code != "" && req.TellOwner != "":
			codes = append(codes, i)
		case req.Reason == ReasonTooMany && strings.Contains(req.TellRequester, "too many requests waiting"):
			told = append(told, i)
		case req.Reason == ReasonFull && req.TellRequester == "" && req.TellOwner == "":
			full = append(full, i)
		default:
			t.Fatalf("request %d = %+v; want a code, being told that too many are waiting, or (over the notices' budget) silence", i, req)
		}
	}
	if len(codes) != MaxPending || len(told) != MaxToldPerHour || len(full) != n-MaxPending-MaxToldPerHour {
		t.Fatalf("%d codes, %d told, %d not told; want %d codes, %d told, the rest not told", len(codes), len(told), len(full), MaxPending, MaxToldPerHour)
	}
	// Only those told something leave a row: those over the notices'
	// budget are not marked as told, so they can be later.
	if got := rows(); got != MaxPending+MaxToldPerHour {
		t.Errorf("%d access rows after %d requesters; want one per requester told something (%d)", got, n, MaxPending+MaxToldPerHour)
	}
	// Everyone writes again: nobody gets a new code or another message.
	clk.Advance(time.Minute)
	for i := range n {
		if req, _ := p.RequestPairing(ctx, number(i), "c"); req.Code != "" || req.TellRequester != "" || req.TellOwner != "" {
			t.Fatalf("request %d again = %+v; want silence", i, req)
		}
	}
	if got := rows(); got != MaxPending+MaxToldPerHour {
		t.Errorf("%d access rows after everyone wrote again; want still %d", got, MaxPending+MaxToldPerHour)
	}
	// When the codes expire there is room again, also for one who was
	// told there was none; those whose codes expired wait their turn.
	clk.Advance(PairingTTL)
	if req, _ := p.RequestPairing(ctx, number(told[0]), "c"); req.Code == "" {
		t.Errorf("a requester told there was no room, once there is: %+v; want a code", req)
	}
	if req, _ := p.RequestPairing(ctx, "+15559999999", "c"); req.Code == "" {
		t.Errorf("a new requester once there is room: %+v; want a code", req)
	}
	if req, _ := p.RequestPairing(ctx, number(codes[0]), "c"); req.Code != "" {
		t.Errorf("a requester whose code expired unapproved: %+v; want no new code yet", req)
	}
	// Once the notices' quiet period is over their rows go, with no one
	// but the next requester calling for it; the expired codes' rows go
	// when their cooldown ends.
	clk.Advance(PairingCooldown - PairingTTL)
	if req, _ := p.RequestPairing(ctx, "+15558888888", "c"); req.Code == "" {
		t.Errorf("a requester a day later: %+v; want a code", req)
	}
	if got := rows(); got != MaxPending+3 {
		t.Errorf("%d access rows a day later; want %d (the codes still cooling down, and the new one)", got, MaxPending+3)
	}
	clk.Advance(2 * PairingTTL)
	if _, err := p.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rows(); got != 1 {
		t.Errorf("%d access rows once the flood's cooldowns ended; want only the later requester's", got)
	}
	var chats int
	st.DB().QueryRow(`SELECT count(*) FROM settings WHERE key LIKE 'pairchat:%'`).Scan(&chats)
	if chats != 1 {
		t.Errorf("%d pairing chats left; want only the later requester's", chats)
	}
}

// Chats run in parallel: the cap holds when requests race.
func TestPairingCapUnderConcurrency(t *testing.T) {
	p, _, _ := newPolicy(t, defaultBlock)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := 0
	for i := range 4 * MaxPending {
		wg.Go(func() {
			req, err := p.RequestPairing(ctx, fmt.Sprintf("+1555000%04d", i), "c")
			if err != nil {
				t.Error(err)
			}
			if req.Code != "" {
				mu.Lock()
				codes++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if codes != MaxPending {
		t.Errorf("%d codes issued to %d racing requesters; want %d", codes, 4*MaxPending, MaxPending)
	}
}

// A number an older waclaw stored without checking it can still be
// blocked, written as `access list` shows it.
func TestDenyALegacyNumber(t *testing.T) {
	p, st, _ := newPolicy(t, defaultBlock)
	ctx := context.Background()
	if err := st.SetAccess(ctx, store.AccessEntry{Number: "+5551234", State: store.AccessAllowed, Admin: true}); err != nil {
		t.Fatal(err)
	}
	e, err := p.Deny(ctx, "+5551234")
	if err != nil || e.State != store.AccessBlocked || e.Admin {
		t.Fatalf("Deny(+5551234) = %+v, %v; want it blocked", e, err)
	}
	if _, err := p.Deny(ctx, "+5559999"); err == nil {
		t.Error("Deny of a short number nobody stored succeeded; want the number's error")
	}
}
