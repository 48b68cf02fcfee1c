package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"waclaw/agent/agenttest"
)

// An operator on a dedicated number approves the first person from the
// shell, as an admin, who can then run commands.
func TestAccessFromTheShell(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
	cfg := seedConfig(t, lm.URL, "")
	botNumber(t, cfg)
	data := t.TempDir()
	run := func(input string, args ...string) string {
		t.Helper()
		var out, errOut strings.Builder
		err := runWithInput(t, input, &out, &errOut, append([]string{"--config", cfg, "--data-dir", data}, args...)...)
		if err != nil {
			t.Fatalf("waclaw %v: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}

	first := run("hello\n", "chat", "--as", "+1 555 000 0009")
	code := regexp.MustCompile(`\*([A-Z2-9]{8})\*`).FindStringSubmatch(first)
	if code == nil {
		t.Fatalf("a stranger under pairing got %q; want a code", first)
	}
	if got := run("", "access", "list"); !strings.Contains(got, "+15550000009") || !strings.Contains(got, code[1]) || !strings.Contains(got, "pending") {
		t.Errorf("access list = %q", got)
	}
	if got := run("", "access", "approve", code[1], "--admin"); !strings.Contains(got, "+15550000009 is approved as an admin") {
		t.Errorf("access approve = %q", got)
	}
	if got := run("/model\n", "chat", "--as", "+15550000009"); !strings.Contains(got, "Aliases:") {
		t.Errorf("the approved admin's /model = %q", got)
	}
	if got := run("", "access", "deny", "+15550000009"); !strings.Contains(got, "+15550000009 is now blocked") {
		t.Errorf("access deny = %q", got)
	}
	if got := run("hello?\n", "chat", "--as", "+15550000009"); got != "" {
		t.Errorf("a blocked number got %q", got)
	}
	var errOut strings.Builder
	err := runWithInput(t, "", &strings.Builder{}, &errOut, "--data-dir", data, "access", "approve", "ZZZZZZZZ")
	if err == nil || !strings.Contains(err.Error(), "no pairing request has that code") {
		t.Errorf("approving an unknown code: %v", err)
	}
}

// Allowing an admin again from the shell keeps them an admin: only
// --admin=false or deny takes admin away. Through the real binary, as an
// operator types it.
func TestAccessAllowKeepsAdmin(t *testing.T) {
	data := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "config.json5")
	if err := os.WriteFile(cfg, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	waclaw := func(args ...string) string {
		t.Helper()
		cmd, out := child(t, nil, append([]string{"--config", cfg, "--data-dir", data}, args...)...)
		if err := cmd.Run(); err != nil {
			t.Fatalf("waclaw %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out.String()
	}
	adminRow := regexp.MustCompile(`(?m)^\+15550000009\s+allowed\s+true\b`)
	userRow := regexp.MustCompile(`(?m)^\+15550000009\s+allowed\s+false\b`)

	if got := waclaw("access", "allow", "+1 555 000 0009", "--admin"); !strings.Contains(got, "+15550000009 is now allowed (admin)") {
		t.Errorf("allow --admin said %q", got)
	}
	if got := waclaw("access", "allow", "+15550000009"); !strings.Contains(got, "+15550000009 is now allowed (admin)") {
		t.Errorf("allowing an admin again said %q; want them still an admin", got)
	}
	if got := waclaw("access", "list"); !adminRow.MatchString(got) {
		t.Errorf("access list after allowing an admin again:\n%s\nwant +15550000009 allowed and admin", got)
	}
	if got := waclaw("access", "allow", "+15550000009", "--admin=false"); !strings.Contains(got, "+15550000009 is now allowed\n") {
		t.Errorf("allow --admin=false said %q; want allowed, no longer an admin", got)
	}
	if got := waclaw("access", "list"); !userRow.MatchString(got) {
		t.Errorf("access list after --admin=false:\n%s\nwant +15550000009 allowed, not an admin", got)
	}
}

// botNumber makes the config file at path a dedicated bot number's
// (selfChatMode false), where strangers may ask for pairing.
func botNumber(t *testing.T, path string) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(src), "{", "{ channels: { whatsapp: { selfChatMode: false } },", 1)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
