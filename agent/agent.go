// Package agent turns a conversation into one final answer from the best
// model that can give it. Providers are thin adapters over the official SDKs
// (openai-responses, openai-completions, anthropic-messages); the Agent tries
// the chat's model and then the configured fallbacks, classifies every
// failure, cools the failing model down (or, for what is the server's
// fault, every model of its provider), and records each attempt. Only final
// text ever leaves this package: reasoning is dropped. Every message and tool
// output is made inert (package defuse) before any provider sees it, so that
// typed chat-template tokens never become control tokens.
package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"waclaw/config"
)

// Role is who said a message.
type Role string

// The roles of a conversation.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// ItemKind says what an Item is.
type ItemKind int

// The kinds of items in a request.
const (
	ItemMessage        ItemKind = iota // a user or assistant message
	ItemFunctionCall                   // the model asked for a tool
	ItemFunctionOutput                 // a tool's answer
	ItemReasoning                      // a provider's reasoning, passed back inside one turn only
)

// Item is one entry of a request's input, provider-neutral.
type Item struct {
	Kind ItemKind
	Role Role   // ItemMessage
	Text string // ItemMessage; ItemFunctionOutput: the tool's output

	// Images are pictures shown with a user message, in this turn only:
	// they are never stored, and a later turn's history holds only the
	// message's text.
	Images []Image

	CallID, Name, Arguments string // ItemFunctionCall; CallID also for ItemFunctionOutput

	// Raw is a provider's own encoding of a reasoning item or assistant
	// turn, sent back verbatim within the same tool loop to the provider
	// that produced it (MiniMax requires its reasoning with the function
	// calls that follow it). It is never stored or carried across turns.
	Raw json.RawMessage
}

// Image is a picture for a model that can see (its input lists "image"),
// already scaled down and encoded (package media/picture).
type Image struct {
	MIME string // "image/jpeg" or "image/png"
	Data []byte
}

// Request is what a Provider is asked.
type Request struct {
	Instructions    string // system text
	Input           []Item
	MaxOutputTokens int
	Tools           []Tool
	// OnText, when set, is given the answer's text while it streams, in
	// pieces that have passed the think filter and can no longer turn out
	// to be reasoning. Their concatenation may stop short of Result.Text
	// (text held back is only in the Result).
	OnText func(piece string)
}

// Result is what a Provider answered.
type Result struct {
	Text         string // final text, cleaned of reasoning; "" with Calls
	Calls        []Item // function calls the model wants run
	Items        []Item // items to send back in the next step of this turn (reasoning, calls)
	Usage        Usage  // as reported by the server
	FinishReason string // "stop", "length", "tool_calls", ...
}

// Usage is a request's token counts.
type Usage struct {
	InputTokens, OutputTokens, CachedTokens int
}

// Add returns u plus v.
func (u Usage) Add(v Usage) Usage {
	return Usage{u.InputTokens + v.InputTokens, u.OutputTokens + v.OutputTokens, u.CachedTokens + v.CachedTokens}
}

// Cost is the price of u at m's rates, in US dollars. Cached input tokens
// are part of the input count and priced at the cache-read rate.
func (u Usage) Cost(m *config.Model) float64 {
	fresh := max(u.InputTokens-u.CachedTokens, 0)
	return (float64(fresh)*m.Cost.Input + float64(u.CachedTokens)*m.Cost.CacheRead + float64(u.OutputTokens)*m.Cost.Output) / 1e6
}

// Provider answers requests for the models of one configured provider.
type Provider interface {
	Complete(ctx context.Context, m *config.Model, req *Request) (*Result, error)
}

// NewProvider builds the adapter for p's api. client may be nil for
// http.DefaultClient.
func NewProvider(p *config.Provider, client *http.Client) (Provider, error) {
	if client == nil {
		client = http.DefaultClient
	}
	switch p.API {
	case config.APIOpenAIResponses:
		return newResponsesProvider(p, client), nil
	case config.APIOpenAICompletions:
		return newCompletionsProvider(p, client), nil
	case config.APIAnthropicMessages:
		return newAnthropicProvider(p, client), nil
	}
	return nil, fmt.Errorf("provider %s: unknown api %q", p.ID, p.API)
}

// WithImages returns c with images shown with its last message (the new
// user message); c itself is not changed.
func (c Conversation) WithImages(images []Image) Conversation {
	if len(images) == 0 || len(c.Messages) == 0 {
		return c
	}
	c.Messages = slices.Clone(c.Messages)
	last := &c.Messages[len(c.Messages)-1]
	last.Images = append(slices.Clone(last.Images), images...)
	return c
}
