package agenttest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
)

func TestResponsesText(t *testing.T) {
	for _, style := range openAIStyles {
		t.Run(style.String(), func(t *testing.T) {
			s := New(t, style, testModel)
			s.Enqueue(
				Reply{Text: "Hello from tiny llama!", InputTokens: 21, OutputTokens: 5, CachedTokens: 7},
				Reply{Text: "Hello from tiny llama!", InputTokens: 21, OutputTokens: 5, CachedTokens: 7},
			)
			c := oaClient(s)

			resp, err := c.Responses.New(testCtx(t), respParams(testModel))
			if err != nil {
				t.Fatalf("Responses.New() error = %v", err)
			}
			if got := resp.OutputText(); got != "Hello from tiny llama!" {
				t.Errorf("OutputText() = %q; want %q", got, "Hello from tiny llama!")
			}
			if resp.Status != "completed" || resp.Model != testModel {
				t.Errorf("status, model = %q, %q; want completed, %q", resp.Status, resp.Model, testModel)
			}
			u := resp.Usage
			if u.InputTokens != 21 || u.OutputTokens != 5 || u.TotalTokens != 26 || u.InputTokensDetails.CachedTokens != 7 {
				t.Errorf("usage = %+v; want 21 in, 5 out, 26 total, 7 cached", u)
			}

			st := streamResponses(testCtx(t), c, respParams(testModel))
			if st.err != nil || !st.completed() {
				t.Fatalf("stream err = %v, completed = %v; want nil, true", st.err, st.completed())
			}
			if got := strings.Join(st.deltas, ""); got != "Hello from tiny llama!" || len(st.deltas) != 4 {
				t.Errorf("deltas = %q; want the answer in 4 deltas", st.deltas)
			}
			want := []string{"response.created", "response.in_progress", "response.output_item.added",
				"response.content_part.added", "response.output_text.delta", "response.output_text.delta",
				"response.output_text.delta", "response.output_text.delta", "response.output_text.done",
				"response.content_part.done", "response.output_item.done", "response.completed"}
			if strings.Join(st.types, " ") != strings.Join(want, " ") {
				t.Errorf("event types = %v; want %v", st.types, want)
			}
			if got := st.final.OutputText(); got != "Hello from tiny llama!" {
				t.Errorf("completed OutputText() = %q", got)
			}
			if u := st.final.Usage; u.InputTokens != 21 || u.OutputTokens != 5 || u.InputTokensDetails.CachedTokens != 7 {
				t.Errorf("streamed usage = %+v; want 21 in, 5 out, 7 cached", u)
			}
		})
	}
}

func TestResponsesUsageEstimate(t *testing.T) {
	s := New(t, Ollama)
	c := oaClient(s)
	resp, err := c.Responses.New(testCtx(t), respParams("any-model"))
	if err != nil {
		t.Fatalf("Responses.New() error = %v", err)
	}
	if resp.OutputText() != "Hello from the fake." {
		t.Errorf("default OutputText() = %q", resp.OutputText())
	}
	if resp.Usage.InputTokens <= 0 || resp.Usage.OutputTokens <= 0 {
		t.Errorf("estimated usage = %+v; want positive counts", resp.Usage)
	}
}

func TestChatText(t *testing.T) {
	for _, style := range openAIStyles {
		t.Run(style.String(), func(t *testing.T) {
			s := New(t, style, testModel)
			s.SetDefault(Reply{Text: "Hello from tiny llama!", InputTokens: 21, OutputTokens: 5, CachedTokens: 3})
			c := oaClient(s)

			cc, err := c.Chat.Completions.New(testCtx(t), chatParams(testModel))
			if err != nil {
				t.Fatalf("Chat.Completions.New() error = %v", err)
			}
			if len(cc.Choices) != 1 || cc.Choices[0].Message.Content != "Hello from tiny llama!" || cc.Choices[0].FinishReason != "stop" {
				t.Fatalf("choices = %+v; want one answer with finish_reason stop", cc.Choices)
			}
			if cc.Usage.PromptTokens != 21 || cc.Usage.CompletionTokens != 5 || cc.Usage.PromptTokensDetails.CachedTokens != 3 {
				t.Errorf("usage = %+v", cc.Usage)
			}

			p := chatParams(testModel)
			p.StreamOptions.IncludeUsage = openai.Bool(true)
			st := streamChat(testCtx(t), c, p)
			if st.err != nil || !st.finished {
				t.Fatalf("stream err = %v, finished = %v", st.err, st.finished)
			}
			if got := strings.Join(st.deltas, ""); got != "Hello from tiny llama!" || len(st.deltas) != 4 {
				t.Errorf("deltas = %q", st.deltas)
			}
			last := st.chunks[len(st.chunks)-1]
			if len(last.Choices) != 0 || last.Usage.PromptTokens != 21 || last.Usage.CompletionTokens != 5 {
				t.Errorf("last chunk = %s; want a usage chunk", last.RawJSON())
			}
			if got := st.acc.Choices[0].Message.Content; got != "Hello from tiny llama!" {
				t.Errorf("accumulated content = %q", got)
			}

			// Without include_usage, no usage chunk.
			st = streamChat(testCtx(t), c, chatParams(testModel))
			for _, ch := range st.chunks {
				if ch.JSON.Usage.Valid() {
					t.Errorf("chunk %s has usage without include_usage", ch.RawJSON())
				}
			}
		})
	}
}

func TestMessagesText(t *testing.T) {
	s := New(t, Anthropic, claudeModel)
	s.SetDefault(Reply{Text: "Hello from Claude!", InputTokens: 12, OutputTokens: 4, CachedTokens: 100})
	c := antClient(s)

	msg, err := c.Messages.New(testCtx(t), msgParams(claudeModel))
	if err != nil {
		t.Fatalf("Messages.New() error = %v", err)
	}
	if len(msg.Content) != 1 || msg.Content[0].Type != "text" || msg.Content[0].Text != "Hello from Claude!" {
		t.Errorf("content = %s", msg.RawJSON())
	}
	if msg.StopReason != anthropic.StopReasonEndTurn {
		t.Errorf("stop_reason = %q; want end_turn", msg.StopReason)
	}
	if msg.Usage.InputTokens != 12 || msg.Usage.OutputTokens != 4 || msg.Usage.CacheReadInputTokens != 100 {
		t.Errorf("usage = %s", msg.Usage.RawJSON())
	}

	st := streamMessages(testCtx(t), c, msgParams(claudeModel))
	if st.err != nil || st.accumErr != nil || !st.stopped {
		t.Fatalf("stream err = %v, accumulate err = %v, stopped = %v", st.err, st.accumErr, st.stopped)
	}
	if got := strings.Join(st.deltas, ""); got != "Hello from Claude!" || len(st.deltas) != 3 {
		t.Errorf("deltas = %q", st.deltas)
	}
	want := "message_start content_block_start content_block_delta content_block_delta content_block_delta content_block_stop message_delta message_stop"
	if got := strings.Join(st.types, " "); got != want {
		t.Errorf("event types = %s; want %s", got, want)
	}
	if st.msg.Content[0].Text != "Hello from Claude!" || st.msg.StopReason != anthropic.StopReasonEndTurn {
		t.Errorf("accumulated message = %+v", st.msg)
	}
	if st.msg.Usage.OutputTokens != 4 || st.msg.Usage.InputTokens != 12 {
		t.Errorf("accumulated usage = %+v", st.msg.Usage)
	}
}

func TestResponsesReasoning(t *testing.T) {
	const reasoning, answer = "SECRET-THINKING plan", "Visible answer."
	tests := []struct {
		style       Style
		summary     bool // reasoning in summary[] (else in content[] reasoning_text)
		encrypted   bool
		streamDelta string
	}{
		{LMStudio, false, false, "response.reasoning_text.delta"},
		{Ollama, true, true, "response.reasoning_summary_text.delta"},
		{LlamaCpp, false, false, "response.reasoning_text.delta"},
		{VLLM, false, false, "response.reasoning_text.delta"},
		{OpenAI, true, false, "response.reasoning_summary_text.delta"},
	}
	for _, tt := range tests {
		t.Run(tt.style.String(), func(t *testing.T) {
			s := New(t, tt.style, testModel)
			s.SetDefault(Reply{Text: answer, Reasoning: reasoning})
			c := oaClient(s)

			check := func(resp *responses.Response) {
				t.Helper()
				if len(resp.Output) != 2 || resp.Output[0].Type != "reasoning" || resp.Output[1].Type != "message" {
					t.Fatalf("output = %s; want a reasoning item then a message", resp.RawJSON())
				}
				r := resp.Output[0].AsReasoning()
				var got string
				if tt.summary {
					if len(r.Summary) != 1 || len(r.Content) != 0 {
						t.Fatalf("reasoning item = %s; want one summary part", r.RawJSON())
					}
					got = r.Summary[0].Text
				} else {
					if len(r.Summary) != 0 || len(r.Content) != 1 || r.Content[0].Type != "reasoning_text" {
						t.Fatalf("reasoning item = %s; want one reasoning_text part", r.RawJSON())
					}
					got = r.Content[0].Text
				}
				if got != reasoning {
					t.Errorf("reasoning = %q; want %q", got, reasoning)
				}
				if tt.encrypted != (r.EncryptedContent == reasoning) {
					t.Errorf("encrypted_content = %q", r.EncryptedContent)
				}
				if text := resp.OutputText(); text != answer {
					t.Errorf("OutputText() = %q; want %q without reasoning", text, answer)
				}
				msg := resp.Output[1].AsMessage()
				if strings.Contains(msg.RawJSON(), "SECRET") {
					t.Errorf("message item leaks reasoning: %s", msg.RawJSON())
				}
			}

			resp, err := c.Responses.New(testCtx(t), respParams(testModel))
			if err != nil {
				t.Fatalf("Responses.New() error = %v", err)
			}
			check(resp)

			st := streamResponses(testCtx(t), c, respParams(testModel))
			if st.err != nil || !st.completed() {
				t.Fatalf("stream err = %v, completed = %v", st.err, st.completed())
			}
			if !contains(st.types, tt.streamDelta) {
				t.Errorf("event types = %v; want %s", st.types, tt.streamDelta)
			}
			if strings.Join(st.reasoning, "") != reasoning || strings.Join(st.deltas, "") != answer {
				t.Errorf("reasoning deltas = %q, text deltas = %q", st.reasoning, st.deltas)
			}
			check(st.final)
		})
	}
}

// TestResponsesThinkingOnly: a thinking-only answer still has a message
// item, with empty text, and status completed.
func TestResponsesThinkingOnly(t *testing.T) {
	s := New(t, Ollama, testModel)
	s.SetDefault(Reply{Reasoning: "SECRET-THINKING plan"})
	c := oaClient(s)
	resp, err := c.Responses.New(testCtx(t), respParams(testModel))
	if err != nil {
		t.Fatalf("Responses.New() error = %v", err)
	}
	if resp.Status != "completed" || len(resp.Output) != 2 || resp.Output[1].Type != "message" || resp.OutputText() != "" {
		t.Errorf("response = %s; want reasoning + empty message, completed", resp.RawJSON())
	}
	st := streamResponses(testCtx(t), c, respParams(testModel))
	if st.err != nil || len(st.final.Output) != 1 || st.final.Output[0].Type != "reasoning" {
		t.Errorf("streamed: err = %v, final = %s; want only a reasoning item (as Ollama streams it)", st.err, st.final.RawJSON())
	}
}

func TestChatReasoning(t *testing.T) {
	const reasoning, answer = "SECRET-THINKING plan", "Visible answer."
	fields := map[Style]string{LMStudio: "reasoning_content", Ollama: "reasoning", LlamaCpp: "reasoning_content", VLLM: "reasoning_content", OpenAI: ""}
	for _, style := range openAIStyles {
		field := fields[style]
		t.Run(style.String(), func(t *testing.T) {
			s := New(t, style, testModel)
			s.SetDefault(Reply{Text: answer, Reasoning: reasoning})
			c := oaClient(s)

			cc, err := c.Chat.Completions.New(testCtx(t), chatParams(testModel))
			if err != nil {
				t.Fatalf("Chat.Completions.New() error = %v", err)
			}
			msg := cc.Choices[0].Message
			if msg.Content != answer {
				t.Errorf("content = %q; want %q", msg.Content, answer)
			}
			var got string
			if f, ok := msg.JSON.ExtraFields[field]; ok {
				_ = json.Unmarshal([]byte(f.Raw()), &got)
			}
			if field == "" {
				if strings.Contains(msg.RawJSON(), "SECRET") {
					t.Errorf("hosted OpenAI message shows reasoning: %s", msg.RawJSON())
				}
			} else if got != reasoning {
				t.Errorf("message.%s = %q; want %q (message %s)", field, got, reasoning, msg.RawJSON())
			}

			st := streamChat(testCtx(t), c, chatParams(testModel))
			if st.err != nil {
				t.Fatalf("stream error = %v", st.err)
			}
			var streamed strings.Builder
			for _, ch := range st.chunks {
				for _, choice := range ch.Choices {
					if f, ok := choice.Delta.JSON.ExtraFields[field]; ok {
						var d string
						_ = json.Unmarshal([]byte(f.Raw()), &d)
						streamed.WriteString(d)
					}
				}
			}
			if field != "" && streamed.String() != reasoning {
				t.Errorf("streamed delta.%s = %q; want %q", field, streamed.String(), reasoning)
			}
			if strings.Join(st.deltas, "") != answer {
				t.Errorf("content deltas = %q", st.deltas)
			}
		})
	}
}

func TestMessagesThinking(t *testing.T) {
	s := New(t, Anthropic, claudeModel)
	s.SetDefault(Reply{Text: "Visible answer.", Reasoning: "SECRET-THINKING plan", RedactedThinking: "EmwKAhgBEgy3va3pzix"})
	c := antClient(s)

	check := func(msg anthropic.Message) {
		t.Helper()
		var types []string
		for _, b := range msg.Content {
			types = append(types, b.Type)
		}
		if strings.Join(types, " ") != "thinking redacted_thinking text" {
			t.Fatalf("blocks = %v; want thinking redacted_thinking text", types)
		}
		th := msg.Content[0].AsThinking()
		if th.Thinking != "SECRET-THINKING plan" || th.Signature == "" {
			t.Errorf("thinking block = %+v; want the reasoning and a signature", th)
		}
		if d := msg.Content[1].AsRedactedThinking().Data; d != "EmwKAhgBEgy3va3pzix" {
			t.Errorf("redacted_thinking data = %q", d)
		}
		if msg.Content[2].Text != "Visible answer." {
			t.Errorf("text = %q", msg.Content[2].Text)
		}
	}
	msg, err := c.Messages.New(testCtx(t), msgParams(claudeModel))
	if err != nil {
		t.Fatalf("Messages.New() error = %v", err)
	}
	check(*msg)

	st := streamMessages(testCtx(t), c, msgParams(claudeModel))
	if st.err != nil || st.accumErr != nil || !st.stopped {
		t.Fatalf("stream err = %v, accumulate err = %v, stopped = %v", st.err, st.accumErr, st.stopped)
	}
	check(st.msg)
}

// TestRawAndChunks: reasoning-off leaks arrive verbatim, and a <think> tag
// split across deltas arrives split.
func TestRawAndChunks(t *testing.T) {
	chunks := []string{"<thi", "nk>SECRET</th", "ink>Visible", " answer."}
	whole := "<think>SECRET</think>Visible answer."

	t.Run("responses", func(t *testing.T) {
		s := New(t, LMStudio, testModel)
		s.Enqueue(Reply{Raw: whole, Reasoning: "ignored"}, Reply{Raw: whole, Chunks: chunks})
		c := oaClient(s)
		resp, err := c.Responses.New(testCtx(t), respParams(testModel))
		if err != nil {
			t.Fatalf("Responses.New() error = %v", err)
		}
		if resp.OutputText() != whole || len(resp.Output) != 1 {
			t.Errorf("output = %s; want the raw text in a lone message", resp.RawJSON())
		}
		st := streamResponses(testCtx(t), c, respParams(testModel))
		if st.err != nil || strings.Join(st.deltas, "|") != strings.Join(chunks, "|") {
			t.Errorf("deltas = %q (err %v); want %q", st.deltas, st.err, chunks)
		}
		if st.final.OutputText() != whole {
			t.Errorf("final text = %q", st.final.OutputText())
		}
	})
	t.Run("chat", func(t *testing.T) {
		s := New(t, Ollama, testModel)
		s.SetDefault(Reply{Chunks: []string{"SECRET-PART</", "think>Visible answer."}})
		c := oaClient(s)
		cc, err := c.Chat.Completions.New(testCtx(t), chatParams(testModel))
		if err != nil {
			t.Fatalf("Chat.Completions.New() error = %v", err)
		}
		if got := cc.Choices[0].Message.Content; got != "SECRET-PART</think>Visible answer." {
			t.Errorf("content = %q", got)
		}
		st := streamChat(testCtx(t), c, chatParams(testModel))
		if st.err != nil || strings.Join(st.deltas, "|") != "SECRET-PART</|think>Visible answer." {
			t.Errorf("deltas = %q (err %v)", st.deltas, st.err)
		}
	})
	t.Run("messages", func(t *testing.T) {
		s := New(t, Anthropic, claudeModel)
		s.SetDefault(Reply{Raw: whole, Chunks: chunks})
		st := streamMessages(testCtx(t), antClient(s), msgParams(claudeModel))
		if st.err != nil || strings.Join(st.deltas, "|") != strings.Join(chunks, "|") {
			t.Errorf("deltas = %q (err %v); want %q", st.deltas, st.err, chunks)
		}
	})
}

func TestNames(t *testing.T) {
	seen := map[string]bool{}
	for f := None; f <= ResponseFailed; f++ {
		name := f.String()
		if strings.HasPrefix(name, "Fault(") || seen[name] {
			t.Errorf("Fault(%d).String() = %q", int(f), name)
		}
		seen[name] = true
	}
	for st := LMStudio; st <= Anthropic; st++ {
		if name := st.String(); strings.HasPrefix(name, "Style(") || seen[name] {
			t.Errorf("Style(%d).String() = %q", int(st), name)
		}
	}
	if got := Fault(99).String(); got != "Fault(99)" {
		t.Errorf("Fault(99).String() = %q", got)
	}
}
