package bridge

import "testing"

func TestCloseFence(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"```go\nfmt.Println()\n```", "```go\nfmt.Println()\n```"},
		{"```go\nfmt.Println()", "```go\nfmt.Println()\n```"},
		{"````\n```\nstill code\n", "````\n```\nstill code\n````"},
		{"~~~\ncode\n", "~~~\ncode\n~~~"},
		{"~~~\n```\n", "~~~\n```\n~~~"},
		{"```\ncode\n```\ntext\n```py\nopen", "```\ncode\n```\ntext\n```py\nopen\n```"},
		{"inline ``` is not a fence", "inline ``` is not a fence"},
		{"```a`b\nnot a fence: its info string has a backtick", "```a`b\nnot a fence: its info string has a backtick"},
		{"    ```\nindented code, not a fence", "    ```\nindented code, not a fence"},
		{"```\ncode\n``` not a close\n", "```\ncode\n``` not a close\n```"},
	}
	for _, tt := range tests {
		if got := closeFence(tt.in); got != tt.want {
			t.Errorf("closeFence(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
