package agent

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestThinkFilter(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   string
	}{
		{"plain", []string{"Visible answer."}, "Visible answer."},
		{"block", []string{"<think>SECRET-THINKING plan</think>Visible answer."}, "Visible answer."},
		{"block split across chunks", []string{"<thi", "nk>SECRET-THIN", "KING plan</th", "ink>Visible ", "answer."}, "Visible answer."},
		{"one byte at a time", strings.Split("<think>SECRET</think>Visible answer.", ""), "Visible answer."},
		{"lone closing tag (LM Studio MiniMax)", []string{"SECRET-PART</think>Visible answer."}, "Visible answer."},
		{"lone closing tag split", []string{"SECRET-", "PART</", "think>", "Visible answer."}, "Visible answer."},
		{"unclosed leading think", []string{"<think>SECRET-THINKING plan"}, ""},
		{"thinking only", []string{"<think>SECRET-THINKING plan</think>"}, ""},
		{"block in the middle", []string{"Before. <think>SECRET</think>After."}, "Before. After."},
		{"two blocks", []string{"<think>a</think>One <think>b</think>two"}, "One two"},
		{"partial tag at end is text", []string{"a < b and x <th"}, "a < b and x <th"},
		{"less-than that is not a tag", []string{"1 <", " 2 and <b>bold</b>"}, "1 < 2 and <b>bold</b>"},
		{"whitespace trimmed", []string{"<think>x</think>\n\n  Answer  \n"}, "Answer"},
		{"unicode kept", []string{"<think>考え</think>答え", "です"}, "答えです"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f thinkFilter
			for _, c := range tt.chunks {
				f.Write(c)
			}
			if got := f.Text(); got != tt.want {
				t.Errorf("chunks %q -> %q; want %q", tt.chunks, got, tt.want)
			}
			if got := stripThink(strings.Join(tt.chunks, "")); got != tt.want {
				t.Errorf("whole text %q -> %q; want %q", strings.Join(tt.chunks, ""), got, tt.want)
			}
		})
	}
}

// FuzzThinkFilter: however the text is chunked, the result is the same as
// for the whole text, never contains a complete tag from the input's
// reasoning, and stays valid UTF-8 when the input is.
func FuzzThinkFilter(f *testing.F) {
	f.Add("<think>SECRET</think>Visible", 3)
	f.Add("SECRET</think>Visible", 1)
	f.Add("a<think>b", 2)
	f.Fuzz(func(t *testing.T, s string, step int) {
		if step <= 0 || step > 64 {
			step = 1
		}
		whole := stripThink(s)
		var fl thinkFilter
		for i := 0; i < len(s); i += step {
			fl.Write(s[i:min(i+step, len(s))])
		}
		if got := fl.Text(); got != whole {
			t.Fatalf("chunked by %d: %q; whole: %q", step, got, whole)
		}
		if strings.Contains(whole, thinkClose) {
			t.Fatalf("%q kept a closing tag: %q", s, whole)
		}
		if utf8.ValidString(s) && !utf8.ValidString(whole) {
			t.Fatalf("%q -> invalid UTF-8 %q", s, whole)
		}
	})
}

// While a stream goes on, only text that can no longer turn out to be
// reasoning is handed out.
func TestThinkFilterFresh(t *testing.T) {
	var f thinkFilter // a reasoning model: a lone </think> may still come
	f.Write("SECRET plan\n\nmore plan")
	if got := f.fresh(); got != "" {
		t.Errorf("fresh before any </think> = %q; want nothing", got)
	}
	f.Write("</think>The answer")
	if got := f.fresh(); got != "The answer" {
		t.Errorf("fresh after </think> = %q; want the answer only", got)
	}

	var g thinkFilter
	g.settle()
	g.Write("Hi. <think>SECRET")
	if got := g.fresh(); got != "Hi. " {
		t.Errorf("fresh inside an open <think> = %q; want only the text before it", got)
	}
	g.Write(" still</thi")
	g.Write("nk> there")
	if got := g.fresh(); got != " there" {
		t.Errorf("fresh after the block closed = %q", got)
	}
	g.Write("late SECRET</think>tail")
	if got := g.fresh(); got != "" {
		t.Errorf("fresh after a late lone </think> = %q; want nothing more", got)
	}
}
