package main

import (
	"strings"
	"testing"
)

// These never reach WhatsApp: they stop before connecting.
func TestLogoutAndPairWithoutNetwork(t *testing.T) {
	data := t.TempDir()
	var out, errOut strings.Builder
	if err := runWithInput(t, "", &out, &errOut, "--data-dir", data, "logout"); err != nil {
		t.Fatalf("logout with nothing linked: %v", err)
	}
	if !strings.Contains(out.String(), "No WhatsApp account is linked") {
		t.Errorf("logout said %q", out.String())
	}
	err := runWithInput(t, "", &out, &errOut, "--data-dir", data, "pair", "--phone", "12")
	if err == nil || !strings.Contains(err.Error(), "12") {
		t.Errorf("pair with a bad number: %v; want it refused before connecting", err)
	}
	// The WhatsApp session tables live in waclaw's own database file.
	out.Reset()
	if err := runWithInput(t, "", &out, &errOut, "--data-dir", data, "access", "list"); err != nil {
		t.Fatalf("access list after whatsmeow's tables were added: %v", err)
	}
}
