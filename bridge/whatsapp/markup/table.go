package markup

import (
	"strings"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
)

// maxTableWidth is the widest table, in monospace columns, drawn as a
// table: about what a phone shows of a monospace block without wrapping.
// Wider tables become lists.
const maxTableWidth = 40

// table renders a small table as an aligned monospace block and a wide one
// as a list with one item per row.
func (r *renderer) table(t *east.Table) []line {
	var rows [][]ast.Node // the header first
	ncol := len(t.Alignments)
	for row := t.FirstChild(); row != nil; row = row.NextSibling() {
		var cells []ast.Node
		for c := row.FirstChild(); c != nil; c = c.NextSibling() {
			cells = append(cells, c)
		}
		ncol = max(ncol, len(cells))
		rows = append(rows, cells)
	}
	if len(rows) == 0 || ncol == 0 {
		return nil
	}
	if ls, ok := r.monospaceTable(rows, ncol, t.Alignments); ok {
		return ls
	}
	return r.listTable(rows, ncol)
}

func (r *renderer) monospaceTable(rows [][]ast.Node, ncol int, align []east.Alignment) ([]line, bool) {
	cells := make([][]string, len(rows))
	widths := make([]int, ncol)
	for i, row := range rows {
		cells[i] = make([]string, ncol)
		for j, c := range row {
			s := strings.ReplaceAll(renderInline(c, r.src, false, true), "\n", " ")
			cells[i][j] = s
			widths[j] = max(widths[j], width(s))
		}
	}
	total := 3 * (ncol - 1) // " | " between columns
	for _, w := range widths {
		total += w
	}
	if total > maxTableWidth {
		return nil, false
	}

	// Code lines, so that a table in a list or quote stays at the start
	// of the line, where WhatsApp and Split see its fences.
	out := []line{{text: "```", code: true}}
	for i, row := range cells {
		var b strings.Builder
		for j, s := range row {
			if j > 0 {
				b.WriteString(" | ")
			}
			a := east.AlignNone
			if j < len(align) {
				a = align[j]
			}
			b.WriteString(pad(s, widths[j], a))
		}
		out = append(out, line{text: strings.TrimRight(b.String(), " "), code: true})
		if i == 0 {
			seps := make([]string, ncol)
			for j, w := range widths {
				seps[j] = strings.Repeat("-", w)
			}
			out = append(out, line{text: strings.Join(seps, "-+-"), code: true})
		}
	}
	return append(out, line{text: "```", code: true}), true
}

func pad(s string, w int, a east.Alignment) string {
	n := w - width(s)
	if n <= 0 {
		return s
	}
	switch a {
	case east.AlignRight:
		return strings.Repeat(" ", n) + s
	case east.AlignCenter:
		return strings.Repeat(" ", n/2) + s + strings.Repeat(" ", n-n/2)
	default:
		return s + strings.Repeat(" ", n)
	}
}

// listTable writes each body row as "- header: value, header: value",
// leaving out empty cells. A table with only a header becomes one item.
func (r *renderer) listTable(rows [][]ast.Node, ncol int) []line {
	header := make([]string, ncol)
	for j, c := range rows[0] {
		header[j] = oneLine(renderInline(c, r.src, false, false))
	}
	if len(rows) == 1 {
		var vals []string
		for _, h := range header {
			if h != "" {
				vals = append(vals, h)
			}
		}
		if len(vals) == 0 {
			return nil
		}
		return []line{{text: "- " + strings.Join(vals, ", ")}}
	}
	var out []line
	for _, row := range rows[1:] {
		var vals []string
		for j, c := range row {
			v := oneLine(renderInline(c, r.src, false, false))
			switch {
			case v == "":
			case header[j] == "":
				vals = append(vals, v)
			default:
				vals = append(vals, header[j]+": "+v)
			}
		}
		if len(vals) > 0 {
			out = append(out, line{text: "- " + strings.Join(vals, ", ")})
		}
	}
	return out
}

func oneLine(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\n", " "))
}
