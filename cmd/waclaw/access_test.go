package main

import (
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
