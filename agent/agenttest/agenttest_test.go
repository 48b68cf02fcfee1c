package agenttest_test

import (
	"testing"

	"waclaw/agent/agenttest"
)

func TestLastInput(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		{`{"input":[{"role":"system","content":"sys"},{"role":"user","content":"hello"}]}`, "hello"},
		{`{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"},{"role":"user","content":"again"}]}`, "again"},
		{`{"messages":[{"role":"user","content":[{"type":"text","text":"part one, "},{"type":"text","text":"part two"}]}]}`, "part one, part two"},
		{`{"model":"m"}`, ""},
		{`not json`, ""},
	} {
		if got := (agenttest.Request{Body: []byte(tt.body)}).LastInput(); got != tt.want {
			t.Errorf("LastInput(%s) = %q; want %q", tt.body, got, tt.want)
		}
	}
}
