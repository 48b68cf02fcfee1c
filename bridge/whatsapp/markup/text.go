package markup

import (
	"unicode"
	"unicode/utf8"
)

// width is the number of monospace columns s takes: East Asian wide
// characters and most emoji take two, combining marks and joiners none.
func width(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	switch {
	case isExtend(r) || r == zwj || unicode.Is(unicode.Cf, r):
		return 0
	case r >= 0x1100 && r <= 0x115F, // Hangul Jamo
		r >= 0x2E80 && r <= 0x303E, // CJK radicals, punctuation
		r >= 0x3041 && r <= 0x33FF, // kana, CJK symbols
		r >= 0x3400 && r <= 0x4DBF, // CJK extension A
		r >= 0x4E00 && r <= 0x9FFF, // CJK unified ideographs
		r >= 0xA000 && r <= 0xA4CF, // Yi
		r >= 0xAC00 && r <= 0xD7A3, // Hangul syllables
		r >= 0xF900 && r <= 0xFAFF, // CJK compatibility ideographs
		r >= 0xFE30 && r <= 0xFE4F, // CJK compatibility forms
		r >= 0xFF00 && r <= 0xFF60, // fullwidth forms
		r >= 0xFFE0 && r <= 0xFFE6,
		r >= 0x1F300 && r <= 0x1F64F, // emoji
		r >= 0x1F900 && r <= 0x1F9FF,
		r >= 0x20000 && r <= 0x3FFFD: // CJK extensions B and later
		return 2
	}
	return 1
}

const zwj = '\u200D'

// isExtend reports whether r continues the character before it: combining
// marks, variation selectors, emoji skin tones and tag characters.
func isExtend(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc) ||
		r == '\u200C' ||
		r >= 0xFE00 && r <= 0xFE0F ||
		r >= 0x1F3FB && r <= 0x1F3FF ||
		r >= 0xE0020 && r <= 0xE007F ||
		r >= 0xE0100 && r <= 0xE01EF
}

func isRegionalIndicator(r rune) bool {
	return r >= 0x1F1E6 && r <= 0x1F1FF
}

// graphemeBoundary reports whether s can be cut at byte i without
// splitting what a reader sees as one character. It approximates Unicode's
// extended grapheme clusters closely enough for chat text: combining marks,
// ZWJ emoji sequences, skin tones, flags, keycaps and CR LF stay whole.
// i must be a rune boundary.
func graphemeBoundary(s string, i int) bool {
	if i <= 0 || i >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	prev, _ := utf8.DecodeLastRuneInString(s[:i])
	switch {
	case prev == '\r' && r == '\n':
		return false
	case r == zwj || isExtend(r) || prev == zwj:
		return false
	case isRegionalIndicator(r) && isRegionalIndicator(prev):
		// Flags are pairs: cut only after an even number of indicators.
		n := 0
		for j := i; j > 0; {
			q, size := utf8.DecodeLastRuneInString(s[:j])
			if !isRegionalIndicator(q) {
				break
			}
			n++
			j -= size
		}
		return n%2 == 0
	}
	return true
}
