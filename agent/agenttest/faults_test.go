package agenttest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
)

// TestFaultStatuses: each HTTP-level fault gives the status and error shape
// testdata/README.md describes, on both OpenAI-style APIs.
func TestFaultStatuses(t *testing.T) {
	statuses := map[Fault]int{
		RateLimited: 429, ServerError: 500, Overloaded: 503, Loading: 503, Unauthorized: 401,
		ModelNotFound: 404, NoModelsLoaded: 404, EndpointMissing: 404, StringError: 400,
	}
	// Bodies openai-go cannot decode as an *openai.Error. (A body with no
	// "error" member at all, like Ollama's text/plain 404 or vLLM's
	// {"detail":...}, still gives an *openai.Error, with empty fields.)
	notAPIError := func(style Style, f Fault) bool {
		switch {
		case f == StringError:
			return true
		case f == EndpointMissing:
			return style == LMStudio
		case f == Unauthorized:
			return style == VLLM
		}
		return false
	}
	for _, style := range openAIStyles {
		for f, status := range statuses {
			t.Run(style.String()+"/"+f.String(), func(t *testing.T) {
				s := New(t, style, testModel)
				s.Enqueue(Reply{Fault: f, RetryAfter: 2500 * time.Millisecond}, Reply{Fault: f})
				c := oaClient(s)

				var httpResp *http.Response
				_, err := c.Responses.New(testCtx(t), respParams(testModel), option.WithResponseInto(&httpResp))
				checkFault(t, err, httpResp, status, !notAPIError(style, f))
				if f == RateLimited {
					if got := httpResp.Header.Get("Retry-After"); got != "3" {
						t.Errorf("Retry-After = %q; want 3", got)
					}
				}
				_, err = c.Chat.Completions.New(testCtx(t), chatParams(testModel), option.WithResponseInto(&httpResp))
				checkFault(t, err, httpResp, status, !notAPIError(style, f))
				if s.Pending() != 0 {
					t.Errorf("Pending() = %d; want both replies consumed", s.Pending())
				}
			})
		}
	}
}

func checkFault(t *testing.T, err error, httpResp *http.Response, status int, wantAPIError bool) {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil; want status %d", status)
	}
	if httpResp == nil || httpResp.StatusCode != status {
		t.Fatalf("HTTP response = %v; want status %d", httpResp, status)
	}
	var apiErr *openai.Error
	if got := errors.As(err, &apiErr); got != wantAPIError {
		t.Fatalf("errors.As(%v, *openai.Error) = %v; want %v", err, got, wantAPIError)
	}
	if wantAPIError && apiErr.StatusCode != status {
		t.Errorf("StatusCode = %d; want %d", apiErr.StatusCode, status)
	}
}

// TestFaultBodies checks the server's own words where testdata/README.md quotes them.
func TestFaultBodies(t *testing.T) {
	tests := []struct {
		style        Style
		fault        Fault
		status       int
		typ, message string
		code         string
	}{
		{LlamaCpp, Loading, 503, "unavailable_error", "Loading model", "503"},
		{LMStudio, NoModelsLoaded, 404, "invalid_request_error", "No models loaded. Please load a model", "model_not_found"},
		{Ollama, ModelNotFound, 404, "not_found_error", "model '" + testModel + "' not found", ""},
		{OpenAI, RateLimited, 429, "requests", "Rate limit reached", "rate_limit_exceeded"},
		{OpenAI, Unauthorized, 401, "invalid_request_error", "Incorrect API key", "invalid_api_key"},
		{VLLM, ModelNotFound, 404, "NotFoundError", "The model `" + testModel + "` does not exist.", "404"},
		{LlamaCpp, Unauthorized, 401, "authentication_error", "Invalid API Key", "401"},
	}
	for _, tt := range tests {
		t.Run(tt.style.String()+"/"+tt.fault.String(), func(t *testing.T) {
			s := New(t, tt.style, testModel)
			s.SetDefault(Reply{Fault: tt.fault})
			c := oaClient(s)
			_, err := c.Responses.New(testCtx(t), respParams(testModel))
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v; want *openai.Error", err)
			}
			if apiErr.StatusCode != tt.status || apiErr.Type != tt.typ || !strings.HasPrefix(apiErr.Message, tt.message) {
				t.Errorf("error = %d %q %q; want %d %q %q...", apiErr.StatusCode, apiErr.Type, apiErr.Message, tt.status, tt.typ, tt.message)
			}
			if got := jsonField(apiErr.RawJSON(), "code"); got != tt.code {
				t.Errorf("code = %q; want %q (raw %s)", got, tt.code, apiErr.RawJSON())
			}
		})
	}
}

// jsonField returns a top-level member of a JSON object as text ("" for
// null or absent).
func jsonField(raw, key string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(raw), &m) != nil {
		return ""
	}
	v := m[key]
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	if string(v) == "null" {
		return ""
	}
	return string(v)
}

func TestContextOverflow(t *testing.T) {
	t.Run("ollama truncates silently", func(t *testing.T) {
		s := New(t, Ollama, testModel)
		s.SetContextSize(256)
		s.SetDefault(Reply{Text: "onK?", Fault: ContextOverflow})
		c := oaClient(s)
		resp, err := c.Responses.New(testCtx(t), respParams(testModel))
		if err != nil {
			t.Fatalf("Responses.New() error = %v", err)
		}
		if resp.Usage.InputTokens != 256 || resp.OutputText() != "onK?" {
			t.Errorf("input_tokens = %d, text = %q; want 256 (the context size), the answer", resp.Usage.InputTokens, resp.OutputText())
		}
		cc, err := c.Chat.Completions.New(testCtx(t), chatParams(testModel))
		if err != nil || cc.Usage.PromptTokens != 256 {
			t.Errorf("chat: error = %v, prompt_tokens = %d; want nil, 256", err, cc.Usage.PromptTokens)
		}
		st := streamResponses(testCtx(t), c, respParams(testModel))
		if st.err != nil || st.final.Usage.InputTokens != 256 {
			t.Errorf("stream: error = %v, final = %v", st.err, st.final)
		}
	})
	t.Run("lmstudio answers 200 with an error body", func(t *testing.T) {
		s := New(t, LMStudio, testModel)
		s.SetDefault(Reply{Fault: ContextOverflow})
		c := oaClient(s)
		resp, err := c.Responses.New(testCtx(t), respParams(testModel))
		if err != nil {
			t.Fatalf("Responses.New() error = %v; want none (HTTP 200)", err)
		}
		if !strings.Contains(resp.Error.Message, "greater than the context length") || resp.OutputText() != "" {
			t.Errorf("response error = %q, text = %q", resp.Error.Message, resp.OutputText())
		}
		cc, err := c.Chat.Completions.New(testCtx(t), chatParams(testModel))
		if err != nil {
			t.Fatalf("Chat.Completions.New() error = %v; want none", err)
		}
		if f, ok := cc.JSON.ExtraFields["error"]; !ok || !strings.Contains(f.Raw(), "context length") || len(cc.Choices) != 0 {
			t.Errorf("chat completion = %s; want only an error member", cc.RawJSON())
		}
	})
	t.Run("llamacpp", func(t *testing.T) {
		s := New(t, LlamaCpp, testModel)
		s.SetDefault(Reply{Fault: ContextOverflow, InputTokens: 13392})
		c := oaClient(s)
		_, err := c.Chat.Completions.New(testCtx(t), chatParams(testModel))
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Type != "exceed_context_size_error" {
			t.Fatalf("error = %v; want 400 exceed_context_size_error", err)
		}
		want := "request (13392 tokens) exceeds the available context size (8192 tokens), try increasing it"
		if apiErr.Message != want {
			t.Errorf("message = %q; want %q", apiErr.Message, want)
		}
		if jsonField(apiErr.RawJSON(), "n_ctx") != "8192" {
			t.Errorf("raw = %s; want n_ctx 8192", apiErr.RawJSON())
		}
	})
	t.Run("vllm", func(t *testing.T) {
		s := New(t, VLLM, testModel)
		s.SetContextSize(4096)
		s.SetDefault(Reply{Fault: ContextOverflow, InputTokens: 5000})
		c := oaClient(s)
		_, err := c.Responses.New(testCtx(t), respParams(testModel))
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
			t.Fatalf("error = %v; want 400", err)
		}
		if !strings.HasPrefix(apiErr.Message, "This model's maximum context length is 4096 tokens. However, your request has 5000 input tokens.") {
			t.Errorf("message = %q", apiErr.Message)
		}
	})
	t.Run("openai", func(t *testing.T) {
		s := New(t, OpenAI, testModel)
		s.SetDefault(Reply{Fault: ContextOverflow})
		c := oaClient(s)
		for _, call := range []func() error{
			func() error { _, err := c.Responses.New(testCtx(t), respParams(testModel)); return err },
			func() error { _, err := c.Chat.Completions.New(testCtx(t), chatParams(testModel)); return err },
			func() error { return streamChat(testCtx(t), c, chatParams(testModel)).err },
		} {
			var apiErr *openai.Error
			if err := call(); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "context_length_exceeded" {
				t.Errorf("error = %v; want 400 context_length_exceeded", err)
			}
		}
		st := streamResponses(testCtx(t), c, respParams(testModel))
		var se *ssestream.StreamError
		if !errors.As(st.err, &se) || !strings.Contains(se.Message, "context_length_exceeded") || st.completed() {
			t.Errorf("stream error = %v; want a StreamError with context_length_exceeded", st.err)
		}
		if strings.Join(st.types, " ") != "response.created response.in_progress" {
			t.Errorf("events before the error = %v", st.types)
		}
	})
	t.Run("anthropic", func(t *testing.T) {
		s := New(t, Anthropic, claudeModel)
		s.SetDefault(Reply{Fault: ContextOverflow, InputTokens: 210000})
		c := antClient(s)
		_, err := c.Messages.New(testCtx(t), msgParams(claudeModel))
		var apiErr *anthropic.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Type() != "invalid_request_error" {
			t.Fatalf("error = %v; want 400 invalid_request_error", err)
		}
		if apiErr.Message != "prompt is too long: 210000 tokens > 200000 maximum" {
			t.Errorf("message = %q", apiErr.Message)
		}
	})
}

func TestErrorIn200(t *testing.T) {
	s := New(t, LMStudio, testModel)
	s.SetDefault(Reply{Fault: ErrorIn200})
	c := oaClient(s)
	resp, err := c.Responses.New(testCtx(t), respParams(testModel))
	if err != nil {
		t.Fatalf("Responses.New() error = %v; want none", err)
	}
	if resp.Error.Message == "" || len(resp.Output) != 0 || resp.Status != "" {
		t.Errorf("response = %s; want only an error object", resp.RawJSON())
	}
	cc, err := c.Chat.Completions.New(testCtx(t), chatParams(testModel))
	if _, ok := cc.JSON.ExtraFields["error"]; err != nil || !ok {
		t.Errorf("chat: error = %v, body = %s; want no Go error and an error member", err, cc.RawJSON())
	}
	st := streamResponses(testCtx(t), c, respParams(testModel))
	var se *ssestream.StreamError
	if !errors.As(st.err, &se) || len(st.types) != 0 {
		t.Errorf("streamed: error = %v, events = %v; want a StreamError first", st.err, st.types)
	}
	ch := streamChat(testCtx(t), c, chatParams(testModel))
	if !errors.As(ch.err, &se) {
		t.Errorf("streamed chat: error = %v; want a StreamError", ch.err)
	}
}

func TestEmptyOutput(t *testing.T) {
	for _, style := range openAIStyles {
		t.Run(style.String(), func(t *testing.T) {
			s := New(t, style, testModel)
			s.SetDefault(Reply{Text: "never sent", Fault: EmptyOutput})
			c := oaClient(s)
			resp, err := c.Responses.New(testCtx(t), respParams(testModel))
			if err != nil || resp.Status != "completed" || resp.OutputText() != "" {
				t.Fatalf("error = %v, response = %s; want completed, no text", err, resp.RawJSON())
			}
			if style == LMStudio && len(resp.Output) != 0 {
				t.Errorf("LM Studio output = %s; want []", resp.RawJSON())
			}
			st := streamResponses(testCtx(t), c, respParams(testModel))
			if st.err != nil || !st.completed() || st.final.OutputText() != "" {
				t.Errorf("stream: error = %v, completed = %v", st.err, st.completed())
			}
			if style == Ollama && (len(st.final.Output) != 0 || !strings.Contains(st.final.RawJSON(), `"output":null`)) {
				t.Errorf("Ollama streamed final = %s; want output null", st.final.RawJSON())
			}
			cc, err := c.Chat.Completions.New(testCtx(t), chatParams(testModel))
			if err != nil || cc.Choices[0].Message.Content != "" || cc.Choices[0].FinishReason != "stop" {
				t.Errorf("chat: error = %v, body = %s", err, cc.RawJSON())
			}
		})
	}
	t.Run("anthropic", func(t *testing.T) {
		s := New(t, Anthropic, claudeModel)
		s.SetDefault(Reply{Text: "never sent", Reasoning: "nor this", Fault: EmptyOutput})
		c := antClient(s)
		msg, err := c.Messages.New(testCtx(t), msgParams(claudeModel))
		if err != nil || len(msg.Content) != 0 {
			t.Errorf("error = %v, message = %s; want no content", err, msg.RawJSON())
		}
		st := streamMessages(testCtx(t), c, msgParams(claudeModel))
		if st.err != nil || !st.stopped || len(st.msg.Content) != 0 {
			t.Errorf("stream: error = %v, content = %v", st.err, st.msg.Content)
		}
	})
}

func TestMalformedJSON(t *testing.T) {
	s := New(t, Ollama, testModel)
	s.SetDefault(Reply{Fault: MalformedJSON})
	c := oaClient(s)
	var apiErr *openai.Error
	if _, err := c.Responses.New(testCtx(t), respParams(testModel)); err == nil || errors.As(err, &apiErr) {
		t.Errorf("Responses.New() error = %v; want a decoding error", err)
	}
	if _, err := c.Chat.Completions.New(testCtx(t), chatParams(testModel)); err == nil || errors.As(err, &apiErr) {
		t.Errorf("Chat.Completions.New() error = %v; want a decoding error", err)
	}
	if st := streamResponses(testCtx(t), c, respParams(testModel)); st.err == nil || st.completed() {
		t.Errorf("responses stream error = %v; want a decoding error", st.err)
	}
	if st := streamChat(testCtx(t), c, chatParams(testModel)); st.err == nil || st.finished {
		t.Errorf("chat stream error = %v; want a decoding error", st.err)
	}
	a := New(t, Anthropic, claudeModel)
	a.SetDefault(Reply{Fault: MalformedJSON})
	ac := antClient(a)
	if _, err := ac.Messages.New(testCtx(t), msgParams(claudeModel)); err == nil {
		t.Errorf("Messages.New() error = nil; want a decoding error")
	}
	if st := streamMessages(testCtx(t), ac, msgParams(claudeModel)); st.err == nil || st.stopped {
		t.Errorf("messages stream error = %v; want a decoding error", st.err)
	}
}

// streamOutcome is what a client saw of one stream, whatever the API.
type streamOutcome struct {
	err      error
	finished bool // the final event arrived
	deltas   int
}

func streamAll(t *testing.T, ctx context.Context, s *Server) []streamOutcome {
	t.Helper()
	if s.style == Anthropic {
		st := streamMessages(ctx, antClient(s), msgParams(claudeModel))
		return []streamOutcome{{st.err, st.stopped, len(st.deltas)}}
	}
	c := oaClient(s)
	r := streamResponses(ctx, c, respParams(testModel))
	ch := streamChat(ctx, c, chatParams(testModel))
	return []streamOutcome{{r.err, r.completed(), len(r.deltas)}, {ch.err, ch.finished, len(ch.deltas)}}
}

func TestStreamFaults(t *testing.T) {
	for _, style := range []Style{LMStudio, Ollama, OpenAI, Anthropic} {
		model := testModel
		if style == Anthropic {
			model = claudeModel
		}
		t.Run(style.String()+"/StreamError", func(t *testing.T) {
			s := New(t, style, model)
			s.SetDefault(Reply{Text: "Hello from the fake.", Fault: StreamError})
			for _, o := range streamAll(t, testCtx(t), s) {
				var se *ssestream.StreamError
				var ae *anthropic.Error
				if o.finished || o.deltas != 1 {
					t.Errorf("finished = %v, deltas = %d; want false, 1", o.finished, o.deltas)
				}
				switch {
				case style == Anthropic:
					if !errors.As(o.err, &ae) || ae.Type() != "overloaded_error" {
						t.Errorf("error = %v; want *anthropic.Error overloaded_error", o.err)
					}
				case !errors.As(o.err, &se):
					t.Errorf("error = %v; want *ssestream.StreamError", o.err)
				}
			}
		})
		t.Run(style.String()+"/CutStream", func(t *testing.T) {
			s := New(t, style, model)
			s.SetDefault(Reply{Text: "Hello from the fake.", Fault: CutStream})
			for _, o := range streamAll(t, testCtx(t), s) {
				if o.err == nil || o.finished || o.deltas != 1 {
					t.Errorf("error = %v, finished = %v, deltas = %d; want an error after 1 delta", o.err, o.finished, o.deltas)
				}
			}
		})
		t.Run(style.String()+"/StreamEndsEarly", func(t *testing.T) {
			s := New(t, style, model)
			s.SetDefault(Reply{Text: "Hello from the fake.", Fault: StreamEndsEarly})
			for _, o := range streamAll(t, testCtx(t), s) {
				if o.err != nil || o.finished || o.deltas != 1 {
					t.Errorf("error = %v, finished = %v, deltas = %d; want a clean end after 1 delta", o.err, o.finished, o.deltas)
				}
			}
		})
		t.Run(style.String()+"/HangMidStream", func(t *testing.T) {
			s := New(t, style, model)
			s.SetDefault(Reply{Text: "Hello from the fake.", Fault: HangMidStream})
			for _, o := range streamAll(t, shortCtx(t), s) {
				if !errors.Is(o.err, context.DeadlineExceeded) || o.finished {
					t.Errorf("error = %v, finished = %v; want the context deadline", o.err, o.finished)
				}
			}
		})
	}
}

// TestHangMidStreamDelivers shows the first delta reaches the client before
// the silence, so an idle timeout (not a total one) is what must fire.
func TestHangMidStreamDelivers(t *testing.T) {
	s := New(t, Ollama, testModel)
	s.SetDefault(Reply{Text: "Hello from the fake.", Fault: HangMidStream})
	c := oaClient(s)
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	st := c.Responses.NewStreaming(ctx, respParams(testModel))
	defer st.Close()
	for st.Next() {
		if st.Current().Type == "response.output_text.delta" {
			cancel() // got the first delta; now the server is silent
		}
	}
	if !errors.Is(st.Err(), context.Canceled) {
		t.Errorf("Err() = %v; want context.Canceled after the first delta", st.Err())
	}
}

func TestHang(t *testing.T) {
	for _, style := range []Style{LMStudio, Anthropic} {
		t.Run(style.String(), func(t *testing.T) {
			s := New(t, style)
			s.Enqueue(Reply{Fault: Hang}, Reply{Fault: Hang})
			var err error
			if style == Anthropic {
				c := antClient(s)
				_, err = c.Messages.New(shortCtx(t), msgParams(claudeModel))
			} else {
				c := oaClient(s)
				_, err = c.Responses.New(shortCtx(t), respParams(testModel))
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error = %v; want context.DeadlineExceeded", err)
			}
			outcomes := streamAll(t, shortCtx(t), s)
			if o := outcomes[0]; !errors.Is(o.err, context.DeadlineExceeded) {
				t.Errorf("stream error = %v; want context.DeadlineExceeded", o.err)
			}
		})
	}
}

// TestCloseReleasesHang: closing the server ends a hung request instead of
// waiting for it.
func TestCloseReleasesHang(t *testing.T) {
	s := New(t, Ollama, testModel)
	s.SetDefault(Reply{Fault: Hang})
	c := oaClient(s)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Responses.New(testCtx(t), respParams(testModel))
		errc <- err
	}()
	waitRequests(t, s, 1)
	s.Close()
	if err := <-errc; err == nil {
		t.Errorf("Responses.New() error = nil; want the closed connection's error")
	}
}

// waitRequests waits until the server has received n requests.
func waitRequests(t *testing.T, s *Server, n int) {
	t.Helper()
	ctx := testCtx(t)
	for len(s.Requests()) < n {
		select {
		case <-ctx.Done():
			t.Fatalf("server got %d requests; want %d", len(s.Requests()), n)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func TestDelay(t *testing.T) {
	s := New(t, LlamaCpp, testModel)
	s.Enqueue(Reply{Delay: time.Hour}, Reply{Text: "warm now", Delay: 10 * time.Millisecond})
	c := oaClient(s)
	if _, err := c.Responses.New(shortCtx(t), respParams(testModel)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cold start error = %v; want context.DeadlineExceeded", err)
	}
	resp, err := c.Responses.New(testCtx(t), respParams(testModel))
	if err != nil || resp.OutputText() != "warm now" {
		t.Errorf("after the delay: error = %v, text = %q", err, resp.OutputText())
	}
}

func TestAnthropicFaults(t *testing.T) {
	tests := []struct {
		fault  Fault
		status int
		typ    string
	}{
		{Overloaded, 529, "overloaded_error"},
		{RateLimited, 429, "rate_limit_error"},
		{Unauthorized, 401, "authentication_error"},
		{ModelNotFound, 404, "not_found_error"},
		{ServerError, 500, "api_error"},
		{EndpointMissing, 404, "not_found_error"},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			s := New(t, Anthropic, claudeModel)
			s.SetDefault(Reply{Fault: tt.fault, RetryAfter: 30 * time.Second})
			c := antClient(s)
			for _, stream := range []bool{false, true} {
				var err error
				if stream {
					err = streamMessages(testCtx(t), c, msgParams(claudeModel)).err
				} else {
					_, err = c.Messages.New(testCtx(t), msgParams(claudeModel))
				}
				var apiErr *anthropic.Error
				if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status || string(apiErr.Type()) != tt.typ {
					t.Fatalf("stream %v: error = %v; want *anthropic.Error %d %s", stream, err, tt.status, tt.typ)
				}
				if apiErr.RequestID == "" {
					t.Errorf("RequestID is empty; want the request-id header")
				}
				if tt.fault == RateLimited && apiErr.Response.Header.Get("Retry-After") != "30" {
					t.Errorf("Retry-After = %q; want 30", apiErr.Response.Header.Get("Retry-After"))
				}
			}
		})
	}
}

func TestVLLMLegacyErrors(t *testing.T) {
	s := New(t, VLLM, testModel)
	s.SetLegacyErrors(true)
	s.SetDefault(Reply{Fault: ContextOverflow})
	c := oaClient(s)
	var httpResp *http.Response
	_, err := c.Chat.Completions.New(testCtx(t), chatParams(testModel), option.WithResponseInto(&httpResp))
	if err == nil || httpResp == nil || httpResp.StatusCode != 400 {
		t.Fatalf("error = %v, response = %v; want a 400", err, httpResp)
	}
	// openai-go looks for the "error" member only: it gives an *openai.Error
	// with empty fields, and the text is only in the response body.
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.Message != "" {
		t.Fatalf("error = %#v; want an *openai.Error with no message", err)
	}
	if dump := string(apiErr.DumpResponse(true)); !strings.Contains(dump, `{"object":"error","message":"This model's maximum context length is`) {
		t.Errorf("response body = %s; want the legacy top-level error", dump)
	}
}

func TestModelsAndUnknownModel(t *testing.T) {
	s := New(t, Ollama, "tiny", testModel)
	s.Enqueue(Reply{Text: "scripted"})
	c := oaClient(s)
	page, err := c.Models.List(testCtx(t))
	if err != nil {
		t.Fatalf("Models.List() error = %v", err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}
	if strings.Join(ids, ",") != "tiny,"+testModel {
		t.Errorf("model ids = %v", ids)
	}
	if m, err := c.Models.Get(testCtx(t), "tiny"); err != nil || m.ID != "tiny" {
		t.Errorf("Models.Get(tiny) = %v, %v", m, err)
	}

	_, err = c.Responses.New(testCtx(t), respParams("nope"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Message != "model 'nope' not found" {
		t.Errorf("unknown model error = %v; want 404 model 'nope' not found", err)
	}
	if s.Pending() != 1 {
		t.Errorf("Pending() = %d; an unknown model must not consume a reply", s.Pending())
	}
	if _, err := c.Models.Get(testCtx(t), "nope"); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Errorf("Models.Get(nope) error = %v; want 404", err)
	}

	a := New(t, Anthropic, claudeModel)
	ac := antClient(a)
	ap, err := ac.Models.List(testCtx(t), anthropic.ModelListParams{})
	if err != nil || len(ap.Data) != 1 || ap.Data[0].ID != claudeModel {
		t.Errorf("anthropic Models.List() = %+v, %v", ap, err)
	}
}

func TestQueueAndRequests(t *testing.T) {
	s := New(t, LMStudio, testModel)
	s.Enqueue(Reply{Text: "one"}, Reply{Text: "two"})
	c := oaClient(s)
	var got []string
	for range 3 {
		resp, err := c.Responses.New(testCtx(t), respParams(testModel))
		if err != nil {
			t.Fatalf("Responses.New() error = %v", err)
		}
		got = append(got, resp.OutputText())
	}
	if strings.Join(got, "|") != "one|two|Hello from the fake." {
		t.Errorf("answers = %q; want the queue, then the default", got)
	}
	if _, err := c.Models.List(testCtx(t)); err != nil {
		t.Fatalf("Models.List() error = %v", err)
	}
	reqs := s.Requests()
	if len(reqs) != 4 {
		t.Fatalf("requests = %d; want 4", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/v1/responses" || r.Header.Get("Authorization") != "Bearer sk-test" {
		t.Errorf("request = %s %s auth %q", r.Method, r.Path, r.Header.Get("Authorization"))
	}
	if m := r.JSON(); m["model"] != testModel || m["input"] != "hi" || m["instructions"] != "be brief" {
		t.Errorf("body = %v", m)
	}
	if last := reqs[3]; last.Method != "GET" || last.Path != "/v1/models" || last.JSON() != nil {
		t.Errorf("last request = %s %s", last.Method, last.Path)
	}
}

func TestRefusedURL(t *testing.T) {
	url := RefusedURL(t)
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/v1") {
		t.Fatalf("RefusedURL() = %q", url)
	}
	c := openai.NewClient(option.WithBaseURL(url), option.WithAPIKey("k"), option.WithMaxRetries(0))
	_, err := c.Responses.New(testCtx(t), respParams(testModel))
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("error = %v; want connection refused", err)
	}
}

// TestWrongAPI: OpenAI-style servers do not serve /v1/messages, Anthropic
// does not serve the OpenAI paths.
func TestWrongAPI(t *testing.T) {
	s := New(t, LMStudio, testModel)
	ac := anthropic.NewClient(aoptionBase(strings.TrimSuffix(s.URL, "/v1"))...)
	_, err := ac.Messages.New(testCtx(t), msgParams(testModel))
	var ae *anthropic.Error
	if !errors.As(err, &ae) || ae.StatusCode != 404 {
		t.Errorf("LM Studio /v1/messages error = %v; want 404", err)
	}

	a := New(t, Anthropic, claudeModel)
	c := openai.NewClient(option.WithBaseURL(a.URL+"/v1"), option.WithAPIKey("k"), option.WithMaxRetries(0))
	_, err = c.Responses.New(testCtx(t), respParams(claudeModel))
	var oe *openai.Error
	if !errors.As(err, &oe) || oe.StatusCode != 404 {
		t.Errorf("Anthropic /v1/responses error = %v; want 404", err)
	}
}

func TestBadRequestBody(t *testing.T) {
	s := New(t, Ollama, testModel)
	resp, err := http.Post(s.URL+"/responses", "application/json", strings.NewReader(`{"model":`))
	if err != nil {
		t.Fatalf("POST error = %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		Error struct{ Type string } `json:"error"`
	}
	if resp.StatusCode != 400 || json.NewDecoder(resp.Body).Decode(&body) != nil || body.Error.Type != "invalid_request_error" {
		t.Errorf("status %d, error type %q; want 400 invalid_request_error", resp.StatusCode, body.Error.Type)
	}
	if s.Pending() != 0 || len(s.Requests()) != 1 {
		t.Errorf("requests = %d", len(s.Requests()))
	}
}

func TestResponseFailed(t *testing.T) {
	s := New(t, OpenAI, testModel)
	s.SetDefault(Reply{Text: "Hello from the fake.", Fault: ResponseFailed})
	c := oaClient(s)
	resp, err := c.Responses.New(testCtx(t), respParams(testModel))
	if err != nil || resp.Status != "failed" || resp.Error.Code != "server_error" || resp.OutputText() != "" {
		t.Errorf("error = %v, response = %s; want HTTP 200 with a failed response", err, resp.RawJSON())
	}
	st := c.Responses.NewStreaming(testCtx(t), respParams(testModel))
	defer st.Close()
	var last string
	var failed bool
	for st.Next() {
		ev := st.Current()
		last = ev.Type
		if ev.Type == "response.failed" {
			failed = ev.Response.Status == "failed" && ev.Response.Error.Message != ""
		}
	}
	if st.Err() != nil || last != "response.failed" || !failed {
		t.Errorf("Err() = %v, last event = %q, failed = %v; want a clean stream ending in response.failed", st.Err(), last, failed)
	}
	var se *ssestream.StreamError
	if ch := streamChat(testCtx(t), c, chatParams(testModel)); !errors.As(ch.err, &se) {
		t.Errorf("chat stream error = %v; want a StreamError", ch.err)
	}
}

func TestTruncated(t *testing.T) {
	s := New(t, LMStudio, testModel)
	s.SetDefault(Reply{Text: "Hello from", Truncated: true})
	c := oaClient(s)
	resp, err := c.Responses.New(testCtx(t), respParams(testModel))
	if err != nil || resp.Status != "incomplete" || resp.IncompleteDetails.Reason != "max_output_tokens" {
		t.Errorf("error = %v, response = %s; want incomplete, max_output_tokens", err, resp.RawJSON())
	}
	st := streamResponses(testCtx(t), c, respParams(testModel))
	if st.err != nil || st.final == nil || st.final.Status != "incomplete" || st.types[len(st.types)-1] != "response.incomplete" {
		t.Errorf("stream: error = %v, events = %v", st.err, st.types)
	}
	cc, err := c.Chat.Completions.New(testCtx(t), chatParams(testModel))
	if err != nil || cc.Choices[0].FinishReason != "length" {
		t.Errorf("chat: error = %v, body = %s; want finish_reason length", err, cc.RawJSON())
	}
	a := New(t, Anthropic, claudeModel)
	a.SetDefault(Reply{Text: "Hello from", Truncated: true})
	ac := antClient(a)
	msg, err := ac.Messages.New(testCtx(t), msgParams(claudeModel))
	if err != nil || msg.StopReason != anthropic.StopReasonMaxTokens {
		t.Errorf("anthropic: error = %v, stop_reason = %q; want max_tokens", err, msg.StopReason)
	}
}

// TestBodyFaults: the stream faults applied to non-streamed answers.
func TestBodyFaults(t *testing.T) {
	s := New(t, VLLM, testModel)
	s.Enqueue(Reply{Fault: HangMidStream}, Reply{Fault: CutStream}, Reply{Fault: StreamEndsEarly}, Reply{Fault: StreamError})
	c := oaClient(s)
	if _, err := c.Responses.New(shortCtx(t), respParams(testModel)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("HangMidStream error = %v; want context.DeadlineExceeded", err)
	}
	var apiErr *openai.Error
	for _, f := range []Fault{CutStream, StreamEndsEarly} {
		if _, err := c.Responses.New(testCtx(t), respParams(testModel)); err == nil || errors.As(err, &apiErr) {
			t.Errorf("%v error = %v; want a body read or decode error", f, err)
		}
	}
	if _, err := c.Responses.New(testCtx(t), respParams(testModel)); !errors.As(err, &apiErr) || apiErr.StatusCode != 500 {
		t.Errorf("StreamError (not streamed) error = %v; want 500", err)
	}
}
