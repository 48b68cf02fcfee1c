package markup

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// parser is safe for concurrent use; building it once saves the setup on
// every reply.
var parser = goldmark.New(goldmark.WithExtensions(extension.GFM)).Parser()

// hrule is what a horizontal rule becomes.
const hrule = "———"

// ToWhatsApp renders Markdown as WhatsApp markup. Plain text without
// Markdown comes back unchanged (apart from trimming trailing space).
func ToWhatsApp(markdown string) (out string) {
	defer func() {
		// goldmark is third-party code run on model output; should it
		// ever panic, the reply is still worth sending as it was written.
		if recover() != nil {
			out = strings.TrimRightFunc(markdown, unicode.IsSpace)
		}
	}()
	return render(markdown)
}

func render(markdown string) string {
	src := []byte(markdown)
	doc := parser.Parse(text.NewReader(src))
	r := &renderer{src: src}
	return join(r.blocks(doc, false))
}

// line is one output line. Code lines are written as they are: no prefix
// from an enclosing list or quote, no trimming.
type line struct {
	text string
	code bool
}

type renderer struct {
	src []byte
}

// blocks renders the block children of parent, with a blank line between
// them unless tight.
func (r *renderer) blocks(parent ast.Node, tight bool) []line {
	var out []line
	for c := parent.FirstChild(); c != nil; c = c.NextSibling() {
		ls := r.block(c)
		if len(ls) == 0 {
			continue
		}
		if len(out) > 0 && !tight {
			out = append(out, line{})
		}
		out = append(out, ls...)
	}
	return out
}

func (r *renderer) block(n ast.Node) []line {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		return textLines(renderInline(n, r.src, false, false))
	case *ast.Heading:
		return textLines(renderInline(n, r.src, true, false))
	case *ast.ThematicBreak:
		return []line{{text: hrule}}
	case *ast.CodeBlock, *ast.FencedCodeBlock:
		return r.code(n)
	case *ast.Blockquote:
		ls := r.blocks(n, false)
		for i, l := range ls {
			if !l.code && l.text != "" {
				ls[i].text = "> " + l.text
			}
		}
		return ls
	case *ast.List:
		return r.list(n)
	case *ast.HTMLBlock:
		return r.html(n)
	case *east.Table:
		return r.table(n)
	default:
		return r.blocks(n, false)
	}
}

// code writes a code block's content byte for byte between ``` lines,
// dropping the language: WhatsApp would show it as part of the code.
func (r *renderer) code(n ast.Node) []line {
	var b strings.Builder
	lines := n.Lines()
	for i := range lines.Len() {
		seg := lines.At(i)
		b.Write(seg.Value(r.src))
	}
	content := strings.TrimSuffix(b.String(), "\n")
	if strings.TrimSpace(content) == "" {
		return nil
	}
	out := []line{{text: "```", code: true}}
	for _, s := range strings.Split(content, "\n") {
		out = append(out, line{text: s, code: true})
	}
	return append(out, line{text: "```", code: true})
}

func (r *renderer) list(n *ast.List) []line {
	var out []line
	num := n.Start
	for item := n.FirstChild(); item != nil; item = item.NextSibling() {
		marker := "- "
		if n.IsOrdered() {
			marker = strconv.Itoa(num) + ". "
			num++
		}
		ls := r.blocks(item, n.IsTight)
		if len(ls) == 0 || ls[0].code {
			ls = append([]line{{}}, ls...)
		}
		ls[0].text = marker + ls[0].text
		for i := 1; i < len(ls); i++ {
			if !ls[i].code && ls[i].text != "" {
				ls[i].text = "  " + ls[i].text
			}
		}
		if len(out) > 0 && !n.IsTight {
			out = append(out, line{})
		}
		out = append(out, ls...)
	}
	return out
}

// html shows raw HTML as the text it is: a model that writes <br> or a
// comment meant something, and dropping it silently would hide that.
func (r *renderer) html(n *ast.HTMLBlock) []line {
	var b strings.Builder
	lines := n.Lines()
	for i := range lines.Len() {
		seg := lines.At(i)
		b.Write(seg.Value(r.src))
	}
	if n.HasClosure() {
		b.Write(n.ClosureLine.Value(r.src))
	}
	w := &inlineWriter{src: r.src}
	w.write(strings.TrimRight(b.String(), "\n"), kindLiteral)
	return textLines(w.String())
}

func textLines(s string) []line {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, "\n")
	out := make([]line, len(parts))
	for i, p := range parts {
		out[i] = line{text: p}
	}
	return out
}

// join writes the lines with trailing space trimmed and at most one blank
// line in a row, except inside code, which stays as it was.
func join(lines []line) string {
	var b strings.Builder
	blank, started := false, false
	for _, l := range lines {
		t := l.text
		if !l.code {
			t = strings.TrimRightFunc(t, unicode.IsSpace)
			if t == "" {
				blank = true
				continue
			}
		}
		if started {
			b.WriteByte('\n')
			if blank {
				b.WriteByte('\n')
			}
		}
		blank, started = false, true
		b.WriteString(t)
	}
	return b.String()
}
