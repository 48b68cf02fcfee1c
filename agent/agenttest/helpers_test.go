package agenttest

import (
	"context"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
)

// openAIStyles are the styles that serve the OpenAI-compatible API.
var openAIStyles = []Style{LMStudio, Ollama, LlamaCpp, VLLM, OpenAI}

const (
	testModel   = "minimax-m2.1-gs32"
	claudeModel = "claude-sonnet-4-5"
)

// testCtx bounds a test's requests so that a bug hangs nothing forever; no
// test asserts on how long anything took.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// shortCtx is a context whose deadline a hanging server will hit.
func shortCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}

func oaClient(s *Server, opts ...option.RequestOption) openai.Client {
	base := []option.RequestOption{option.WithBaseURL(s.URL), option.WithAPIKey("sk-test"), option.WithMaxRetries(0)}
	return openai.NewClient(append(base, opts...)...)
}

func antClient(s *Server) anthropic.Client {
	return anthropic.NewClient(aoptionBase(s.URL)...)
}

func aoptionBase(url string) []aoption.RequestOption {
	return []aoption.RequestOption{aoption.WithBaseURL(url), aoption.WithAPIKey("sk-ant-test"), aoption.WithMaxRetries(0)}
}

func respParams(model string) responses.ResponseNewParams {
	return responses.ResponseNewParams{
		Model:        model,
		Instructions: openai.String("be brief"),
		Input:        responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")},
		Store:        openai.Bool(false),
	}
}

func chatParams(model string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	}
}

func msgParams(model string) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{
		Model:     model,
		MaxTokens: 256,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))},
	}
}

// respStream is what a client saw of a streamed /v1/responses answer.
type respStream struct {
	types     []string
	deltas    []string // output_text deltas
	reasoning []string // reasoning deltas of either kind
	final     *responses.Response
	err       error
}

func (r respStream) completed() bool { return r.final != nil }

func streamResponses(ctx context.Context, c openai.Client, p responses.ResponseNewParams) respStream {
	var out respStream
	st := c.Responses.NewStreaming(ctx, p)
	defer st.Close()
	for st.Next() {
		ev := st.Current()
		out.types = append(out.types, ev.Type)
		switch ev.Type {
		case "response.output_text.delta":
			out.deltas = append(out.deltas, ev.Delta)
		case "response.reasoning_text.delta", "response.reasoning_summary_text.delta":
			out.reasoning = append(out.reasoning, ev.Delta)
		case "response.completed", "response.incomplete":
			resp := ev.Response
			out.final = &resp
		}
	}
	out.err = st.Err()
	return out
}

// chatStream is what a client saw of a streamed chat completion.
type chatStream struct {
	acc      openai.ChatCompletionAccumulator
	chunks   []openai.ChatCompletionChunk
	deltas   []string
	finished bool // a chunk carried a finish_reason
	err      error
}

func streamChat(ctx context.Context, c openai.Client, p openai.ChatCompletionNewParams) *chatStream {
	out := &chatStream{}
	st := c.Chat.Completions.NewStreaming(ctx, p)
	defer st.Close()
	for st.Next() {
		ch := st.Current()
		out.acc.AddChunk(ch)
		out.chunks = append(out.chunks, ch)
		for _, choice := range ch.Choices {
			if choice.Delta.Content != "" {
				out.deltas = append(out.deltas, choice.Delta.Content)
			}
			if choice.FinishReason != "" {
				out.finished = true
			}
		}
	}
	out.err = st.Err()
	return out
}

// msgStream is what a client saw of a streamed Anthropic message.
type msgStream struct {
	msg      anthropic.Message
	types    []string
	deltas   []string
	stopped  bool // message_stop arrived
	err      error
	accumErr error
}

func streamMessages(ctx context.Context, c anthropic.Client, p anthropic.MessageNewParams) *msgStream {
	out := &msgStream{}
	st := c.Messages.NewStreaming(ctx, p)
	defer st.Close()
	for st.Next() {
		ev := st.Current()
		out.types = append(out.types, ev.Type)
		if err := out.msg.Accumulate(ev); err != nil && out.accumErr == nil {
			out.accumErr = err
		}
		if ev.Type == "content_block_delta" && ev.Delta.Type == "text_delta" {
			out.deltas = append(out.deltas, ev.Delta.Text)
		}
		if ev.Type == "message_stop" {
			out.stopped = true
		}
	}
	out.err = st.Err()
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
