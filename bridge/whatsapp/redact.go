package whatsapp

import (
	"regexp"
	"strings"

	"go.mau.fi/whatsmeow/types"

	"waclaw/bridge"
)

// Phone numbers and JIDs stay out of logs above debug level, and out of
// the errors the adapter returns (the bridge logs those): a log can then
// be shared without giving away who talks to whom. They are named by
// bridge.HashID instead, the way the bridge names chats, so that one
// person's lines can still be followed. whatsmeow's own log lines and
// errors carry JIDs too, so they are redacted on the way through.

// idLike finds JIDs ("15551234567:3@s.whatsapp.net", "1203...@g.us",
// "...@lid"), signal addresses ("15551234567.0:3") and runs of digits
// that may be a number.
var idLike = regexp.MustCompile(`\+?[0-9]+(?:[.:_][0-9]+)*(?:@[a-z]+(?:\.[a-z]+)*)?`)

// minNumberDigits is the shortest run of digits taken for a phone number
// or a LID; shorter ones (counts, versions, ports) are left alone.
const minNumberDigits = 7

// redact replaces the JIDs and numbers in s by their hashes:
// "jid#<hash>" and "num#<hash>", and shortens web addresses to their host
// (a media file's address carries its access token).
func redact(s string) string {
	s = hideURLs(s)
	var out strings.Builder
	last := 0
	for _, m := range idLike.FindAllStringIndex(s, -1) {
		i, j := m[0], m[1]
		// Digits inside a word are part of something else (a hex
		// message id).
		if (i > 0 && isWordByte(s[i-1])) || (j < len(s) && isWordByte(s[j])) {
			continue
		}
		var repl string
		match := strings.TrimPrefix(s[i:j], "+")
		if strings.Contains(match, "@") {
			if jid, err := types.ParseJID(match); err == nil {
				match = jid.ToNonAD().String()
			}
			repl = "jid#" + bridge.HashID(match)
		} else {
			run := match[:len(match)-len(strings.TrimLeft(match, "0123456789"))]
			if len(run) < minNumberDigits {
				continue
			}
			repl = "num#" + bridge.HashID("+"+run)
		}
		out.WriteString(s[last:i])
		out.WriteString(repl)
		last = j
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// redactErr is err with the JIDs and numbers in its text redacted; errors.Is
// and errors.As still see the original.
func redactErr(err error) error {
	if err == nil {
		return nil
	}
	return redactedError{err}
}

type redactedError struct{ err error }

func (e redactedError) Error() string { return redact(e.err.Error()) }
func (e redactedError) Unwrap() error { return e.err }

// hashJID names a JID in logs: the hash the bridge uses for the same
// chat or sender.
func hashJID(j types.JID) string { return bridge.HashID(j.ToNonAD().String()) }
