package markup

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// longAnswer is a realistic model answer of about 4 KB.
func longAnswer(tb testing.TB) string {
	tb.Helper()
	src, err := os.ReadFile("testdata/answer.md")
	if err != nil {
		tb.Fatal(err)
	}
	jp, err := os.ReadFile("testdata/japanese.md")
	if err != nil {
		tb.Fatal(err)
	}
	var b strings.Builder
	for b.Len() < 4096 {
		b.Write(src)
		b.WriteString("\n")
		b.Write(jp)
		b.WriteString("\n")
	}
	return b.String()
}

func FuzzSplit(f *testing.F) {
	f.Add("hello world", 5)
	f.Add("aaaa aaaa\n\nbbbb bbbb\ncccc cccc", 25)
	f.Add("intro\n```\nline one\nline two\n```\nafter", 12)
	f.Add("```go\nfunc a() {}\n  indented\n```\n\ntext", 14)
	f.Add("今日は晴れです。明日は雨でしょう。", 4)
	f.Add("ab👨\u200d👩\u200d👧\u200d👦cd 🇯🇵🇺🇸 👍🏽", 3)
	f.Add("a ``` b\n```\nx\n```", 9)
	f.Add("\xff\xfe bad utf-8 \xc3", 2)
	f.Add("*Title*\n\n- one\n- two\n\n```\ncode\n  more\n```\n\n> quote", 20)
	f.Fuzz(func(t *testing.T, text string, limit int) {
		limit = int(uint(limit)%5000) + 1
		checkSplit(t, text, limit, Split(text, limit))
	})
}

func FuzzToWhatsApp(f *testing.F) {
	f.Add("fmt.Println(\"**x**\")\n\ttabbed   ", "## Title\n\n1. `a`\n2. [b](https://b.io)\n\n```go\nx\n```")
	f.Add("", "**bold** _it_ ~~s~~ `c` [l](u) ![i](j) <b>h</b>")
	f.Add("x", "| a | b |\n|---|:-:|\n| 1 | 2 |")
	f.Add("  a\n\n\nb", "- a\n  - b\n    1. c\n> q\n> > r\n\n---\n# h")
	f.Add("日本語", "2 * 3 * 4 \\*x\\* &#42; &amp; snake_case")
	f.Fuzz(func(t *testing.T, code, rest string) {
		// render, not ToWhatsApp: a panic must fail here, not be recovered.
		out := render(rest)
		if utf8.ValidString(rest) && !utf8.ValidString(out) {
			t.Errorf("render(%q) = %q: not valid UTF-8", rest, out)
		}

		// A fenced block comes out byte for byte.
		if !utf8.ValidString(code) || strings.TrimSpace(code) == "" ||
			strings.Contains(code, "```") || strings.ContainsRune(code, '\r') {
			return
		}
		md := "```lang\n" + code + "\n```\n\n" + rest
		want := "```\n" + code + "\n```"
		if out := render(md); !strings.Contains(out, want) {
			t.Errorf("render(%q) = %q; want it to contain %q", md, out, want)
		}
	})
}
