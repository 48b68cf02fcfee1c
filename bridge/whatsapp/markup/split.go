package markup

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// fence opens and closes a monospace block when it starts a line.
const fence = "```"

// Split cuts text into messages of at most limit characters (runes, not
// bytes: WhatsApp counts characters), preferring paragraph breaks, then
// line breaks, then spaces; never inside a ``` code block unless that block
// alone is longer than limit (then split it at line breaks and re-open/close
// the fence in each part so every part is a valid block); never inside a
// multi-byte character; no part empty; joining the parts (with the
// separators that were cut at) gives back the text apart from whitespace at
// the cut points.
//
// Details:
//   - A fence line is a line that starts, after any spaces, with ```; the
//     next fence line closes the block.
//   - Among the cuts that fit, the last paragraph break wins, else the last
//     line break, else the last space, else (for Japanese and Chinese,
//     which have no spaces) the last point after 。、！？ and the like. A
//     break that would leave a part under a quarter of the limit gives way
//     to the next kind, so that a heading does not become a message of its
//     own, unless no kind does better.
//   - With no break at all the text is cut hard, between user-perceived
//     characters where possible (ZWJ emoji sequences, flags, skin tones and
//     combining marks stay whole), else between runes.
//   - No part is made to start with ``` that did not start a line: that
//     would open a block.
//   - Parts carry no leading or trailing whitespace, so indentation at the
//     start of a part is lost; whitespace-only text gives no parts.
//   - A block split in parts keeps its opening line (language and all) in
//     the first part and its closing line in the last. If the limit cannot
//     hold the opening line, a character and the closing line, or a long
//     line in the block can only be cut where ``` would start the next
//     piece, the block is cut like text and its parts are not valid blocks.
//   - limit <= 0 means no limit: the trimmed text comes back whole.
func Split(text string, limit int) []string {
	if limit <= 0 {
		if t := strings.TrimSpace(text); t != "" {
			return []string{t}
		}
		return nil
	}
	s := &splitter{text: text, limit: limit, blocks: codeBlocks(text)}
	return s.split()
}

// codeBlock is a ``` block in the text, from the first backtick of its
// opening fence to the last non-space character of its closing fence.
type codeBlock struct {
	start, end int
	closed     bool
	// plain marks a block too long for a message that could not be split
	// into fenced parts: it is cut like ordinary text.
	plain bool
}

func codeBlocks(text string) []codeBlock {
	var blocks []codeBlock
	open := -1
	for ls := 0; ls <= len(text); {
		le := strings.IndexByte(text[ls:], '\n')
		if le < 0 {
			le = len(text)
		} else {
			le += ls
		}
		line := text[ls:le]
		if f := fenceStart(line); f >= 0 {
			if open < 0 {
				open = ls + f
			} else {
				end := ls + len(strings.TrimRightFunc(line, unicode.IsSpace))
				blocks = append(blocks, codeBlock{start: open, end: end, closed: true})
				open = -1
			}
		}
		ls = le + 1
	}
	if open >= 0 {
		end := len(strings.TrimRightFunc(text, unicode.IsSpace))
		blocks = append(blocks, codeBlock{start: open, end: end})
	}
	return blocks
}

// fenceStart returns where the ``` of a fence line starts, or -1 if line
// is not a fence line.
func fenceStart(line string) int {
	t := strings.TrimLeftFunc(line, unicode.IsSpace)
	if strings.HasPrefix(t, fence) {
		return len(line) - len(t)
	}
	return -1
}

type splitter struct {
	text   string
	limit  int
	blocks []codeBlock
}

func (s *splitter) split() []string {
	var parts []string
	p := 0
	for {
		p = skipSpace(s.text, p)
		if p >= len(s.text) {
			return parts
		}
		e := advance(s.text, p, s.limit)
		if skipSpace(s.text, e) == len(s.text) {
			return append(parts, strings.TrimRightFunc(s.text[p:], unicode.IsSpace))
		}
		if b := s.blockAt(p); b != nil && !b.plain && advance(s.text, b.start, s.limit) < b.end {
			if ps, ok := splitCode(s.text[b.start:b.end], b.closed, s.limit); ok {
				parts = append(parts, ps...)
				p = b.end
				continue
			}
			b.plain = true
		}
		c, next := s.cut(p, e)
		parts = append(parts, strings.TrimRightFunc(s.text[p:c], unicode.IsSpace))
		p = next
	}
}

// Kinds of break, best first.
const (
	breakParagraph = iota
	breakLine
	breakSpace
	breakPunct
	breakKinds
)

// cut chooses where the part starting at p ends (c) and where the next one
// starts (next). e is the end of the longest part the limit allows.
func (s *splitter) cut(p, e int) (c, next int) {
	text := s.text
	var best [breakKinds]struct {
		c, next int
		ok      bool
	}
	for i := p; i <= e && i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if unicode.IsSpace(r) {
			j, newlines := i, 0
			for j < len(text) {
				q, n := utf8.DecodeRuneInString(text[j:])
				if !unicode.IsSpace(q) {
					break
				}
				if q == '\n' {
					newlines++
				}
				j += n
			}
			if i > p && !s.inside(i) && s.canStart(j) {
				kind := breakSpace
				switch {
				case newlines > 1:
					kind = breakParagraph
				case newlines == 1:
					kind = breakLine
				}
				best[kind].c, best[kind].next, best[kind].ok = i, j, true
			}
			i = j
			continue
		}
		i += size
		if i <= e && isCJKBreak(r) && !s.inside(i) {
			if j := skipSpace(text, i); s.canStart(j) {
				best[breakPunct].c, best[breakPunct].next, best[breakPunct].ok = i, j, true
			}
		}
	}
	// Prefer the best kind of break, but not at the price of a tiny part.
	for _, b := range best {
		if b.ok && exceeds(text[p:b.c], s.limit/4-1) {
			return b.c, b.next
		}
	}
	for _, b := range best {
		if b.ok {
			return b.c, b.next
		}
	}
	return s.hardCut(p, e)
}

// hardCut cuts inside a word: at the last boundary between user-perceived
// characters, else between runes, that keeps code blocks whole and does not
// make a new fence of the next part.
func (s *splitter) hardCut(p, e int) (c, next int) {
	for _, whole := range []bool{true, false} {
		for c := e; c > p; {
			if (!whole || graphemeBoundary(s.text, c)) && !s.inside(c) {
				if j := skipSpace(s.text, c); s.canStart(j) {
					return c, j
				}
			}
			_, size := utf8.DecodeLastRuneInString(s.text[p:c])
			c -= size
		}
	}
	return e, skipSpace(s.text, e)
}

// blockAt returns the code block starting at i, or nil.
func (s *splitter) blockAt(i int) *codeBlock {
	k := sort.Search(len(s.blocks), func(k int) bool { return s.blocks[k].start >= i })
	if k < len(s.blocks) && s.blocks[k].start == i {
		return &s.blocks[k]
	}
	return nil
}

// inside reports whether cutting at i would cut a code block that must stay
// whole.
func (s *splitter) inside(i int) bool {
	k := sort.Search(len(s.blocks), func(k int) bool { return s.blocks[k].end > i })
	return k < len(s.blocks) && s.blocks[k].start < i && !s.blocks[k].plain
}

// canStart reports whether a part may start at j: not with ``` unless that
// was a fence line already, since a part must not gain a fence.
func (s *splitter) canStart(j int) bool {
	if !strings.HasPrefix(s.text[j:], fence) {
		return true
	}
	ls := strings.LastIndexByte(s.text[:j], '\n') + 1
	return strings.TrimLeftFunc(s.text[ls:j], unicode.IsSpace) == ""
}

// splitCode splits an over-long code block at line breaks into parts that
// are each a fenced block of at most limit runes. Lines longer than a part
// can hold are cut hard. It reports false when that is impossible.
func splitCode(block string, closed bool, limit int) ([]string, bool) {
	lines := strings.Split(block, "\n")
	open, closing := strings.TrimRightFunc(lines[0], unicode.IsSpace), ""
	body := lines[1:]
	if closed {
		closing = strings.TrimSpace(lines[len(lines)-1])
		body = lines[1 : len(lines)-1]
	}
	budget := limit - max(utf8.RuneCountInString(open), len(fence)) -
		max(utf8.RuneCountInString(closing), len(fence)) - 2
	if budget < 1 {
		return nil, false
	}
	if len(body) == 0 {
		return []string{open + "\n" + closing}, true
	}

	type segment struct {
		text string
		cont bool // continues the line of the segment before it
	}
	var segs []segment
	for _, l := range body {
		cont := false
		for exceeds(l, budget) {
			c := codeCut(l, budget)
			if c <= 0 {
				return nil, false
			}
			segs = append(segs, segment{l[:c], cont})
			l, cont = l[c:], true
		}
		segs = append(segs, segment{l, cont})
	}

	var parts []string
	for i := 0; i < len(segs); {
		head := fence
		if len(parts) == 0 {
			head = open
		}
		k, n := i, 0
		for k < len(segs) {
			add := utf8.RuneCountInString(segs[k].text)
			if k > i && !segs[k].cont {
				add++
			}
			if n+add > budget {
				break
			}
			n += add
			k++
		}
		var b strings.Builder
		b.WriteString(head)
		for x := i; x < k; x++ {
			if x == i || !segs[x].cont {
				b.WriteByte('\n')
			}
			b.WriteString(segs[x].text)
		}
		switch {
		case k < len(segs):
			b.WriteString("\n" + fence)
		case closed:
			b.WriteString("\n" + closing)
		}
		parts = append(parts, strings.TrimRightFunc(b.String(), unicode.IsSpace))
		i = k
	}
	return parts, true
}

// codeCut returns where to cut a code line so that its first piece has at
// most n runes and the rest does not look like a fence, or -1.
func codeCut(l string, n int) int {
	e := advance(l, 0, n)
	for _, whole := range []bool{true, false} {
		for c := e; c > 0; {
			if (!whole || graphemeBoundary(l, c)) && fenceStart(l[c:]) < 0 {
				return c
			}
			_, size := utf8.DecodeLastRuneInString(l[:c])
			c -= size
		}
	}
	return -1
}

// isCJKBreak reports whether a line may break after r in text without
// spaces.
func isCJKBreak(r rune) bool {
	switch r {
	case '。', '、', '！', '？', '，', '．', '：', '；', '」', '』', '）', '】', '〉', '》':
		return true
	}
	return false
}

// advance returns the byte index n runes after i in s, or len(s).
func advance(s string, i, n int) int {
	for ; n > 0 && i < len(s); n-- {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}

// exceeds reports whether s has more than n runes, counting no further.
func exceeds(s string, n int) bool {
	return advance(s, 0, n) < len(s)
}

func skipSpace(s string, i int) int {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += size
	}
	return i
}
