package transcribe

import (
	"strings"
	"unicode"
)

// clean trims a transcript and collapses its whitespace. What Whisper
// writes for audio without speech ("[BLANK_AUDIO]", "[ Silence ]",
// "(silence)", "[Music]", "♪") becomes "": the caller tells the sender it
// heard nothing it could understand.
func clean(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	if !speech(text) {
		return ""
	}
	return text
}

// speech reports whether text has a letter or digit outside brackets and
// parentheses; with brackets unbalanced, anywhere.
func speech(text string) bool {
	depth, inside := 0, false
	for _, r := range text {
		switch r {
		case '[', '(':
			depth++
		case ']', ')':
			depth = max(depth-1, 0)
		default:
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				if depth == 0 {
					return true
				}
				inside = true
			}
		}
	}
	return inside && depth > 0
}
