package agenttest

import (
	"fmt"
	"time"
)

// reasoningField is where the style's chat completions put reasoning; ""
// means nowhere (hosted OpenAI never returns it).
func (s *Server) reasoningField() string {
	switch s.style {
	case Ollama:
		return "reasoning"
	case OpenAI, Anthropic:
		return ""
	}
	return "reasoning_content"
}

// finishReason is the chat finish_reason of the reply.
func finishReason(r Reply, p outputPlan) string {
	switch {
	case p.call != nil:
		return "tool_calls"
	case r.Truncated:
		return "length"
	}
	return "stop"
}

// chatUsage is the usage object of a chat completion.
func (s *Server) chatUsage(c *call) obj {
	u := s.usageOf(c)
	o := obj{{"prompt_tokens", u.input}, {"completion_tokens", u.output}, {"total_tokens", u.input + u.output}}
	if u.cached > 0 || s.style == OpenAI {
		o = append(o, kv{"prompt_tokens_details", obj{{"cached_tokens", u.cached}}})
	}
	if s.style == OpenAI {
		o = append(o, kv{"completion_tokens_details", obj{{"reasoning_tokens", u.reasoning}}})
	}
	return o
}

// chatHead is the members every chat completion (chunk) starts with.
func (s *Server) chatHead(id, object string, created int64, model string) obj {
	o := obj{{"id", id}, {"object", object}, {"created", created}, {"model", model}}
	switch s.style {
	case Ollama:
		o = append(o, kv{"system_fingerprint", "fp_ollama"})
	case OpenAI:
		o = append(o, kv{"system_fingerprint", "fp_fake0001"})
	}
	return o
}

// chatToolCall is one entry of tool_calls.
func (s *Server) chatToolCall(tc ToolCall, args string, full bool) obj {
	if !full {
		return obj{{"index", 0}, {"function", obj{{"arguments", args}}}}
	}
	return obj{{"id", tc.CallID}, {"index", 0}, {"type", "function"},
		{"function", obj{{"name", tc.Name}, {"arguments", args}}}}
}

// chatBody is a non-streamed chat completion.
func (s *Server) chatBody(c *call) obj {
	p := s.plan(c)
	msg := obj{{"role", "assistant"}}
	switch {
	case p.text == "" && p.call != nil && s.style != Ollama:
		msg = append(msg, kv{"content", nil})
	default:
		msg = append(msg, kv{"content", p.text})
	}
	if f := s.reasoningField(); f != "" && p.reasoning != "" {
		msg = append(msg, kv{f, p.reasoning})
	}
	if p.call != nil {
		msg = append(msg, kv{"tool_calls", []any{s.chatToolCall(*p.call, p.call.Arguments, true)}})
	}
	if s.style == OpenAI {
		msg = append(msg, kv{"refusal", nil}, kv{"annotations", []any{}})
	}
	choice := obj{{"index", 0}, {"message", msg}, {"finish_reason", finishReason(c.reply, p)}}
	body := s.chatHead(fmt.Sprintf("chatcmpl-%d", s.newID()), "chat.completion", time.Now().Unix(), c.model)
	return append(body, kv{"choices", []any{choice}}, kv{"usage", s.chatUsage(c)})
}

// chatEvents is the chunk sequence of a streamed chat completion, ending with
// data: [DONE].
func (s *Server) chatEvents(c *call) []sseEvent {
	p := s.plan(c)
	id := fmt.Sprintf("chatcmpl-%d", s.newID())
	created := time.Now().Unix()
	var events []sseEvent
	first := true
	add := func(delta obj, finish any, isDelta bool) {
		if first {
			delta = append(obj{{"role", "assistant"}}, delta...)
			first = false
		}
		chunk := append(s.chatHead(id, "chat.completion.chunk", created, c.model),
			kv{"choices", []any{obj{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}})
		events = append(events, sseEvent{data: mustJSON(chunk), delta: isDelta})
	}
	if f := s.reasoningField(); f != "" && p.reasoning != "" {
		for _, d := range splitDeltas(p.reasoning) {
			add(obj{{"content", ""}, {f, d}}, nil, true)
		}
	}
	if p.text != "" {
		for _, d := range c.reply.textDeltas() {
			add(obj{{"content", d}}, nil, true)
		}
	}
	if p.call != nil {
		tc := *p.call
		if s.style == Ollama {
			add(obj{{"content", ""}, {"tool_calls", []any{s.chatToolCall(tc, tc.Arguments, true)}}}, nil, true)
		} else {
			add(obj{{"content", nil}, {"tool_calls", []any{s.chatToolCall(tc, "", true)}}}, nil, false)
			for _, d := range halves(tc.Arguments) {
				add(obj{{"tool_calls", []any{s.chatToolCall(tc, d, false)}}}, nil, true)
			}
		}
	}
	if first {
		add(obj{{"content", ""}}, nil, false)
	}
	add(obj{}, finishReason(c.reply, p), false)
	if c.includeUsage {
		chunk := append(s.chatHead(id, "chat.completion.chunk", created, c.model),
			kv{"choices", []any{}}, kv{"usage", s.chatUsage(c)})
		events = append(events, sseEvent{data: mustJSON(chunk)})
	}
	return append(events, sseEvent{data: []byte("[DONE]")})
}
