package config

import "testing"

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"+15551234567":       "+15551234567",
		"+1 (555) 123-4567":  "+15551234567",
		"0049 30 1234567":    "+49301234567",
		"447911123456":       "+447911123456",
		" +81.90.1234.5678 ": "+819012345678",
	} {
		if got, err := NormalizePhone(in); err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "+1555", "+1234567890123456", "12345@s.whatsapp.net", "+0123456789", "++15551234567"} {
		if got, err := NormalizePhone(in); err == nil {
			t.Errorf("NormalizePhone(%q) = %q; want an error", in, got)
		}
	}
}
