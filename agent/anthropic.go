package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/anthropics/anthropic-sdk-go/v2/packages/param"

	"waclaw/config"
)

// anthropicProvider speaks the Anthropic Messages API, for the hosted
// fallbacks. thinking and redacted_thinking blocks are dropped from the
// answer; inside one tool loop the whole assistant turn (with its thinking
// blocks and signatures, as the API requires) is sent back verbatim.
type anthropicProvider struct {
	cfg    *config.Provider
	client anthropic.Client
}

func newAnthropicProvider(p *config.Provider, client *http.Client) *anthropicProvider {
	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(), // only waclaw's config decides where text goes
		option.WithHTTPClient(client),
		option.WithBaseURL(p.BaseURL),
		option.WithMaxRetries(0),
	}
	if p.APIKey != "" {
		// The SDK sends the key as a bearer token; Anthropic-compatible
		// servers that predate that (and the 2024 API description) read
		// x-api-key, so both are sent.
		opts = append(opts, option.WithAPIKey(p.APIKey), option.WithHeader("x-api-key", p.APIKey))
	}
	for k, v := range p.Headers {
		opts = append(opts, option.WithHeader(k, v))
	}
	return &anthropicProvider{cfg: p, client: anthropic.NewClient(opts...)}
}

// anthropicParams builds the request body.
func anthropicParams(m *config.Model, req *Request) anthropic.MessageNewParams {
	p := anthropic.MessageNewParams{
		Model:     m.ID,
		MaxTokens: int64(req.MaxOutputTokens),
		Messages:  anthropicMessages(req.Input),
	}
	if p.MaxTokens <= 0 {
		p.MaxTokens = int64(m.MaxTokens)
	}
	if req.Instructions != "" {
		p.System = []anthropic.TextBlockParam{{Text: req.Instructions}}
	}
	for _, t := range req.Tools {
		schema := anthropic.ToolInputSchemaParam{Properties: t.Parameters["properties"]}
		if req, ok := t.Parameters["required"].([]string); ok {
			schema.Required = req
		}
		p.Tools = append(p.Tools, anthropic.ToolUnionParam{OfTool: &anthropic.ToolParam{
			Name:        t.Name,
			Description: anthropic.String(t.Description),
			InputSchema: schema,
		}})
	}
	return p
}

func anthropicMessages(items []Item) []anthropic.MessageParam {
	var out []anthropic.MessageParam
	var results []anthropic.ContentBlockParamUnion // tool results waiting to be sent
	flush := func() {
		if len(results) > 0 {
			// Results of one turn's calls go back in one user message.
			out = append(out, anthropic.NewUserMessage(results...))
			results = nil
		}
	}
	callsInRaw := false // the calls that follow are inside the raw assistant turn
	for _, it := range items {
		if it.Kind != ItemFunctionOutput {
			flush()
		}
		switch it.Kind {
		case ItemMessage:
			callsInRaw = false
			if it.Role == RoleAssistant {
				out = append(out, anthropic.NewAssistantMessage(anthropic.NewTextBlock(it.Text)))
			} else if len(it.Images) > 0 {
				out = append(out, anthropic.NewUserMessage(anthropicContent(it)...))
			} else {
				out = append(out, anthropic.NewUserMessage(anthropic.NewTextBlock(it.Text)))
			}
		case ItemReasoning:
			// The assistant turn as the API returned it, thinking and
			// tool_use blocks included.
			out = append(out, param.Override[anthropic.MessageParam](it.Raw))
			callsInRaw = true
		case ItemFunctionCall:
			if !callsInRaw {
				out = append(out, anthropic.NewAssistantMessage(anthropic.NewToolUseBlock(it.CallID, json.RawMessage(orEmptyObject(it.Arguments)), it.Name)))
			}
		case ItemFunctionOutput:
			callsInRaw = false
			results = append(results, anthropic.NewToolResultBlock(it.CallID, it.Text, false))
		}
	}
	flush()
	return out
}

func orEmptyObject(s string) string {
	if strings.TrimSpace(s) == "" {
		return "{}"
	}
	return s
}

func (p *anthropicProvider) Complete(ctx context.Context, m *config.Model, req *Request) (*Result, error) {
	parent := ctx
	ctx, idle, stop := callContext(ctx, p.cfg)
	defer stop()

	x := &exchange{}
	opts := []option.RequestOption{option.WithMiddleware(x.observe)}
	for k, v := range m.Params {
		opts = append(opts, option.WithJSONSet(k, v))
	}
	stream := p.client.Messages.NewStreaming(ctx, anthropicParams(m, req), opts...)
	defer stream.Close()

	var msg anthropic.Message
	var streamed thinkFilter // the answer as it streams, for req.OnText
	if !m.Reasoning {
		streamed.settle() // a model that does not reason writes only its answer
	}
	stopped := false
	for stream.Next() {
		idle.kick()
		ev := stream.Current()
		if err := msg.Accumulate(ev); err != nil {
			return nil, &Error{Class: Malformed, Model: m, Detail: err.Error(), Err: err}
		}
		switch {
		case ev.Type == "content_block_start" && ev.ContentBlock.Type == "thinking":
			streamed.settle() // this server keeps reasoning out of the text
		case ev.Type == "content_block_delta" && ev.Delta.Type == "text_delta":
			streamed.Write(ev.Delta.Text)
			giveFresh(req, &streamed)
		}
		if ev.Type == "message_stop" {
			stopped = true
		}
	}
	if err := stream.Err(); err != nil {
		return nil, classify(m, err, x, ctx, parent)
	}
	if !stopped {
		return nil, &Error{Class: ServerFailed, Model: m, Detail: "the stream ended before the message stopped"}
	}

	res := &Result{
		FinishReason: string(msg.StopReason),
		Usage: Usage{
			InputTokens:  int(msg.Usage.InputTokens + msg.Usage.CacheReadInputTokens + msg.Usage.CacheCreationInputTokens),
			OutputTokens: int(msg.Usage.OutputTokens),
			CachedTokens: int(msg.Usage.CacheReadInputTokens),
		},
	}
	var text []string
	for _, block := range msg.Content {
		switch block.Type {
		case "text":
			text = append(text, block.Text)
		case "tool_use":
			res.Calls = append(res.Calls, Item{Kind: ItemFunctionCall, CallID: block.ID, Name: block.Name, Arguments: string(block.Input)})
		}
		// thinking and redacted_thinking blocks are not the answer.
	}
	res.Text = stripThink(strings.Join(text, ""))
	if len(res.Calls) > 0 {
		raw, err := json.Marshal(msg.ToParam())
		if err != nil {
			return nil, &Error{Class: Malformed, Model: m, Detail: err.Error(), Err: err}
		}
		res.Items = append([]Item{{Kind: ItemReasoning, Raw: raw}}, res.Calls...)
	}
	if res.Text == "" && len(res.Calls) == 0 {
		return nil, &Error{Class: EmptyReply, Model: m, Detail: "the message had no text (stop reason " + res.FinishReason + ")"}
	}
	return res, nil
}

var _ Provider = (*anthropicProvider)(nil)
