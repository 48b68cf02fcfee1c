package agent

import (
	"context"
	"net/http"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"waclaw/config"
)

// completionsProvider speaks OpenAI Chat Completions, for servers without
// /v1/responses (OpenRouter, older local servers). Reasoning arrives in
// fields the SDK does not type (reasoning, reasoning_content) and is never
// read; inline <think> text is filtered as it streams.
type completionsProvider struct {
	cfg *config.Provider
	svc openai.ChatCompletionService
}

func newCompletionsProvider(p *config.Provider, client *http.Client) *completionsProvider {
	return &completionsProvider{cfg: p, svc: openai.NewChatCompletionService(openAIOptions(p, client)...)}
}

// completionsParams builds the request body.
func completionsParams(m *config.Model, req *Request) openai.ChatCompletionNewParams {
	p := openai.ChatCompletionNewParams{
		Model:         m.ID,
		Messages:      completionsMessages(req),
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	if req.MaxOutputTokens > 0 {
		p.MaxTokens = openai.Int(int64(req.MaxOutputTokens))
	}
	for _, t := range req.Tools {
		p.Tools = append(p.Tools, openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name:        t.Name,
			Description: openai.String(t.Description),
			Parameters:  t.Parameters,
			Strict:      openai.Bool(t.Strict),
		}))
	}
	return p
}

func completionsMessages(req *Request) []openai.ChatCompletionMessageParamUnion {
	var out []openai.ChatCompletionMessageParamUnion
	if req.Instructions != "" {
		out = append(out, openai.SystemMessage(req.Instructions))
	}
	var calls *openai.ChatCompletionAssistantMessageParam
	for _, it := range req.Input {
		if it.Kind != ItemFunctionCall {
			calls = nil
		}
		switch it.Kind {
		case ItemMessage:
			if it.Role == RoleAssistant {
				out = append(out, openai.AssistantMessage(it.Text))
			} else if len(it.Images) > 0 {
				out = append(out, openai.UserMessage(completionsContent(it)))
			} else {
				out = append(out, openai.UserMessage(it.Text))
			}
		case ItemFunctionCall:
			// Consecutive calls belong to one assistant message.
			if calls == nil {
				out = append(out, openai.ChatCompletionMessageParamUnion{OfAssistant: &openai.ChatCompletionAssistantMessageParam{}})
				calls = out[len(out)-1].OfAssistant
			}
			calls.ToolCalls = append(calls.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
				OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
					ID:       it.CallID,
					Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: it.Name, Arguments: it.Arguments},
				},
			})
		case ItemFunctionOutput:
			out = append(out, openai.ToolMessage(it.Text, it.CallID))
		}
		// ItemReasoning is never sent back on this API.
	}
	return out
}

func (p *completionsProvider) Complete(ctx context.Context, m *config.Model, req *Request) (*Result, error) {
	parent := ctx
	ctx, idle, stop := callContext(ctx, p.cfg)
	defer stop()

	x := &exchange{}
	stream := p.svc.NewStreaming(ctx, completionsParams(m, req), callOptions(m, x)...)
	defer stream.Close()

	var (
		acc      openai.ChatCompletionAccumulator
		text     thinkFilter
		finished bool
	)
	// Nothing is handed out early on the model's word alone: on chat
	// completions LM Studio's MiniMax (reasoning: false in the catalog)
	// writes its reasoning into the text and ends it with a lone </think>.
	// Text streams only once the server has shown that it keeps reasoning
	// apart, or a </think> has passed; otherwise the answer goes out whole
	// at the end.
	for stream.Next() {
		idle.kick()
		chunk := stream.Current()
		acc.AddChunk(chunk)
		for _, c := range chunk.Choices {
			if c.Index == 0 {
				if c.Delta.JSON.ExtraFields["reasoning_content"].Valid() || c.Delta.JSON.ExtraFields["reasoning"].Valid() {
					text.settle() // this server keeps reasoning out of the text
				}
				text.Write(c.Delta.Content)
				giveFresh(req, &text)
				if c.FinishReason != "" {
					finished = true
				}
			}
		}
	}
	if err := stream.Err(); err != nil {
		return nil, classify(m, err, x, ctx, parent)
	}
	if !finished {
		return nil, &Error{Class: ServerFailed, Model: m, Detail: "the stream ended before the reply finished"}
	}
	res := &Result{
		Text: text.Text(),
		Usage: Usage{
			InputTokens:  int(acc.Usage.PromptTokens),
			OutputTokens: int(acc.Usage.CompletionTokens),
			CachedTokens: int(acc.Usage.PromptTokensDetails.CachedTokens),
		},
	}
	if len(acc.Choices) > 0 {
		choice := acc.Choices[0]
		res.FinishReason = choice.FinishReason
		for _, tc := range choice.Message.ToolCalls {
			call := Item{Kind: ItemFunctionCall, CallID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments}
			res.Calls = append(res.Calls, call)
			res.Items = append(res.Items, call)
		}
	}
	if res.Text == "" && len(res.Calls) == 0 {
		return nil, &Error{Class: EmptyReply, Model: m, Detail: "the reply had no final text (finish reason " + res.FinishReason + ")"}
	}
	return res, nil
}

var _ Provider = (*completionsProvider)(nil)
