package markup

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/util"
)

// What a written byte is, so that the literal-marker pass knows what it may
// change.
const (
	kindMarkup  uint8 = iota // a marker this package wrote
	kindLiteral              // text that was literal in the Markdown
	kindOpaque               // code and URLs: never changed
)

// WhatsApp's style markers, in the order they nest when several apply to
// the same text: bold outside, then italic, then strike.
const (
	markBold   = '*'
	markItalic = '_'
	markStrike = '~'
)

// inlineWriter renders the inline content of one block. Styles open lazily
// (only when text follows) and are closed and re-opened around line breaks,
// because WhatsApp does not carry formatting across lines.
type inlineWriter struct {
	src   []byte
	plain bool // no markup at all: the text goes into a monospace block

	buf   []byte
	kinds []uint8 // one per byte of buf
	open  []byte  // active style markers, outermost first
	shown int     // how many of open have their opener on the current line
}

func (w *inlineWriter) put(s string, kind uint8) {
	w.buf = append(w.buf, s...)
	n := len(w.kinds)
	w.kinds = slices.Grow(w.kinds, len(s))[:n+len(s)]
	for i := n; i < len(w.kinds); i++ {
		w.kinds[i] = kind
	}
}

// write appends text, turning newlines into line breaks.
func (w *inlineWriter) write(s string, kind uint8) {
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			w.writeLine(s, kind)
			return
		}
		w.writeLine(s[:i], kind)
		w.newline()
		s = s[i+1:]
	}
}

func (w *inlineWriter) writeLine(s string, kind uint8) {
	if s == "" {
		return
	}
	if w.shown < len(w.open) {
		// An opener followed by a space is not markup for WhatsApp.
		lead := len(s) - len(strings.TrimLeft(s, " \t"))
		w.put(s[:lead], kind)
		s = s[lead:]
		if s == "" {
			return
		}
		for ; w.shown < len(w.open); w.shown++ {
			w.put(string(w.open[w.shown]), kindMarkup)
		}
	}
	w.put(s, kind)
}

func (w *inlineWriter) newline() {
	w.trimSpace()
	for i := w.shown - 1; i >= 0; i-- {
		w.put(string(w.open[i]), kindMarkup)
	}
	w.shown = 0
	w.put("\n", kindMarkup)
}

func (w *inlineWriter) trimSpace() {
	n := len(w.buf)
	for n > 0 && (w.buf[n-1] == ' ' || w.buf[n-1] == '\t') {
		n--
	}
	w.buf, w.kinds = w.buf[:n], w.kinds[:n]
}

// push activates a style; it reports false when the style is already active
// (bold inside bold) or markup is off, and then pop must not be called.
func (w *inlineWriter) push(mark byte) bool {
	if w.plain || bytes.IndexByte(w.open, mark) >= 0 {
		return false
	}
	w.open = append(w.open, mark)
	return true
}

func (w *inlineWriter) pop() {
	last := len(w.open) - 1
	if last < w.shown {
		w.put(string(w.open[last]), kindMarkup)
		w.shown = last
	}
	w.open = w.open[:last]
}

func (w *inlineWriter) children(n ast.Node) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		w.node(c)
	}
}

func (w *inlineWriter) node(n ast.Node) {
	switch n := n.(type) {
	case *ast.Text:
		v := n.Segment.Value(w.src)
		if n.IsRaw() {
			w.write(string(v), kindLiteral)
		} else {
			w.write(unescape(v), kindLiteral)
		}
		if n.SoftLineBreak() || n.HardLineBreak() {
			w.newline()
		}
	case *ast.String:
		switch {
		case n.IsCode():
			w.write(string(n.Value), kindOpaque)
		case n.IsRaw():
			w.write(string(n.Value), kindLiteral)
		default:
			w.write(unescape(n.Value), kindLiteral)
		}
	case *ast.CodeSpan:
		code := codeSpanText(n, w.src)
		if w.plain || strings.Contains(code, "`") {
			// WhatsApp's inline code cannot hold a backtick: keep the
			// code intact rather than its monospace look.
			w.write(code, kindOpaque)
			return
		}
		w.write("`", kindMarkup)
		w.write(code, kindOpaque)
		w.write("`", kindMarkup)
	case *ast.Emphasis, *east.Strikethrough:
		w.styled(n)
	case *ast.Link:
		w.link(n, unescape(n.Destination))
	case *ast.Image:
		alt := plainText(n, w.src)
		dest := unescape(n.Destination)
		switch {
		case dest == "":
			w.write(alt, kindLiteral)
		case alt == "" || alt == dest:
			w.write(dest, kindOpaque)
		default:
			w.write(alt, kindLiteral)
			w.write(" (", kindLiteral)
			w.write(dest, kindOpaque)
			w.write(")", kindLiteral)
		}
	case *ast.AutoLink:
		w.write(string(n.Label(w.src)), kindOpaque)
	case *ast.RawHTML:
		for i := range n.Segments.Len() {
			seg := n.Segments.At(i)
			w.write(string(seg.Value(w.src)), kindLiteral)
		}
	case *east.TaskCheckBox:
		if n.IsChecked {
			w.write("☑ ", kindLiteral)
		} else {
			w.write("☐ ", kindLiteral)
		}
	default:
		w.children(n)
	}
}

// styled writes a run of directly nested emphasis and strikethrough nodes
// with the markers in WhatsApp's nesting order, so that ***x*** and **_x_**
// both become *_x_*.
func (w *inlineWriter) styled(n ast.Node) {
	var bold, italic, strike bool
	inner := n
	for {
		switch e := inner.(type) {
		case *ast.Emphasis:
			if e.Level >= 2 {
				bold = true
			} else {
				italic = true
			}
		case *east.Strikethrough:
			strike = true
		}
		c := inner.FirstChild()
		if c == nil || c.NextSibling() != nil {
			break
		}
		if _, ok := c.(*ast.Emphasis); !ok {
			if _, ok := c.(*east.Strikethrough); !ok {
				break
			}
		}
		inner = c
	}
	pushed := 0
	for _, s := range []struct {
		on   bool
		mark byte
	}{{bold, markBold}, {italic, markItalic}, {strike, markStrike}} {
		if s.on && w.push(s.mark) {
			pushed++
		}
	}
	w.children(inner)
	for range pushed {
		w.pop()
	}
}

// link writes "text (url)", or only the URL when the text says nothing more,
// or only the text when the URL is useless outside the page (an anchor).
func (w *inlineWriter) link(n *ast.Link, dest string) {
	label := plainText(n, w.src)
	switch {
	case dest == "" || strings.HasPrefix(dest, "#"):
		w.children(n)
	case label == "" || label == dest || "mailto:"+label == dest ||
		"https://"+label == dest || "http://"+label == dest:
		w.write(dest, kindOpaque)
	default:
		w.children(n)
		w.write(" (", kindLiteral)
		w.write(dest, kindOpaque)
		w.write(")", kindLiteral)
	}
}

// String returns what was written, with literal markers that WhatsApp could
// pair up replaced by look-alikes (unless the text is plain).
func (w *inlineWriter) String() string {
	w.trimSpace()
	if w.plain {
		return string(w.buf)
	}
	return neutralize(w.buf, w.kinds)
}

// renderInline renders the inline children of n. bold makes the whole
// content bold (headings); plain drops all markup (monospace tables).
func renderInline(n ast.Node, src []byte, bold, plain bool) string {
	w := &inlineWriter{src: src, plain: plain}
	if bold && w.push(markBold) {
		w.children(n)
		w.pop()
	} else {
		w.children(n)
	}
	return w.String()
}

// plainText is the text of n's inline children without any markup, used to
// compare a link's text with its URL and for image descriptions.
func plainText(n ast.Node, src []byte) string {
	w := &inlineWriter{src: src, plain: true}
	w.children(n)
	return strings.ReplaceAll(string(w.buf), "\n", " ")
}

func codeSpanText(n *ast.CodeSpan, src []byte) string {
	var b strings.Builder
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		t, ok := c.(*ast.Text)
		if !ok {
			continue
		}
		v := t.Segment.Value(src)
		if len(v) > 0 && v[len(v)-1] == '\n' {
			b.Write(v[:len(v)-1])
			b.WriteByte(' ')
		} else {
			b.Write(v)
		}
	}
	return b.String()
}

// markers are the characters WhatsApp reads as markup.
const markers = "*_~`"

// lookalike is what a literal marker becomes when WhatsApp could read it as
// markup, or "" for any other byte.
func lookalike(c byte) string {
	switch c {
	case '*':
		return "∗" // U+2217 ASTERISK OPERATOR
	case '_':
		return "＿" // U+FF3F FULLWIDTH LOW LINE
	case '~':
		return "∼" // U+223C TILDE OPERATOR
	case '`':
		return "ˋ" // U+02CB MODIFIER LETTER GRAVE ACCENT
	}
	return ""
}

// neutralize replaces each literal marker that could open or close WhatsApp
// formatting and has a partner on its line that could close or open it.
//
// The model of WhatsApp is deliberately generous, so that in doubt a
// character is replaced rather than turned into formatting: a marker can
// open unless it follows an ASCII letter or digit, and close unless one
// follows it (a space inside, as in "* 3 *", does not save it); a pair
// needs something between the two markers and both on one line. Opaque bytes (code, URLs) neither change
// nor count as partners.
func neutralize(buf []byte, kinds []uint8) string {
	var out strings.Builder
	out.Grow(len(buf))
	start := 0
	for start <= len(buf) {
		end := start
		for end < len(buf) && buf[end] != '\n' {
			end++
		}
		neutralizeLine(&out, buf[start:end], kinds[start:end])
		if end < len(buf) {
			out.WriteByte('\n')
		}
		start = end + 1
	}
	return out.String()
}

func neutralizeLine(out *strings.Builder, line []byte, kinds []uint8) {
	canOpen := func(i int) bool {
		return i+1 < len(line) && (i == 0 || !isASCIIAlnum(line[i-1]))
	}
	canClose := func(i int) bool {
		return i > 0 && (i+1 == len(line) || !isASCIIAlnum(line[i+1]))
	}
	// For each marker, the first position that could open and the last
	// that could close; a marker has a partner if one lies beyond it.
	var firstOpen, lastClose [256]int
	for _, c := range []byte(markers) {
		firstOpen[c], lastClose[c] = len(line), -1
	}
	for i, c := range line {
		if lookalike(c) == "" || kinds[i] == kindOpaque {
			continue
		}
		if canOpen(i) && firstOpen[c] == len(line) {
			firstOpen[c] = i
		}
		if canClose(i) {
			lastClose[c] = i
		}
	}
	for i, c := range line {
		if l := lookalike(c); l != "" && kinds[i] == kindLiteral &&
			(canOpen(i) && lastClose[c] > i+1 || canClose(i) && firstOpen[c] < i-1) {
			out.WriteString(l)
			continue
		}
		out.WriteByte(c)
	}
}

func isASCIIAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// unescape turns Markdown text into what it says: backslash escapes and
// entity references are resolved, as goldmark's HTML renderer does, but
// nothing is HTML-escaped.
func unescape(src []byte) string {
	if len(src) == 0 {
		return ""
	}
	out := make([]byte, 0, len(src))
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\\' && i+1 < len(src) && util.IsPunct(src[i+1]):
			i++
			out = append(out, src[i])
		case c == 0:
			out = utf8.AppendRune(out, utf8.RuneError)
		case c == '&':
			r, ent, n := entity(src[i:])
			switch {
			case n == 0:
				out = append(out, c)
			case ent != nil:
				out = append(out, ent...)
				i += n - 1
			default:
				out = utf8.AppendRune(out, util.ToValidRune(r))
				i += n - 1
			}
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

// entity reads a character reference at the start of s ("&amp;", "&#42;",
// "&#x2A;") and returns the rune or the entity's bytes and the length
// read, or n == 0 when s does not start with one.
func entity(s []byte) (r rune, ent []byte, n int) {
	semi := -1
	for i := 1; i < len(s) && i < 40; i++ {
		if s[i] == ';' {
			semi = i
			break
		}
	}
	if semi < 2 {
		return 0, nil, 0
	}
	name := string(s[1:semi])
	if name[0] == '#' {
		digits, base, max := name[1:], 10, 7
		if len(digits) > 0 && (digits[0] == 'x' || digits[0] == 'X') {
			digits, base, max = digits[1:], 16, 6
		}
		if len(digits) == 0 || len(digits) > max {
			return 0, nil, 0
		}
		v, err := strconv.ParseUint(digits, base, 32)
		if err != nil {
			return 0, nil, 0
		}
		if v > utf8.MaxRune {
			v = utf8.RuneError
		}
		return rune(v), nil, semi + 1
	}
	for i := 0; i < len(name); i++ {
		if !util.IsAlphaNumeric(name[i]) {
			return 0, nil, 0
		}
	}
	e, ok := util.LookUpHTML5EntityByName(name)
	if !ok {
		return 0, nil, 0
	}
	return 0, e.Characters, semi + 1
}
