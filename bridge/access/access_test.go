package access

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
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
	code, _, err := p.RequestPairing(ctx, stranger, "chat-of-stranger")
	if err != nil || code == "" {
		t.Fatalf("RequestPairing = %q, %v", code, err)
	}
	if got := decide(t, p, inGroup); got != Ignore {
		t.Errorf("a stranger with a code waiting, in the group: %v; want Ignore", got)
	}
	if _, _, err := p.Approve(ctx, code, false); err != nil {
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
	p, _, clk := newPolicy(t, defaultBlock)
	ctx := context.Background()
	code, reason, err := p.RequestPairing(ctx, stranger, "chat-of-stranger")
	if err != nil || len(code) != 8 || reason != ReasonCodeSent {
		t.Fatalf("RequestPairing = %q, %q, %v; want an 8-character code", code, reason, err)
	}
	if again, reason, _ := p.RequestPairing(ctx, stranger, "chat-of-stranger"); again != "" || reason != ReasonWaiting {
		t.Errorf("a second request while one waits = %q, %q; want no new code", again, reason)
	}
	if pending, _ := p.Pending(ctx); len(pending) != 1 || pending[0].PairingCode != code {
		t.Errorf("Pending = %+v; want the one code", pending)
	}
	number, chat, err := p.Approve(ctx, " "+code[:4]+code[4:]+" ", true)
	if err != nil || number != stranger || chat != "chat-of-stranger" {
		t.Fatalf("Approve = %q, %q, %v; want the number and the chat to tell", number, chat, err)
	}
	if got := decide(t, p, Sender{Chat: stranger, Phone: stranger}); got != Admin {
		t.Errorf("approved as an admin: %v", got)
	}
	if _, _, err := p.Approve(ctx, code, false); !errors.Is(err, ErrBadCode) {
		t.Errorf("approving a used code: %v; want ErrBadCode", err)
	}

	// At most MaxPending wait at once; an hour later they have expired.
	for i := range MaxPending + 1 {
		code, reason, _ := p.RequestPairing(ctx, fmt.Sprintf("+1555000010%d", i), "c")
		if (i < MaxPending) != (code != "") {
			t.Errorf("request %d: code %q (%s); want codes for the first %d only", i, code, reason, MaxPending)
		}
	}
	first, _ := p.Pending(ctx)
	clk.Advance(PairingTTL + time.Minute)
	if _, _, err := p.Approve(ctx, first[0].PairingCode, false); !errors.Is(err, ErrBadCode) {
		t.Errorf("approving an expired code: %v; want ErrBadCode", err)
	}
	if code, _, _ := p.RequestPairing(ctx, "+15550000109", "c"); code == "" {
		t.Error("after the codes expired a new sender got no code")
	}
}
