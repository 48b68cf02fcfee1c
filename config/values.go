// Small value normalisers: phone numbers, provider URLs and model aliases.

package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// NormalizePhone returns s as an E.164 number ("+15551234567"). It is the
// one reading of a phone number: config lists, `waclaw access`, /allow and
// /deny, `chat --as` and `pair --phone` all come here, so a number means the
// same everywhere. Spaces, dots, dashes and brackets are dropped and a
// leading "00" counts as "+". A number without "+" or "00" is refused rather
// than guessed at: "5551234" is a local number, and "07911123456" carries a
// national trunk prefix, so putting a "+" in front of either names someone
// else. E.164 allows at most 15 digits; below 8 no country code and
// subscriber number are complete.
func NormalizePhone(s string) (string, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", fmt.Errorf("no phone number given: %s", phoneHowTo)
	}
	intl := false
	for _, prefix := range []string{"+", "00"} {
		if rest, ok := strings.CutPrefix(t, prefix); ok {
			t, intl = rest, true
			break
		}
	}
	var b strings.Builder
	b.WriteByte('+')
	for _, r := range t {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("%q is not a phone number: %s", strings.TrimSpace(s), phoneHowTo)
		}
	}
	n := b.String()
	switch {
	case !intl:
		return "", fmt.Errorf("%q has no country code: %s", strings.TrimSpace(s), phoneHowTo)
	case len(n) == 1 || n[1] == '0':
		return "", fmt.Errorf("%q is not a phone number: %s", strings.TrimSpace(s), phoneHowTo)
	case len(n)-1 < minPhoneDigits:
		return "", fmt.Errorf("%q is too short for an international number (%d digits, at least %d with the country code): %s", strings.TrimSpace(s), len(n)-1, minPhoneDigits, phoneHowTo)
	case len(n)-1 > maxPhoneDigits:
		return "", fmt.Errorf("%q is too long for an international number (%d digits, at most %d with the country code): %s", strings.TrimSpace(s), len(n)-1, maxPhoneDigits, phoneHowTo)
	}
	return n, nil
}

// The bounds on a number's digits, country code included.
const (
	minPhoneDigits = 8
	maxPhoneDigits = 15
)

// phoneHowTo ends every refusal of a phone number, wherever it was typed.
const phoneHowTo = "write it in international form with the country code, like +15551234567"

// isLocalURL reports whether a baseUrl points at this machine or a private
// network.
func isLocalURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || strings.HasSuffix(host, ".local") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast())
}

func normalizeAlias(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}
