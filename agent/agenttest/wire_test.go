package agenttest

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The real transcripts, relative to this package's directory.
const (
	wirePlain     = "testdata/wire/ollama-openai-v1.txt"
	wireReasoning = "testdata/wire/ollama-openai-v1-reasoning.txt"
)

// exchange is one recorded HTTP answer.
type exchange struct {
	status      int
	contentType string
	body        string
}

// loadTranscripts reads a transcript file into its sections by title.
func loadTranscripts(t *testing.T, path string) map[string]exchange {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("failed to open transcript: %v", err)
	}
	defer f.Close()
	out := map[string]exchange{}
	var title string
	var lines []string
	flush := func() {
		if title != "" {
			if ex, ok := parseExchange(lines); ok {
				out[title] = ex
			}
		}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "=================== "); ok {
			flush()
			title, lines = rest, nil
			continue
		}
		lines = append(lines, line)
	}
	flush()
	if err := sc.Err(); err != nil {
		t.Fatalf("failed to read transcript: %v", err)
	}
	return out
}

func parseExchange(lines []string) (exchange, bool) {
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "HTTP/1.1 ") {
		return exchange{}, false
	}
	var ex exchange
	ex.status, _ = strconv.Atoi(strings.Fields(lines[0])[1])
	i := 1
	for ; i < len(lines) && lines[i] != ""; i++ {
		if v, ok := strings.CutPrefix(lines[i], "Content-Type: "); ok {
			ex.contentType = v
		}
	}
	ex.body = strings.TrimSpace(strings.Join(lines[i:], "\n"))
	return ex, true
}

// event is one parsed server-sent event.
type event struct{ name, data string }

func parseEvents(body string) []event {
	var out []event
	for _, block := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n") {
		var e event
		for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				e.name = v
			} else if v, ok := strings.CutPrefix(line, "data: "); ok {
				e.data = v
			}
		}
		if e.data != "" {
			out = append(out, e)
		}
	}
	return out
}

// shape is the set of member paths of a JSON document, with the values of
// "type" and "object" members, so that a renamed, added or dropped member or
// a different item type shows.
func shape(t *testing.T, doc string) map[string]bool {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("invalid JSON %q: %v", doc, err)
	}
	out := map[string]bool{}
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				p := path + "." + k
				out[p] = true
				if s, ok := e.(string); ok && (k == "type" || k == "object") {
					out[p+"="+s] = true
				}
				walk(e, p)
			}
		case []any:
			for _, e := range x {
				walk(e, path+"[]")
			}
		}
	}
	walk(v, "")
	return out
}

// diffShapes describes how got's members differ from want's.
func diffShapes(want, got map[string]bool) string {
	var missing, extra []string
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	if len(missing)+len(extra) == 0 {
		return ""
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return "missing " + strings.Join(missing, " ") + "; extra " + strings.Join(extra, " ")
}

const toolsJSON = `[{"type":"function","name":"get_time","description":"current time","strict":null,"parameters":{"properties":{"tz":{"type":"string"}},"type":"object"}}]`
const chatToolsJSON = `[{"type":"function","function":{"name":"get_time","description":"current time","parameters":{"properties":{"tz":{"type":"string"}},"type":"object"}}}]`

// TestWireShapes compares the fake's Ollama-style answers with real Ollama
// transcripts: status, content type, JSON member sets, and for streams the
// event sequence and each event's members.
func TestWireShapes(t *testing.T) {
	plain := loadTranscripts(t, wirePlain)
	reasoning := loadTranscripts(t, wireReasoning)
	think := Reply{Text: "Visible answer.", Reasoning: "SECRET-THINKING plan"}
	tool := Reply{ToolCall: &ToolCall{Name: "get_time", Arguments: toolArgs}}
	tests := []struct {
		file     map[string]exchange
		title    string
		method   string
		path     string
		body     string
		reply    Reply
		overflow bool
	}{
		{plain, "models list", "GET", "/models", "", Reply{}, false},
		{plain, "model retrieve ok", "GET", "/models/tiny", "", Reply{}, false},
		{plain, "model retrieve unknown", "GET", "/models/nope", "", Reply{}, false},
		{plain, "chat non-stream", "POST", "/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":6}`, Reply{Text: "onK??K?", Truncated: true}, false},
		{plain, "chat non-stream stop (tiny-eos)", "POST", "/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"hi"}]}`, Reply{}, false},
		{plain, "chat stream + include_usage", "POST", "/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`, Reply{Chunks: []string{"on", "K", "'"}}, false},
		{plain, "chat stream tiny-eos", "POST", "/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"stream":true}`, Reply{}, false},
		{plain, "chat unknown model", "POST", "/chat/completions", `{"model":"nope","messages":[{"role":"user","content":"hi"}]}`, Reply{}, false},
		{plain, "chat unknown model stream", "POST", "/chat/completions", `{"model":"nope","messages":[{"role":"user","content":"hi"}],"stream":true}`, Reply{}, false},
		{plain, "chat context overflow (600 words vs num_ctx 256)", "POST", "/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"hi"}]}`, Reply{Text: " honK?", Fault: ContextOverflow}, true},
		{plain, "chat bad json", "POST", "/chat/completions", `{"model":`, Reply{}, false},
		{plain, "responses non-stream", "POST", "/responses", `{"model":"tiny","input":"hi","instructions":"be brief","max_output_tokens":6}`, Reply{Text: "on+onK?K"}, false},
		{plain, "responses non-stream tiny-eos", "POST", "/responses", `{"model":"tiny","input":"hi"}`, Reply{}, false},
		{plain, "responses stream", "POST", "/responses", `{"model":"tiny","input":"hi","stream":true,"max_output_tokens":3}`, Reply{Chunks: []string{"on", "K", "'"}}, false},
		{plain, "responses stream tiny-eos", "POST", "/responses", `{"model":"tiny","input":"hi","stream":true}`, Reply{}, false},
		{plain, "responses unknown model", "POST", "/responses", `{"model":"nope","input":"hi"}`, Reply{}, false},
		{plain, "responses unknown model stream", "POST", "/responses", `{"model":"nope","input":"hi","stream":true}`, Reply{}, false},
		{plain, "responses context overflow", "POST", "/responses", `{"model":"tiny","input":"hi"}`, Reply{Text: "+A'K", Fault: ContextOverflow}, true},
		{plain, "responses context overflow stream", "POST", "/responses", `{"model":"tiny","input":"hi","stream":true,"max_output_tokens":2}`, Reply{Chunks: []string{"+", "A"}, Fault: ContextOverflow}, true},
		{plain, "responses bad json", "POST", "/responses", `{"model":`, Reply{}, false},
		{plain, "chat tool call (tiny-tool)", "POST", "/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"tools":` + chatToolsJSON + `}`, tool, false},
		{plain, "chat tool call stream (tiny-tool)", "POST", "/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"stream":true,"tools":` + chatToolsJSON + `}`, tool, false},
		{plain, "responses tool call (tiny-tool)", "POST", "/responses", `{"model":"tiny","input":"hi","tools":` + toolsJSON + `}`, tool, false},
		{plain, "responses tool call stream (tiny-tool)", "POST", "/responses", `{"model":"tiny","input":"hi","stream":true,"tools":` + toolsJSON + `}`, tool, false},
		{reasoning, "chat non-stream tiny-think (no reasoning param: thinking defaults ON)", "POST", "/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"hi"}]}`, think, false},
		{reasoning, "chat stream tiny-think (default)", "POST", "/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"stream":true}`, think, false},
		{reasoning, "chat stream tiny-think reasoning_effort=none", "POST", "/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"stream":true,"reasoning_effort":"none"}`,
			Reply{Raw: "<think>SECRET-THINKING plan</think>Visible answer.", Chunks: []string{"<think>", "SECRET-THINKING", " plan", "</think>", "Visible", " answer."}}, false},
		{reasoning, "chat stream tiny-think-only", "POST", "/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"stream":true}`, Reply{Reasoning: "SECRET-THINKING plan"}, false},
		{reasoning, "responses non-stream tiny-think (no reasoning param: thinking defaults ON)", "POST", "/responses", `{"model":"tiny","input":"hi"}`, think, false},
		{reasoning, "responses non-stream tiny-think reasoning={effort:none} (thinking OFF)", "POST", "/responses", `{"model":"tiny","input":"hi","reasoning":{"effort":"none"}}`, Reply{Raw: "<think>SECRET-THINKING plan</think>Visible answer."}, false},
		{reasoning, "responses stream tiny-think (default)", "POST", "/responses", `{"model":"tiny","input":"hi","stream":true}`, think, false},
		{reasoning, "responses stream tiny-think reasoning={effort:high}", "POST", "/responses", `{"model":"tiny","input":"hi","stream":true,"reasoning":{"effort":"high"}}`, think, false},
		{reasoning, "responses stream tiny-think reasoning={effort:none}", "POST", "/responses", `{"model":"tiny","input":"hi","stream":true,"reasoning":{"effort":"none"}}`,
			Reply{Raw: "<think>SECRET-THINKING plan</think>Visible answer.", Chunks: []string{"<think>", "SECRET-THINKING", " plan", "</think>", "Visible", " answer."}}, false},
		{reasoning, "responses non-stream tiny-think-only", "POST", "/responses", `{"model":"tiny","input":"hi"}`, Reply{Reasoning: "SECRET-THINKING plan"}, false},
		{reasoning, "responses stream tiny-think-only", "POST", "/responses", `{"model":"tiny","input":"hi","stream":true}`, Reply{Reasoning: "SECRET-THINKING plan"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			want, ok := tt.file[tt.title]
			if !ok {
				t.Fatalf("transcript has no section %q", tt.title)
			}
			s := New(t, Ollama, "tiny")
			s.SetContextSize(256)
			s.SetDefault(tt.reply)
			got := fetch(t, s, tt.method, tt.path, tt.body)
			if got.status != want.status || got.contentType != want.contentType {
				t.Fatalf("status, content type = %d %q; want %d %q", got.status, got.contentType, want.status, want.contentType)
			}
			if !strings.HasPrefix(want.contentType, "text/event-stream") {
				if d := diffShapes(shape(t, want.body), shape(t, got.body)); d != "" {
					t.Errorf("body members differ: %s\nwant %s\ngot  %s", d, want.body, got.body)
				}
				if tt.overflow {
					checkOverflowUsage(t, got.body)
				}
				return
			}
			wantEvents, gotEvents := parseEvents(want.body), parseEvents(got.body)
			if len(wantEvents) != len(gotEvents) {
				t.Fatalf("%d events; want %d\ngot:\n%s", len(gotEvents), len(wantEvents), got.body)
			}
			for i, we := range wantEvents {
				ge := gotEvents[i]
				if we.name != ge.name {
					t.Errorf("event %d = %q; want %q", i, ge.name, we.name)
				}
				if we.data == "[DONE]" || ge.data == "[DONE]" {
					if we.data != ge.data {
						t.Errorf("event %d data = %q; want %q", i, ge.data, we.data)
					}
					continue
				}
				if d := diffShapes(shape(t, we.data), shape(t, ge.data)); d != "" {
					t.Errorf("event %d (%s) members differ: %s\nwant %s\ngot  %s", i, we.name, d, we.data, ge.data)
				}
			}
			if tt.overflow {
				checkOverflowUsage(t, gotEvents[len(gotEvents)-1].data)
			}
		})
	}
}

// checkOverflowUsage checks that a silently truncated answer reports the
// context size (256) as its input tokens.
func checkOverflowUsage(t *testing.T, doc string) {
	t.Helper()
	var v struct {
		Usage struct {
			InputTokens  int `json:"input_tokens"`
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
		Response struct {
			Usage struct {
				InputTokens int `json:"input_tokens"`
			} `json:"usage"`
		} `json:"response"`
	}
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("invalid JSON: %v", err)
	}
	if max(v.Usage.InputTokens, v.Usage.PromptTokens, v.Response.Usage.InputTokens) != 256 {
		t.Errorf("input tokens in %s; want 256", doc)
	}
}

// fetch sends one raw request to the fake.
func fetch(t *testing.T, s *Server, method, path, body string) exchange {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatalf("failed to build request: %v", err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s error = %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("failed to read body: %v", err)
	}
	return exchange{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: strings.TrimSpace(string(b))}
}
