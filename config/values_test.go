package config

import (
	"strings"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		in, want string
		err      string // part of the error; "" when in is a number
	}{
		{in: "+15551234567", want: "+15551234567"},
		{in: "+1 (555) 123-4567", want: "+15551234567"},
		{in: "0049 30 1234567", want: "+49301234567"},
		{in: " +81.90.1234.5678 ", want: "+819012345678"},
		{in: "+44 20 7946 0958", want: "+442079460958"},
		{in: "+49 151 2345-6789", want: "+4915123456789"},
		{in: "+12345678", want: "+12345678"},               // 8 digits, the shortest
		{in: "+123456789012345", want: "+123456789012345"}, // 15, the longest
		{in: "5551234", err: `"5551234" has no country code: write it in international form with the country code, like +15551234567`},
		{in: "555-1234", err: `"555-1234" has no country code`},
		{in: "15550001111", err: `"15550001111" has no country code`},
		{in: "447911123456", err: "has no country code"},
		{in: "07911 123456", err: "has no country code"},
		{in: "+5551234", err: `"+5551234" is too short for an international number (7 digits, at least 8 with the country code): write it in international form`},
		{in: "+1555", err: "too short"},
		{in: "+1234567890123456", err: "too long for an international number (16 digits, at most 15"},
		{in: "", err: "no phone number given: write it in international form"},
		{in: "+", err: "is not a phone number"},
		{in: "abc", err: `"abc" is not a phone number: write it in international form with the country code`},
		{in: "12345@s.whatsapp.net", err: "is not a phone number"},
		{in: "+0123456789", err: "is not a phone number"},
		{in: "+0049301234567", err: "is not a phone number"},
		{in: "++15551234567", err: "is not a phone number"},
		{in: "+1555abc4567", err: "is not a phone number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizePhone(tt.in)
			if tt.err == "" {
				if err != nil || got != tt.want {
					t.Errorf("NormalizePhone(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("NormalizePhone(%q) = %q, %v; want an error containing %q", tt.in, got, err, tt.err)
			}
		})
	}
}
