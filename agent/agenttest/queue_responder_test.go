package agenttest

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestResponderAnswersByContent(t *testing.T) {
	s := New(t, Ollama, "m")
	s.SetResponder(func(r Request) Reply {
		if bytes.Contains(r.Body, []byte("summarise")) {
			return Reply{Text: "notes"}
		}
		return Reply{Text: "chat"}
	})
	s.Enqueue(Reply{Text: "queued first"})
	for _, tc := range []struct{ body, want string }{
		{`{"model":"m","messages":[{"role":"user","content":"hi"}]}`, "queued first"},
		{`{"model":"m","messages":[{"role":"user","content":"please summarise"}]}`, "notes"},
		{`{"model":"m","messages":[{"role":"user","content":"hi"}]}`, "chat"},
	} {
		res, err := http.Post(s.URL+"/chat/completions", "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(b), `"content":"`+tc.want+`"`) {
			t.Errorf("%s -> %s; want %q", tc.body, b, tc.want)
		}
	}
}
