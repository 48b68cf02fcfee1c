package markup

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestToWhatsAppGolden renders every testdata/*.md and compares it with the
// .golden file beside it. Run with -update after a deliberate change and
// read the diff.
func TestToWhatsAppGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no testdata/*.md")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".md")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := ToWhatsApp(string(src)) + "\n"
			golden := strings.TrimSuffix(in, ".md") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("ToWhatsApp(%s) mismatch (-want +got):\n%s", in, diff)
			}
		})
	}
}

func TestToWhatsAppPlainTextUnchanged(t *testing.T) {
	for _, s := range []string{
		"",
		"Hello, world!",
		"Sure. What time works for you?",
		"Line one\nLine two\n\nNew paragraph.",
		"It costs 5 € (or 50% off) - see https://example.com/offer?id=7 for details.",
		"5 > 3 and 2 < 4, a - b, #hashtag, @someone, 1+1=2.",
		"A lone * and a lone _ and a lone ~ stay.",
		"snake_case_name, file_name.txt and 10~20 stay.",
		"こんにちは！今日はいい天気ですね。\n明日も晴れるといいですね。",
		"Emoji 👍🏽 and 👨\u200d👩\u200d👧\u200d👦 and 🇯🇵 stay.",
		"Trailing space is trimmed   \nhere.",
	} {
		want := strings.Join(trimLines(s), "\n")
		if got := ToWhatsApp(s); got != want {
			t.Errorf("ToWhatsApp(%q) = %q; want %q", s, got, want)
		}
	}
}

func trimLines(s string) []string {
	ls := strings.Split(strings.TrimRight(s, " \n"), "\n")
	for i, l := range ls {
		ls[i] = strings.TrimRight(l, " ")
	}
	return ls
}

func TestToWhatsApp(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"bold", "**x**", "*x*"},
		{"bold underscores", "__x__", "*x*"},
		{"italic", "*x*", "_x_"},
		{"italic underscores", "_x_", "_x_"},
		{"strike", "~~x~~", "~x~"},
		{"bold italic", "***x***", "*_x_*"},
		{"italic bold", "_**x**_", "*_x_*"},
		{"all three", "~~***x***~~", "*_~x~_*"},
		{"heading", "## Title", "*Title*"},
		{"heading with bold", "# A **b** c", "*A b c*"},
		{"link", "[text](https://x.io)", "text (https://x.io)"},
		{"link text is the url", "[https://x.io](https://x.io)", "https://x.io"},
		{"autolink", "<https://x.io/a_b>", "https://x.io/a_b"},
		{"image", "![alt](https://x.io/i.png)", "alt (https://x.io/i.png)"},
		{"inline code keeps markup", "`**x**`", "`**x**`"},
		{"code block drops language", "```python\nprint(1)\n```", "```\nprint(1)\n```"},
		{"rule", "a\n\n---\n\nb", "a\n\n" + hrule + "\n\nb"},
		{"nested list", "- a\n  - b\n    - c", "- a\n  - b\n    - c"},
		{"ordered list keeps start", "3. a\n4. b", "3. a\n4. b"},
		{"quote", "> a\n> b", "> a\n> b"},
		{"raw html", "a <span>b</span>", "a <span>b</span>"},
		{"literal stars", "2 * 3 * 4", "2 ∗ 3 ∗ 4"},
		{"escaped stars", `\*x\*`, "∗x∗"},
		{"literal star in bold", "**2 * 3**", "*2 ∗ 3*"},
		{"lone star stays", "a * b", "a * b"},
		{"markers in code are not touched", "`2 * 3 * 4`", "`2 * 3 * 4`"},
		{"markers in urls are not touched", "https://x.io/_a_ and _b_", "https://x.io/_a_ and _b_"},
		{"bold across lines", "**a\nb**", "*a*\n*b*"},
		{"hard break", "a  \nb", "a\nb"},
		{"blank lines collapse", "a\n\n\n\nb", "a\n\nb"},
		{"small table", "| a | b |\n|---|---|\n| 1 | 2 |", "```\na | b\n--+--\n1 | 2\n```"},
		{
			"wide table",
			"| Name | Description |\n|---|---|\n| x | " + strings.Repeat("long ", 10) + "|",
			"- Name: x, Description: " + strings.TrimSpace(strings.Repeat("long ", 10)),
		},
		{"nul", "a\x00b", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ToWhatsApp(tt.in); got != tt.want {
				t.Errorf("ToWhatsApp(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}
