package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"waclaw/agent/agenttest"
	"waclaw/config"
)

// target is one server style spoken to through one API.
type target struct {
	style agenttest.Style
	api   config.API
}

func (tg target) String() string { return tg.style.String() + "/" + string(tg.api) }

var targets = []target{
	{agenttest.LMStudio, config.APIOpenAIResponses},
	{agenttest.Ollama, config.APIOpenAIResponses},
	{agenttest.OpenAI, config.APIOpenAIResponses},
	{agenttest.LMStudio, config.APIOpenAICompletions},
	{agenttest.Ollama, config.APIOpenAICompletions},
	{agenttest.LlamaCpp, config.APIOpenAICompletions},
	{agenttest.VLLM, config.APIOpenAICompletions},
	{agenttest.Anthropic, config.APIAnthropicMessages},
}

// setup is a provider for url speaking api, with one model "m".
func setup(t testing.TB, api config.API, url string, extra string) (*config.Model, Provider) {
	t.Helper()
	src := fmt.Sprintf(`{models: {mode: "replace", providers: {p: {
		baseUrl: %q, api: %q, apiKey: "k", idleTimeout: "400ms", requestTimeout: "20s", %s
		models: [{id: "m", contextWindow: 8192, maxTokens: 1024, cost: {input: 1, output: 2}}]}}}}`, url, api, extra)
	cfg, err := config.Parse("t", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	m := cfg.Primary
	p, err := NewProvider(m.Provider, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m, p
}

func question(text string) *Request {
	return &Request{
		Instructions:    "be brief",
		Input:           []Item{{Kind: ItemMessage, Role: RoleUser, Text: text}},
		MaxOutputTokens: 1024,
	}
}

func TestAdaptersReturnOnlyTheFinalText(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.String(), func(t *testing.T) {
			srv := agenttest.New(t, tg.style, "m")
			m, p := setup(t, tg.api, srv.URL, "")
			srv.Enqueue(
				agenttest.Reply{Text: "Visible answer.", Reasoning: "SECRET-THINKING plan", InputTokens: 42, OutputTokens: 7},
				agenttest.Reply{Raw: "<think>SECRET-THINKING plan</think>Visible answer.", Chunks: []string{"<thi", "nk>SECRET-", "THINKING plan</th", "ink>Visible ", "answer."}},
				agenttest.Reply{Raw: "SECRET-PART</think>Visible answer.", Chunks: []string{"SECRET-", "PART</", "think>Visible answer."}},
			)
			for i := range 3 {
				res, err := p.Complete(context.Background(), m, question("hi"))
				if err != nil {
					t.Fatalf("reply %d: %v", i, err)
				}
				if res.Text != "Visible answer." {
					t.Errorf("reply %d text = %q; want only the final text", i, res.Text)
				}
				if i == 0 && (res.Usage.InputTokens != 42 || res.Usage.OutputTokens != 7) {
					t.Errorf("usage = %+v; want the server's 42 in, 7 out", res.Usage)
				}
			}
		})
	}
}

func TestAdaptersTreatNoFinalTextAsFailure(t *testing.T) {
	replies := map[string]agenttest.Reply{
		"thinking only":   {Raw: "<think>SECRET-THINKING plan</think>"},
		"unclosed think":  {Raw: "<think>SECRET-THINKING plan"},
		"reasoning only":  {Reasoning: "SECRET-THINKING plan"},
		"empty output":    {Fault: agenttest.EmptyOutput},
		"whitespace only": {Text: " \n "},
	}
	for _, tg := range targets {
		for name, r := range replies {
			t.Run(tg.String()+"/"+name, func(t *testing.T) {
				srv := agenttest.New(t, tg.style, "m")
				m, p := setup(t, tg.api, srv.URL, "")
				srv.Enqueue(r)
				res, err := p.Complete(context.Background(), m, question("hi"))
				var e *Error
				if !errors.As(err, &e) || e.Class != EmptyReply {
					t.Fatalf("Complete = %+v, %v; want an EmptyReply failure", res, err)
				}
				if strings.Contains(e.Error(), "SECRET") {
					t.Errorf("the error shows reasoning: %v", e)
				}
			})
		}
	}
}

func TestFailureClassification(t *testing.T) {
	ra := agenttest.Reply{Fault: agenttest.RateLimited, RetryAfter: 7 * time.Second}
	tests := []struct {
		name  string
		tg    target
		reply agenttest.Reply
		want  Class
	}{
		{"hang before any byte", targets[0], agenttest.Reply{Fault: agenttest.Hang}, Timeout},
		{"hang mid-stream", targets[0], agenttest.Reply{Fault: agenttest.HangMidStream}, Timeout},
		{"hang mid-stream (chat)", targets[5], agenttest.Reply{Fault: agenttest.HangMidStream}, Timeout},
		{"hang mid-stream (anthropic)", targets[7], agenttest.Reply{Fault: agenttest.HangMidStream}, Timeout},
		{"cut stream", targets[0], agenttest.Reply{Fault: agenttest.CutStream}, ServerFailed},
		{"cut stream (chat)", targets[4], agenttest.Reply{Fault: agenttest.CutStream}, ServerFailed},
		{"cut stream (anthropic)", targets[7], agenttest.Reply{Fault: agenttest.CutStream}, ServerFailed},
		{"stream ends early", targets[1], agenttest.Reply{Text: "An answer that never finishes.", Fault: agenttest.StreamEndsEarly}, ServerFailed},
		{"stream ends early (chat)", targets[6], agenttest.Reply{Text: "An answer that never finishes.", Fault: agenttest.StreamEndsEarly}, ServerFailed},
		{"stream ends early (anthropic)", targets[7], agenttest.Reply{Text: "An answer that never finishes.", Fault: agenttest.StreamEndsEarly}, ServerFailed},
		{"mid-stream error event", targets[2], agenttest.Reply{Fault: agenttest.StreamError}, ServerFailed},
		{"mid-stream error (chat)", targets[6], agenttest.Reply{Fault: agenttest.StreamError}, ServerFailed},
		{"mid-stream runner crash (Ollama chat)", targets[4], agenttest.Reply{Fault: agenttest.StreamError}, LoadFailed},
		{"mid-stream error (anthropic)", targets[7], agenttest.Reply{Fault: agenttest.StreamError}, ServerFailed},
		{"response.failed", targets[2], agenttest.Reply{Fault: agenttest.ResponseFailed}, ServerFailed},
		{"llama.cpp 503 Loading model", targets[5], agenttest.Reply{Fault: agenttest.Loading}, Loading},
		{"LM Studio no models loaded", targets[0], agenttest.Reply{Fault: agenttest.NoModelsLoaded}, ModelMissing},
		{"LM Studio no models loaded (chat)", targets[3], agenttest.Reply{Fault: agenttest.NoModelsLoaded}, ModelMissing},
		{"Ollama model not found", targets[1], agenttest.Reply{Fault: agenttest.ModelNotFound}, ModelMissing},
		{"Anthropic model not found", targets[7], agenttest.Reply{Fault: agenttest.ModelNotFound}, ModelMissing},
		{"LM Studio without /v1/responses", targets[0], agenttest.Reply{Fault: agenttest.EndpointMissing}, EndpointMissing},
		{"Ollama without /v1/responses", targets[1], agenttest.Reply{Fault: agenttest.EndpointMissing}, EndpointMissing},
		{"vLLM without the endpoint", targets[6], agenttest.Reply{Fault: agenttest.EndpointMissing}, EndpointMissing},
		{"429", targets[2], ra, RateLimited},
		{"429 (chat)", targets[6], ra, RateLimited},
		{"429 (anthropic)", targets[7], ra, RateLimited},
		{"500", targets[5], agenttest.Reply{Fault: agenttest.ServerError}, ServerFailed},
		{"500: Ollama's runner terminated", targets[1], agenttest.Reply{Fault: agenttest.ServerError}, LoadFailed},
		{"500: LM Studio's model crashed", targets[0], agenttest.Reply{Fault: agenttest.ServerError}, LoadFailed},
		{"500 (anthropic)", targets[7], agenttest.Reply{Fault: agenttest.ServerError}, ServerFailed},
		{"529 overloaded", targets[7], agenttest.Reply{Fault: agenttest.Overloaded}, Overloaded},
		{"401", targets[2], agenttest.Reply{Fault: agenttest.Unauthorized}, AuthFailed},
		{"401 (vLLM string body)", targets[6], agenttest.Reply{Fault: agenttest.Unauthorized}, AuthFailed},
		{"401 (anthropic)", targets[7], agenttest.Reply{Fault: agenttest.Unauthorized}, AuthFailed},
		{"200 with an error body", targets[0], agenttest.Reply{Fault: agenttest.ErrorIn200}, ServerFailed},
		{"200 with an error body (chat)", targets[3], agenttest.Reply{Fault: agenttest.ErrorIn200}, ServerFailed},
		{`{"error":"a string"}`, targets[4], agenttest.Reply{Fault: agenttest.StringError}, BadRequest},
		{`{"error":"a string"} (responses)`, targets[1], agenttest.Reply{Fault: agenttest.StringError}, BadRequest},
		{"malformed JSON", targets[1], agenttest.Reply{Fault: agenttest.MalformedJSON}, Malformed},
		{"malformed JSON (chat)", targets[4], agenttest.Reply{Fault: agenttest.MalformedJSON}, Malformed},
		{"malformed JSON (anthropic)", targets[7], agenttest.Reply{Fault: agenttest.MalformedJSON}, Malformed},
		{"overflow: llama.cpp", targets[5], agenttest.Reply{Fault: agenttest.ContextOverflow}, ContextOverflow},
		{"overflow: vLLM", targets[6], agenttest.Reply{Fault: agenttest.ContextOverflow}, ContextOverflow},
		{"overflow: OpenAI stream error event", targets[2], agenttest.Reply{Fault: agenttest.ContextOverflow}, ContextOverflow},
		{"overflow: Anthropic", targets[7], agenttest.Reply{Fault: agenttest.ContextOverflow}, ContextOverflow},
		{"overflow: LM Studio 200 error body", targets[0], agenttest.Reply{Fault: agenttest.ContextOverflow}, ContextOverflow},
		{"overflow: LM Studio 200 error body (chat)", targets[3], agenttest.Reply{Fault: agenttest.ContextOverflow}, ContextOverflow},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.tg.String(), func(t *testing.T) {
			srv := agenttest.New(t, tt.tg.style, "m")
			m, p := setup(t, tt.tg.api, srv.URL, "")
			srv.Enqueue(tt.reply)
			_, err := p.Complete(context.Background(), m, question("hi"))
			var e *Error
			if !errors.As(err, &e) || e.Class != tt.want {
				t.Fatalf("Complete error = %v (class %v); want class %v", err, classOf(err), tt.want)
			}
			if tt.reply.RetryAfter != 0 && e.RetryAfter != tt.reply.RetryAfter {
				t.Errorf("RetryAfter = %v; want %v from the header", e.RetryAfter, tt.reply.RetryAfter)
			}
			if e.Model != m {
				t.Errorf("error names model %v; want %s", e.Model, m.Ref())
			}
		})
	}
}

func TestVLLMLegacyOverflowAndUnknownModel(t *testing.T) {
	srv := agenttest.New(t, agenttest.VLLM, "m")
	srv.SetLegacyErrors(true)
	m, p := setup(t, config.APIOpenAICompletions, srv.URL, "")
	srv.Enqueue(agenttest.Reply{Fault: agenttest.ContextOverflow})
	if _, err := p.Complete(context.Background(), m, question("hi")); classOf(err) != ContextOverflow {
		t.Errorf("legacy vLLM overflow: %v; want ContextOverflow", err)
	}
	// A model the server does not list.
	other := *m
	other.ID = "not-served"
	if _, err := p.Complete(context.Background(), &other, question("hi")); classOf(err) != ModelMissing {
		t.Errorf("unlisted model: %v; want ModelMissing", err)
	}
}

func TestOllamaSilentTruncationReportsTheContextSize(t *testing.T) {
	srv := agenttest.New(t, agenttest.Ollama, "m")
	srv.SetContextSize(256)
	for _, api := range []config.API{config.APIOpenAIResponses, config.APIOpenAICompletions} {
		m, p := setup(t, api, srv.URL, "")
		srv.Enqueue(agenttest.Reply{Text: "honK?", Fault: agenttest.ContextOverflow})
		res, err := p.Complete(context.Background(), m, question(strings.Repeat("word ", 600)))
		if err != nil {
			t.Fatalf("%s: %v", api, err)
		}
		// The server truncated silently; the reported input equals its
		// context size, which compaction reads as overflow.
		if res.Usage.InputTokens != 256 {
			t.Errorf("%s: input tokens = %d; want the context size 256", api, res.Usage.InputTokens)
		}
	}
}

func TestRefusedAndCancelled(t *testing.T) {
	m, p := setup(t, config.APIOpenAIResponses, agenttest.RefusedURL(t), "")
	_, err := p.Complete(context.Background(), m, question("hi"))
	if classOf(err) != Unreachable {
		t.Errorf("refused port: %v; want Unreachable", err)
	}

	srv := agenttest.New(t, agenttest.LMStudio, "m")
	m, p = setup(t, config.APIOpenAIResponses, srv.URL, "")
	srv.Enqueue(agenttest.Reply{Fault: agenttest.Hang})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := p.Complete(ctx, m, question("hi")); done <- err }()
	for len(srv.Requests()) == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; classOf(err) != Canceled {
		t.Errorf("cancelled call: %v; want Canceled", err)
	}
}

func TestSlowStreamIsNotCut(t *testing.T) {
	// Every delta arrives within the idle timeout, the whole answer takes
	// longer than it: a model that keeps generating is not abandoned.
	srv := agenttest.New(t, agenttest.LMStudio, "m")
	m, p := setup(t, config.APIOpenAIResponses, srv.URL, "")
	srv.Enqueue(agenttest.Reply{Text: "warm", Delay: 300 * time.Millisecond})
	res, err := p.Complete(context.Background(), m, question("hi"))
	if err != nil || res.Text != "warm" {
		t.Errorf("Complete = %v, %v; a cold start shorter than the idle timeout must succeed", res, err)
	}
}

func TestRequestsCarryHeadersParamsAndOnlyConfiguredKeys(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-from-the-environment")
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-from-the-environment")
	t.Setenv("OPENAI_BASE_URL", "http://192.0.2.1/v1")
	for _, tg := range []target{targets[0], targets[4], targets[7]} {
		t.Run(tg.String(), func(t *testing.T) {
			srv := agenttest.New(t, tg.style, "m")
			src := fmt.Sprintf(`{models: {mode: "replace", providers: {p: {baseUrl: %q, api: %q, headers: {"X-Client": "waclaw"},
				models: [{id: "m", params: {provider: {only: ["us"], data_collection: "deny"}}}]}}}}`, srv.URL, tg.api)
			cfg, err := config.Parse("t", []byte(src), func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatal(err)
			}
			p, _ := NewProvider(cfg.Primary.Provider, nil)
			if _, err := p.Complete(context.Background(), cfg.Primary, question("hi")); err != nil {
				t.Fatal(err)
			}
			req := srv.Requests()[0]
			if req.Header.Get("X-Client") != "waclaw" {
				t.Errorf("header X-Client = %q", req.Header.Get("X-Client"))
			}
			for _, h := range []string{"Authorization", "X-Api-Key"} {
				if v := req.Header.Get(h); v != "" {
					t.Errorf("%s = %q sent to a provider with no key configured", h, v)
				}
			}
			body := req.JSON()
			prov, _ := body["provider"].(map[string]any)
			if prov["data_collection"] != "deny" {
				t.Errorf("model params not in the body: %v", body)
			}
		})
	}
}

func TestResponsesRequestIsStateless(t *testing.T) {
	srv := agenttest.New(t, agenttest.LMStudio, "m")
	m, p := setup(t, config.APIOpenAIResponses, srv.URL, "")
	req := &Request{
		Instructions: "be brief",
		Input: []Item{
			{Kind: ItemMessage, Role: RoleUser, Text: "first"},
			{Kind: ItemMessage, Role: RoleAssistant, Text: "answer"},
			{Kind: ItemMessage, Role: RoleUser, Text: "second"},
		},
		MaxOutputTokens: 1024,
	}
	if _, err := p.Complete(context.Background(), m, req); err != nil {
		t.Fatal(err)
	}
	got := srv.Requests()[0]
	body := got.JSON()
	if got.Path != "/v1/responses" || body["store"] != false || body["previous_response_id"] != nil || body["instructions"] != "be brief" || body["max_output_tokens"] != 1024.0 || body["stream"] != true {
		t.Errorf("request = %s %s", got.Path, got.Body)
	}
	if input, _ := body["input"].([]any); len(input) != 3 {
		t.Errorf("input = %v; want the whole history", body["input"])
	}
	if got.Header.Get("Authorization") != "Bearer k" {
		t.Errorf("Authorization = %q; want the configured key", got.Header.Get("Authorization"))
	}
}

// A tool round trip through each API with the Agent: the second request
// carries the call, its result and (Responses, Anthropic) the reasoning
// that came with it; the answer has none of it.
func TestToolRoundTripThroughEachAPI(t *testing.T) {
	for _, tg := range []target{targets[1], targets[0], targets[4], targets[7]} {
		t.Run(tg.String(), func(t *testing.T) {
			srv := agenttest.New(t, tg.style, "m")
			srv.Enqueue(
				agenttest.Reply{Reasoning: "SECRET-PLAN call the clock", ToolCall: &agenttest.ToolCall{CallID: "call_1", Name: "current_time", Arguments: "{}"}},
				agenttest.Reply{Text: "It is noon.", Reasoning: "SECRET-DONE"},
			)
			src := fmt.Sprintf(`{agents: {defaults: {tools: ["current_time"]}}, models: {mode: "replace", providers: {p: {baseUrl: %q, api: %q, models: [{id: "m"}]}}}}`, srv.URL, tg.api)
			cfg, err := config.Parse("t", []byte(src), func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatal(err)
			}
			a, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			text, out, err := a.Reply(context.Background(), Conversation{Messages: []Item{{Kind: ItemMessage, Role: RoleUser, Text: "time?"}}})
			if err != nil || text != "It is noon." || out.Steps != 2 {
				t.Fatalf("Reply = %q, %v (steps %d)", text, err, out.Steps)
			}
			reqs := srv.Requests()
			second := string(reqs[len(reqs)-1].Body)
			for _, want := range []string{"call_1", "current_time", "UTC:"} {
				if !strings.Contains(second, want) {
					t.Errorf("second request lacks %q: %s", want, second)
				}
			}
			if tg.api != config.APIOpenAICompletions && tg.style != agenttest.OpenAI && !strings.Contains(second, "SECRET-PLAN") {
				t.Errorf("reasoning was not passed back inside the tool loop: %s", second)
			}
			if tg.api == config.APIOpenAICompletions && strings.Contains(second, "SECRET") {
				t.Errorf("chat completions sent reasoning back: %s", second)
			}
			if strings.Contains(string(reqs[0].Body), `"tools"`) == false {
				t.Errorf("first request offered no tools: %s", reqs[0].Body)
			}
		})
	}
}

// Small prompts are speed on local hardware: "hi" with the default system
// prompt is a request of a few KB at most (OpenClaw sends about 60 KB).
func TestOneLineRequestIsSmall(t *testing.T) {
	srv := agenttest.New(t, agenttest.LMStudio, "m")
	cfg, err := config.Parse("t", []byte(fmt.Sprintf(`{models: {mode: "replace", providers: {p: {baseUrl: %q, api: "openai-responses", models: [{id: "m"}]}}}}`, srv.URL)), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Reply(context.Background(), Conversation{Messages: []Item{{Kind: ItemMessage, Role: RoleUser, Text: "hi"}}}); err != nil {
		t.Fatal(err)
	}
	n := len(srv.Requests()[0].Body)
	t.Logf("request body for %q: %d bytes", "hi", n)
	if n > 2048 || len(config.DefaultSystemPrompt) > 1024 {
		t.Errorf("request for \"hi\" is %d bytes (system prompt %d); want well under the few-KB budget", n, len(config.DefaultSystemPrompt))
	}
}
