package config

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// offsetMap maps byte offsets in the rewritten text back to the original.
// Each anchor records that rewritten offset newOff corresponds to original
// offset oldOff; offsets between anchors advance together.
type offsetMap struct {
	anchors []offsetAnchor
}

type offsetAnchor struct{ newOff, oldOff int }

func (m *offsetMap) add(newOff, oldOff int) {
	m.anchors = append(m.anchors, offsetAnchor{newOff, oldOff})
}

// original returns the offset in the original text for rewritten offset n.
func (m *offsetMap) original(n int) int {
	i := sort.Search(len(m.anchors), func(i int) bool { return m.anchors[i].newOff > n }) - 1
	if i < 0 {
		return n
	}
	a := m.anchors[i]
	return a.oldOff + (n - a.newOff)
}

// json5ToJWCC rewrites the two JSON5 features that JWCC (hujson) lacks into
// their JSON form: bare object keys become quoted strings and single-quoted
// strings become double-quoted ones. It walks the text as tokens, so the
// inside of strings and comments is never touched, and it never adds or
// removes a newline, so line numbers stay those of the input. Plain JSON
// comes back unchanged. Anything it does not understand is copied as is for
// the parser to report.
func json5ToJWCC(src []byte) ([]byte, *offsetMap) {
	out := make([]byte, 0, len(src)+len(src)/8)
	m := &offsetMap{}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '"':
			j := skipString(src, i)
			out = append(out, src[i:j]...)
			i = j
		case c == '\'':
			i = convertSingleQuoted(src, i, &out, m)
		case c == '/' && i+1 < len(src) && (src[i+1] == '/' || src[i+1] == '*'):
			j := skipComment(src, i)
			out = append(out, src[i:j]...)
			i = j
		case isIdentStart(src, i):
			j := skipIdent(src, i)
			if nextSignificant(src, j) == ':' {
				m.add(len(out)+1, i)
				out = append(out, '"')
				out = append(out, src[i:j]...)
				out = append(out, '"')
				m.add(len(out), j)
			} else {
				out = append(out, src[i:j]...)
			}
			i = j
		default:
			out = append(out, c)
			i++
		}
	}
	return out, m
}

// skipString returns the offset just past the double-quoted string at i, or
// the end of its line when it is unterminated.
func skipString(src []byte, i int) int {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		case '\n':
			return j
		}
	}
	return len(src)
}

// convertSingleQuoted appends the single-quoted string at i as a
// double-quoted one: \' becomes ', a bare " is escaped, other escapes are
// kept. It returns the offset just past the string.
func convertSingleQuoted(src []byte, i int, out *[]byte, m *offsetMap) int {
	*out = append(*out, '"')
	j := i + 1
	for j < len(src) {
		c := src[j]
		switch {
		case c == '\\' && j+1 < len(src) && src[j+1] == '\'':
			*out = append(*out, '\'')
			j += 2
			m.add(len(*out), j)
		case c == '\\' && j+1 < len(src):
			*out = append(*out, c, src[j+1])
			j += 2
		case c == '"':
			*out = append(*out, '\\', '"')
			j++
			m.add(len(*out), j)
		case c == '\'':
			*out = append(*out, '"')
			return j + 1
		case c == '\n':
			// Unterminated: leave the rest for the parser to report.
			return j
		default:
			*out = append(*out, c)
			j++
		}
	}
	return j
}

// skipComment returns the offset just past the comment at i.
func skipComment(src []byte, i int) int {
	if src[i+1] == '/' {
		for j := i + 2; j < len(src); j++ {
			if src[j] == '\n' {
				return j
			}
		}
		return len(src)
	}
	for j := i + 2; j+1 < len(src); j++ {
		if src[j] == '*' && src[j+1] == '/' {
			return j + 2
		}
	}
	return len(src)
}

func isIdentStart(src []byte, i int) bool {
	c := src[i]
	if c == '_' || c == '$' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') {
		return true
	}
	if c < utf8.RuneSelf {
		return false
	}
	r, _ := utf8.DecodeRune(src[i:])
	return unicode.IsLetter(r)
}

func skipIdent(src []byte, i int) int {
	for i < len(src) {
		c := src[i]
		if c == '_' || c == '$' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			break
		}
		r, n := utf8.DecodeRune(src[i:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			break
		}
		i += n
	}
	return i
}

// nextSignificant returns the first byte at or after i that is not
// whitespace or part of a comment, or 0 at the end of input.
func nextSignificant(src []byte, i int) byte {
	for i < len(src) {
		switch c := src[i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '/' && i+1 < len(src) && (src[i+1] == '/' || src[i+1] == '*'):
			i = skipComment(src, i)
		default:
			return c
		}
	}
	return 0
}
