// Small value normalisers: phone numbers, provider URLs and model aliases.

package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// NormalizePhone returns s as an E.164 number ("+15551234567"). Spaces,
// dots, dashes and brackets are dropped and a leading "00" counts as "+".
func NormalizePhone(s string) (string, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "00") {
		t = "+" + t[2:]
	}
	var b strings.Builder
	b.WriteByte('+')
	for i, r := range t {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("%q is not a phone number: write it in international form, like \"+15551234567\"", s)
		}
	}
	n := b.String()
	if len(n) < 8 || len(n) > 16 || n[1] == '0' {
		return "", fmt.Errorf("%q is not a phone number: international numbers have a country code and 7 to 15 digits, like \"+15551234567\"", s)
	}
	return n, nil
}

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
