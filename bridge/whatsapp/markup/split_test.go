package markup

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestSplit(t *testing.T) {
	family := "👨\u200d👩\u200d👧\u200d👦" // one character, seven runes
	tests := []struct {
		name  string
		text  string
		limit int
		want  []string
	}{
		{"fits", "hello world", 20, []string{"hello world"}},
		{"exactly the limit", "hello", 5, []string{"hello"}},
		{"empty", "", 10, nil},
		{"only whitespace", " \n\n\t ", 10, nil},
		{"trims the ends", "  hello  \n", 10, []string{"hello"}},
		{"no limit", "a b c", 0, []string{"a b c"}},
		{
			"paragraph before line",
			"aaaa aaaa\n\nbbbb bbbb\ncccc cccc", 25,
			[]string{"aaaa aaaa", "bbbb bbbb\ncccc cccc"},
		},
		{
			"line before space",
			"aaaa bbbb\ncccc dddd eeee", 15,
			[]string{"aaaa bbbb", "cccc dddd eeee"},
		},
		{
			"spaces",
			"one two three four five", 10,
			[]string{"one two", "three four", "five"},
		},
		{
			"a tiny paragraph is not worth a message",
			"Title\n\n" + strings.Repeat("word ", 12), 40,
			[]string{"Title\n\nword word word word word word", "word word word word word word"},
		},
		{
			"blank lines at the cut are dropped",
			"first\n\n\n\nsecond", 8,
			[]string{"first", "second"},
		},
		{"word longer than the limit", "abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"limit one", "ab c", 1, []string{"a", "b", "c"}},
		{"japanese hard cut", "日本語のテキストです", 4, []string{"日本語の", "テキスト", "です"}},
		{
			"japanese after punctuation",
			"今日は晴れです。明日は雨でしょう。", 12,
			[]string{"今日は晴れです。", "明日は雨でしょう。"},
		},
		{"zwj emoji stays whole", "ab" + family + "cd", 7, []string{"ab", family, "cd"}},
		{
			"zwj emoji longer than the limit is cut between runes",
			family, 5,
			[]string{"👨\u200d👩\u200d👧", "\u200d👦"},
		},
		{"flags stay whole", "🇯🇵🇺🇸", 3, []string{"🇯🇵", "🇺🇸"}},
		{"skin tone stays whole", "👍🏽👍🏽", 3, []string{"👍🏽", "👍🏽"}},
		{"combining accent stays whole", "cafe\u0301s", 5, []string{"cafe\u0301", "s"}},
		{
			"code block kept whole",
			"intro text\n```\nline one\nline two\n```\nafter", 30,
			[]string{"intro text", "```\nline one\nline two\n```", "after"},
		},
		{
			"code block with text that fits",
			"intro\n```\nx := 1\n```\n\nafter", 40,
			[]string{"intro\n```\nx := 1\n```\n\nafter"},
		},
		{
			"long code block split at lines with fences",
			"```go\nfunc a() {}\nfunc b() {}\nfunc c() {}\n```", 40,
			[]string{"```go\nfunc a() {}\nfunc b() {}\n```", "```\nfunc c() {}\n```"},
		},
		{
			"long code block keeps indentation",
			"```\nif x {\n    y()\n}\n```", 15,
			[]string{"```\nif x {\n```", "```\n    y()\n```", "```\n}\n```"},
		},
		{
			"code line longer than a part",
			"```\n" + strings.Repeat("x", 30) + "\n```", 20,
			[]string{
				"```\n" + strings.Repeat("x", 12) + "\n```",
				"```\n" + strings.Repeat("x", 12) + "\n```",
				"```\n" + strings.Repeat("x", 6) + "\n```",
			},
		},
		{
			"text around a long code block",
			"Here:\n\n```\naaaa\nbbbb\ncccc\n```\n\nDone.", 17,
			[]string{"Here:", "```\naaaa\nbbbb\n```", "```\ncccc\n```", "Done."},
		},
		{
			"limit too small for fences: cut like text",
			"```\nab\n```", 5,
			[]string{"```", "ab", "```"},
		},
		{
			"no part starts with a new fence",
			"aaaa ```b", 6,
			[]string{"aaaa `", "``b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Split(tt.text, tt.limit)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Split(%q, %d) mismatch (-want +got):\n%s", tt.text, tt.limit, diff)
			}
			if tt.limit > 0 {
				checkSplit(t, tt.text, tt.limit, got)
			}
		})
	}
}

// TestSplitWhatsAppOutput splits a rendered answer at many limits and checks
// the properties FuzzSplit checks, on the text Split really gets.
func TestSplitWhatsAppOutput(t *testing.T) {
	text := ToWhatsApp(longAnswer(t))
	for limit := 1; limit <= 600; limit++ {
		checkSplit(t, text, limit, Split(text, limit))
	}
}

// checkSplit checks what Split promises for any text and limit > 0.
func checkSplit(t *testing.T, text string, limit int, parts []string) {
	t.Helper()
	for i, p := range parts {
		if strings.TrimSpace(p) == "" {
			t.Errorf("Split(%q, %d) part %d is empty", text, limit, i)
		}
		if n := utf8.RuneCountInString(p); n > limit {
			t.Errorf("Split(%q, %d) part %d has %d runes: %q", text, limit, i, n, p)
		}
		if utf8.ValidString(text) && !utf8.ValidString(p) {
			t.Errorf("Split(%q, %d) part %d is not valid UTF-8: %q", text, limit, i, p)
		}
	}

	// Nothing is lost: the non-space characters come back in order, with
	// only whole fences (``` closing one part, ``` opening the next) added.
	want, wantTicks := visible(text)
	got, gotTicks := visible(strings.Join(parts, "\n"))
	if want != got {
		t.Errorf("Split(%q, %d) = %q: characters differ\nwant %q\ngot  %q", text, limit, parts, want, got)
	}
	if extra := gotTicks - wantTicks; extra < 0 || extra%6 != 0 {
		t.Errorf("Split(%q, %d) = %q: %d backticks in, %d out", text, limit, parts, wantTicks, gotTicks)
	}

	if fenceCount(text)%2 == 0 && fenceSafe(text, limit) {
		for i, p := range parts {
			if fenceCount(p)%2 != 0 {
				t.Errorf("Split(%q, %d) part %d has unbalanced fences: %q", text, limit, i, p)
			}
		}
	}
}

// visible returns text without whitespace and backticks (byte for byte, so
// invalid UTF-8 is compared too) and the number of backticks.
func visible(text string) (string, int) {
	var b strings.Builder
	ticks := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == '`':
			ticks++
		case !unicode.IsSpace(r):
			b.WriteString(text[i : i+size])
		}
		i += size
	}
	return b.String(), ticks
}

// fenceCount counts the lines that open or close a ``` block: those that
// start with ``` after any whitespace.
func fenceCount(text string) int {
	n := 0
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimLeftFunc(l, unicode.IsSpace), "```") {
			n++
		}
	}
	return n
}

// fenceSafe reports whether Split can keep fences balanced: an over-long
// block must be able to hold its opening line, one character and its
// closing line (so limit >= twice the longest fence line + 3), and ``` must
// appear only at the start of fence lines, because a cut elsewhere could
// turn it into a new fence.
func fenceSafe(text string, limit int) bool {
	longest := 3
	for _, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "```") {
			longest = max(longest, utf8.RuneCountInString(t))
		} else if strings.Contains(l, "```") {
			return false
		}
	}
	return limit >= 2*longest+3
}
