package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAccess(t *testing.T) {
	ctx := context.Background()
	s, clock := openTest(t)
	expires := t0.Add(10 * time.Minute)

	pending := AccessEntry{Number: "+15551234567", State: AccessPending, PairingCode: "ABC123", CodeExpiresAt: expires}
	if err := s.SetAccess(ctx, pending); err != nil {
		t.Fatalf("SetAccess: %v", err)
	}
	got, ok, err := s.AccessByCode(ctx, "ABC123")
	pending.CreatedAt, pending.UpdatedAt = t0, t0
	if !ok || err != nil {
		t.Fatalf("AccessByCode = %v, %v; want found", ok, err)
	}
	if diff := cmp.Diff(pending, got); diff != "" {
		t.Errorf("AccessByCode (-want +got):\n%s", diff)
	}

	// Approval replaces the entry but keeps when it was first seen.
	clock.Advance(time.Minute)
	if err := s.SetAccess(ctx, AccessEntry{Number: "+15551234567", State: AccessAllowed, Admin: true}); err != nil {
		t.Fatalf("SetAccess (approve): %v", err)
	}
	want := AccessEntry{Number: "+15551234567", State: AccessAllowed, Admin: true, CreatedAt: t0, UpdatedAt: t0.Add(time.Minute)}
	got, ok, err = s.Access(ctx, "+15551234567")
	if !ok || err != nil {
		t.Fatalf("Access = %v, %v; want found", ok, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Access after upsert (-want +got):\n%s", diff)
	}
	if _, ok, _ := s.AccessByCode(ctx, "ABC123"); ok {
		t.Error("AccessByCode found a code that was cleared")
	}
	if _, ok, _ := s.AccessByCode(ctx, ""); ok {
		t.Error(`AccessByCode("") found an entry; want none`)
	}
	if _, ok, err := s.Access(ctx, "+440000"); ok || err != nil {
		t.Errorf("Access(unknown) = %v, %v; want false, nil", ok, err)
	}

	if err := s.SetAccess(ctx, AccessEntry{Number: "+15550000001", State: AccessBlocked}); err != nil {
		t.Fatal(err)
	}
	list, err := s.AccessList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var numbers []string
	for _, e := range list {
		numbers = append(numbers, e.Number)
	}
	if diff := cmp.Diff([]string{"+15550000001", "+15551234567"}, numbers); diff != "" {
		t.Errorf("AccessList numbers (-want +got):\n%s", diff)
	}

	if err := s.SetAccess(ctx, AccessEntry{Number: "+1", State: "maybe"}); err == nil {
		t.Error("SetAccess(state maybe) succeeded; want an error")
	}
}

func TestPairingCodes(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	entries := []AccessEntry{
		{Number: "+1001", State: AccessPending, PairingCode: "111111", CodeExpiresAt: t0.Add(time.Minute)},
		{Number: "+1002", State: AccessPending, PairingCode: "222222", CodeExpiresAt: t0.Add(time.Hour)},
		{Number: "+1003", State: AccessPending, CodeExpiresAt: t0.Add(24 * time.Hour)},       // told "too many": no code
		{Number: "+1004", State: AccessAllowed, PairingCode: "", CodeExpiresAt: time.Time{}}, // not pending
	}
	for _, e := range entries {
		if err := s.SetAccess(ctx, e); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		now  time.Time
		want int
	}{
		{t0, 2},
		{t0.Add(time.Minute), 1}, // +1001's code expired at this instant
		{t0.Add(2 * time.Hour), 0},
	}
	for _, tt := range tests {
		if got, err := s.PendingCount(ctx, tt.now); got != tt.want || err != nil {
			t.Errorf("PendingCount(t0+%v) = %d, %v; want %d", tt.now.Sub(t0), got, err, tt.want)
		}
	}

	err := s.SetAccess(ctx, AccessEntry{Number: "+1005", State: AccessPending, PairingCode: "222222"})
	if !errors.Is(err, ErrPairingCodeInUse) {
		t.Errorf("SetAccess(taken code) = %v; want ErrPairingCodeInUse", err)
	}
	if e, ok, _ := s.AccessByCode(ctx, "222222"); !ok || e.Number != "+1002" {
		t.Errorf("AccessByCode(222222) = %q, %v; want +1002", e.Number, ok)
	}
}

// Pruning deletes pending entries that are done with, and the chats of
// requests no longer holding a code, so the tables stay bounded.
func TestPrunePending(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	entries := []AccessEntry{
		{Number: "+1001", State: AccessPending, PairingCode: "111111", CodeExpiresAt: t0.Add(time.Hour)},     // code expired at t0+1h
		{Number: "+1002", State: AccessPending, PairingCode: "222222", CodeExpiresAt: t0.Add(3 * time.Hour)}, // code expires later
		{Number: "+1003", State: AccessPending, CodeExpiresAt: t0.Add(time.Hour)},                            // told, quiet until t0+1h
		{Number: "+1004", State: AccessPending, CodeExpiresAt: t0.Add(5 * time.Hour)},                        // told, quiet until t0+5h
		{Number: "+1005", State: AccessPending},                                                              // no expiry: kept
		{Number: "+1006", State: AccessAllowed},
		{Number: "+1007", State: AccessBlocked},
	}
	for _, e := range entries {
		if err := s.SetAccess(ctx, e); err != nil {
			t.Fatal(err)
		}
		if err := s.SetPairingChat(ctx, e.Number, "chat"+e.Number); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetSetting(ctx, "pairchatter", "unrelated"); err != nil {
		t.Fatal(err)
	}
	// Codes that expired by t0+2h, notices whose quiet ended by t0+4h.
	n, err := s.PrunePending(ctx, t0.Add(2*time.Hour), t0.Add(4*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("PrunePending = %d, %v; want 2 deleted", n, err)
	}
	list, _ := s.AccessList(ctx)
	var left []string
	for _, e := range list {
		left = append(left, e.Number)
	}
	if diff := cmp.Diff([]string{"+1002", "+1004", "+1005", "+1006", "+1007"}, left); diff != "" {
		t.Errorf("entries left (-want +got):\n%s", diff)
	}
	for number, want := range map[string]bool{"+1001": false, "+1002": true, "+1003": false, "+1004": false, "+1006": false} {
		if chat, ok, err := s.PairingChat(ctx, number); ok != want || err != nil || (ok && chat != "chat"+number) {
			t.Errorf("PairingChat(%s) = %q, %v, %v; want kept: %v", number, chat, ok, err, want)
		}
	}
	if v, ok, _ := s.Setting(ctx, "pairchatter"); !ok || v != "unrelated" {
		t.Errorf("an unrelated setting was pruned: %q, %v", v, ok)
	}
}

func TestSettings(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	if _, ok, err := s.Setting(ctx, "model"); ok || err != nil {
		t.Errorf("Setting(unset) = %v, %v; want false, nil", ok, err)
	}
	for _, v := range []string{"local/qwen3", "openai/gpt-5-mini", ""} {
		if err := s.SetSetting(ctx, "model", v); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.Setting(ctx, "model"); got != v || !ok || err != nil {
			t.Errorf("Setting after SetSetting(%q) = %q, %v, %v", v, got, ok, err)
		}
	}
}

func TestUsageSince(t *testing.T) {
	ctx := context.Background()
	s, clock := openTest(t)
	records := []Usage{
		{ChatID: "a", Provider: "local", Model: "qwen3", TokensIn: 100, TokensOut: 20, OK: true, Latency: 1500 * time.Millisecond},
		{ChatID: "a", Provider: "openai", Model: "gpt-5-mini", TokensIn: 200, TokensOut: 40, TokensCached: 50, Cost: 0.25, OK: true, FallbackReason: "local timeout"},
		{ChatID: "b", Provider: "openai", Model: "gpt-5-mini", TokensIn: 10, Cost: 0.5, OK: false, Error: "429"},
	}
	for _, u := range records {
		if err := s.RecordUsage(ctx, u); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
	}

	tests := []struct {
		chat  string
		since time.Time
		want  UsageTotals
	}{
		{"", t0, UsageTotals{Turns: 3, Failed: 1, TokensIn: 310, TokensOut: 60, TokensCached: 50, Cost: 0.75}},
		{"a", t0, UsageTotals{Turns: 2, TokensIn: 300, TokensOut: 60, TokensCached: 50, Cost: 0.25}},
		{"a", t0.Add(time.Hour), UsageTotals{Turns: 1, TokensIn: 200, TokensOut: 40, TokensCached: 50, Cost: 0.25}},
		{"b", t0, UsageTotals{Turns: 1, Failed: 1, TokensIn: 10, Cost: 0.5}},
		{"", t0.Add(3 * time.Hour), UsageTotals{}},
		{"nobody", t0, UsageTotals{}},
	}
	for _, tt := range tests {
		got, err := s.UsageSince(ctx, tt.chat, tt.since)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("UsageSince(%q, t0+%v) (-want +got):\n%s", tt.chat, tt.since.Sub(t0), diff)
		}
	}

	var latency int64
	s.DB().QueryRow(`SELECT latency_ms FROM usage WHERE model = 'qwen3'`).Scan(&latency)
	if latency != 1500 {
		t.Errorf("stored latency_ms = %d; want 1500", latency)
	}
}
