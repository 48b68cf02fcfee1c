package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// config check says which kind of number waclaw runs on, what a stranger
// meets there and why, and who may talk in groups.
func TestConfigCheckSaysTheMode(t *testing.T) {
	tests := []struct {
		name     string
		whatsapp string
		want     []string
		warn     string // "" for none about the mode
	}{
		{"personal number by default", `{}`, []string{
			"whatsapp:  personal number (selfChatMode true): strangers get no answer and no read receipt (dmPolicy allowlist, the default for a personal number)",
			"groups:    off: none listed in groups",
			"calls:     not rejected (rejectCalls false)",
			"messages:  at most 16000 characters in; finished ones kept 72h",
		}, ""},
		{"bot number", `{ selfChatMode: false, groups: { "*": {} } }`, []string{
			"whatsapp:  bot number (selfChatMode false): strangers get a pairing code for an admin to approve (dmPolicy pairing, the default for a bot number)",
			"groups:    every group the number is in (groups \"*\"); only members allowed in DMs may talk to it",
			`calls:     rejected, and the caller is sent "Sorry, I can't take calls. Please send me a message instead."`,
		}, ""},
		{"pairing on a personal number", `{ dmPolicy: "pairing", groups: { "*": {} }, groupAllowFrom: ["*"], inboxRetention: "1h30m" }`, []string{
			"whatsapp:  personal number (selfChatMode true): strangers get a pairing code for an admin to approve (dmPolicy pairing, set in the config)",
			`any member may talk to it (groupAllowFrom "*")`,
			"finished ones kept 1h30m",
		}, "every contact who writes to you will get a pairing reply from your own number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "config.json5")
			if err := os.WriteFile(cfg, []byte(`{ channels: { whatsapp: `+tt.whatsapp+` } }`), 0o600); err != nil {
				t.Fatal(err)
			}
			out, _, err := waclaw(t, "config", "check", cfg)
			if err != nil {
				t.Fatalf("config check: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if got := strings.Contains(out, "pairing reply from your own number"); got != (tt.warn != "") || !strings.Contains(out, tt.warn) {
				t.Errorf("warning %q shown: %v; want %v:\n%s", tt.warn, got, tt.warn != "", out)
			}
		})
	}
}
