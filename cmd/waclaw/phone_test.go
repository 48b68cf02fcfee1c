package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// howTo ends every refusal of a phone number, wherever it was typed.
const howTo = "write it in international form with the country code, like +15551234567"

// A number without its country code is refused the same way by every
// command that takes one, before anything is stored or any connection
// made; with "+" or "00" the same number is accepted in any spacing.
func TestPhoneNumbersOneWayEverywhere(t *testing.T) {
	data := t.TempDir()
	var out, errOut strings.Builder

	err := runWithInput(t, "", &out, &errOut, "--data-dir", data, "access", "allow", "5551234")
	if err == nil || !strings.Contains(err.Error(), `"5551234" has no country code: `+howTo) {
		t.Errorf("access allow 5551234: %v; want it refused, saying how to write the number", err)
	}
	err = runWithInput(t, "", &out, &errOut, "--data-dir", data, "access", "allow", "+5551234")
	if err == nil || !strings.Contains(err.Error(), `"+5551234" is too short for an international number`) {
		t.Errorf("access allow +5551234: %v; want it refused as too short", err)
	}
	out.Reset()
	if err := runWithInput(t, "", &out, &errOut, "--data-dir", data, "access", "list"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "5551234") {
		t.Errorf("access list after refused numbers = %q; want nothing stored", out.String())
	}
	out.Reset()
	if err := runWithInput(t, "", &out, &errOut, "--data-dir", data, "access", "allow", "0044 20 7946-0958"); err != nil || !strings.Contains(out.String(), "+442079460958") {
		t.Errorf("access allow with 00 = %q, %v; want +442079460958 allowed", out.String(), err)
	}

	err = runWithInput(t, "", &out, &errOut, "--data-dir", t.TempDir(), "pair", "--phone", "15550001111")
	if err == nil || !strings.Contains(err.Error(), `"15550001111" has no country code: `+howTo) {
		t.Errorf("pair --phone 15550001111: %v; want it refused before connecting, saying how to write the number", err)
	}

	err = runWithInput(t, "hello\n", &out, &errOut, "--data-dir", t.TempDir(), "chat", "--as", "555-1234")
	if err == nil || !strings.Contains(err.Error(), `"555-1234" has no country code: `+howTo) {
		t.Errorf("chat --as 555-1234: %v; want it refused, saying how to write the number", err)
	}
}

// config check points at the number it refuses, by path and line:column
// (column 31 is the opening quote of "555-1234").
func TestConfigCheckRefusesALocalNumber(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.json5")
	src := "{ channels: { whatsapp: {\n  allowFrom: [\"+15551234567\", \"555-1234\"],\n} } }\n"
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := waclaw(t, "config", "check", cfg)
	all := out + errOut
	if err != nil {
		all += err.Error()
	}
	want := cfg + `:2:31: channels.whatsapp.allowFrom[1]: "555-1234" has no country code: ` + howTo
	if err == nil || !strings.Contains(all, want) {
		t.Errorf("config check = %v\n%s\nwant it to fail with %q", err, all, want)
	}
}
