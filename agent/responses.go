package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/param"
	"github.com/openai/openai-go/v3/responses"

	"waclaw/config"
)

// responsesProvider speaks the OpenAI Responses API, statelessly: store is
// off, the whole context is sent each turn, and only output_text of message
// items becomes the answer.
type responsesProvider struct {
	cfg *config.Provider
	svc responses.ResponseService
}

func newResponsesProvider(p *config.Provider, client *http.Client) *responsesProvider {
	// The service is built directly, not through openai.NewClient, so that
	// OPENAI_API_KEY and friends in the environment never reach a local
	// server: every setting comes from waclaw's config.
	return &responsesProvider{cfg: p, svc: responses.NewResponseService(openAIOptions(p, client)...)}
}

// openAIOptions are the client settings shared by both OpenAI-style APIs.
func openAIOptions(p *config.Provider, client *http.Client) []option.RequestOption {
	opts := []option.RequestOption{
		option.WithHTTPClient(client),
		option.WithBaseURL(p.BaseURL),
		option.WithMaxRetries(0), // the Agent decides what to retry
	}
	if p.APIKey != "" {
		opts = append(opts, option.WithAPIKey(p.APIKey))
	} else {
		opts = append(opts, option.WithHeaderDel("authorization"))
	}
	for k, v := range p.Headers {
		opts = append(opts, option.WithHeader(k, v))
	}
	return opts
}

// callOptions are the per-call settings: the model's extra body fields and
// the transport observer.
func callOptions(m *config.Model, x *exchange) []option.RequestOption {
	opts := []option.RequestOption{option.WithMiddleware(func(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		return x.observe(req, next)
	})}
	for k, v := range m.Params {
		opts = append(opts, option.WithJSONSet(k, v))
	}
	return opts
}

// responsesParams builds the request body.
func responsesParams(m *config.Model, req *Request) responses.ResponseNewParams {
	p := responses.ResponseNewParams{
		Model: m.ID,
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responsesInput(req.Input)},
		Store: openai.Bool(false),
	}
	if req.Instructions != "" {
		p.Instructions = openai.String(req.Instructions)
	}
	if req.MaxOutputTokens > 0 {
		p.MaxOutputTokens = openai.Int(int64(req.MaxOutputTokens))
	}
	for _, t := range req.Tools {
		p.Tools = append(p.Tools, responses.ToolUnionParam{OfFunction: &responses.FunctionToolParam{
			Name:        t.Name,
			Description: openai.String(t.Description),
			Parameters:  t.Parameters,
			Strict:      openai.Bool(t.Strict),
		}})
	}
	return p
}

func responsesInput(items []Item) responses.ResponseInputParam {
	out := make(responses.ResponseInputParam, 0, len(items))
	for _, it := range items {
		switch it.Kind {
		case ItemMessage:
			role := responses.EasyInputMessageRoleUser
			if it.Role == RoleAssistant {
				role = responses.EasyInputMessageRoleAssistant
			}
			if len(it.Images) > 0 && it.Role == RoleUser {
				out = append(out, responses.ResponseInputItemParamOfMessage(responsesContent(it), role))
				continue
			}
			out = append(out, responses.ResponseInputItemParamOfMessage(it.Text, role))
		case ItemFunctionCall:
			out = append(out, responses.ResponseInputItemParamOfFunctionCall(it.Arguments, it.CallID, it.Name))
		case ItemFunctionOutput:
			out = append(out, responses.ResponseInputItemUnionParam{OfFunctionCallOutput: &responses.ResponseInputItemFunctionCallOutputParam{
				CallID: openai.String(it.CallID),
				Output: responses.ResponseInputItemFunctionCallOutputOutputUnionParam{OfString: openai.String(it.Text)},
			}})
		case ItemReasoning:
			r := param.Override[responses.ResponseReasoningItemParam](it.Raw)
			out = append(out, responses.ResponseInputItemUnionParam{OfReasoning: &r})
		}
	}
	return out
}

func (p *responsesProvider) Complete(ctx context.Context, m *config.Model, req *Request) (*Result, error) {
	parent := ctx
	ctx, idle, stop := callContext(ctx, p.cfg)
	defer stop()

	x := &exchange{}
	stream := p.svc.NewStreaming(ctx, responsesParams(m, req), callOptions(m, x)...)
	defer stream.Close()

	var (
		deltas    thinkFilter // the answer as streamed, in case no final event carries it
		final     *responses.Response
		streamErr string
	)
	if !m.Reasoning {
		deltas.settle() // a model that does not reason writes only its answer
	}
	for stream.Next() {
		idle.kick()
		ev := stream.Current()
		switch ev.Type {
		case "response.output_text.delta":
			deltas.Write(ev.Delta)
			giveFresh(req, &deltas)
		case "response.completed", "response.incomplete":
			r := ev.Response
			final = &r
		case "response.failed":
			streamErr = ev.Response.Error.Message
			if ev.Response.Error.Code != "" {
				streamErr += " (" + string(ev.Response.Error.Code) + ")"
			}
		case "error":
			streamErr = strings.TrimSpace(ev.Message + " " + ev.Code)
		}
		// Reasoning events (response.reasoning_text.*,
		// response.reasoning_summary_text.*) only keep the stream alive,
		// and show that this server keeps reasoning out of the text.
		if strings.HasPrefix(ev.Type, "response.reasoning") {
			deltas.settle()
		}
	}
	if err := stream.Err(); err != nil {
		return nil, classify(m, err, x, ctx, parent)
	}
	if streamErr != "" {
		return nil, streamFailure(m, streamErr)
	}
	if final == nil {
		return nil, &Error{Class: ServerFailed, Model: m, Detail: "the stream ended before the response completed"}
	}
	res := responsesResult(final)
	if res.Text == "" && len(res.Calls) == 0 {
		res.Text = deltas.Text()
	}
	if res.Text == "" && len(res.Calls) == 0 {
		return nil, &Error{Class: EmptyReply, Model: m, Detail: "the response had no final text (status " + string(final.Status) + ")"}
	}
	return res, nil
}

// giveFresh hands the answer text that f can release to req's OnText.
func giveFresh(req *Request, f *thinkFilter) {
	if req.OnText == nil {
		return
	}
	if s := f.fresh(); s != "" {
		req.OnText(s)
	}
}

// streamFailure is an error reported inside an otherwise successful stream.
func streamFailure(m *config.Model, detail string) *Error {
	e := &Error{Class: ServerFailed, Model: m, Detail: detail}
	if overflowText.MatchString(detail) {
		e.Class = ContextOverflow
	} else if modelMissingText.MatchString(detail) {
		e.Class = ModelMissing
	}
	return e
}

// responsesResult reads a completed response: output_text of message items
// is the answer; reasoning items are kept only as opaque items for the
// current tool loop.
func responsesResult(r *responses.Response) *Result {
	res := &Result{
		Usage: Usage{
			InputTokens:  int(r.Usage.InputTokens),
			OutputTokens: int(r.Usage.OutputTokens),
			CachedTokens: int(r.Usage.InputTokensDetails.CachedTokens),
		},
		FinishReason: "stop",
	}
	if r.Status == "incomplete" {
		res.FinishReason = "length"
	}
	var text []string
	for _, item := range r.Output {
		switch item.Type {
		case "message":
			for _, part := range item.AsMessage().Content {
				if part.Type == "output_text" && part.Text != "" {
					text = append(text, part.Text)
				}
			}
		case "reasoning":
			res.Items = append(res.Items, Item{Kind: ItemReasoning, Raw: json.RawMessage(item.RawJSON())})
		case "function_call":
			fc := item.AsFunctionCall()
			call := Item{Kind: ItemFunctionCall, CallID: fc.CallID, Name: fc.Name, Arguments: fc.Arguments}
			res.Calls = append(res.Calls, call)
			res.Items = append(res.Items, call)
		}
	}
	if len(res.Calls) > 0 {
		res.FinishReason = "tool_calls"
	}
	res.Text = stripThink(strings.Join(text, "\n\n"))
	return res
}

var _ Provider = (*responsesProvider)(nil)
