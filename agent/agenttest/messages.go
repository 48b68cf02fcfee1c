package agenttest

import (
	"encoding/hex"
	"fmt"
)

// anthropicUsage is the usage object of an Anthropic message; output may be
// overridden for message_start, which reports 1.
func (s *Server) anthropicUsage(c *call, output int) obj {
	u := s.usageOf(c)
	if output < 0 {
		output = u.output
	}
	return obj{{"input_tokens", u.input}, {"cache_creation_input_tokens", 0},
		{"cache_read_input_tokens", u.cached}, {"output_tokens", output}, {"service_tier", "standard"}}
}

// signature is the opaque signature of a thinking block.
func signature(id string) string {
	return "EqQBCkgIBhABGAIiQFake" + hex.EncodeToString([]byte(id))
}

// stopReason is the Anthropic stop_reason of the reply.
func stopReason(r Reply, p outputPlan) string {
	switch {
	case p.call != nil:
		return "tool_use"
	case r.Truncated:
		return "max_tokens"
	}
	return "end_turn"
}

// anthropicPlan is the content blocks of an Anthropic answer: EmptyOutput has
// none, and a text block needs text.
func (s *Server) anthropicPlan(c *call) outputPlan {
	p := s.plan(c)
	if c.reply.Fault == EmptyOutput {
		return outputPlan{}
	}
	p.message = p.text != ""
	if p.call != nil && c.reply.ToolCall.CallID == "" {
		p.call.CallID = fmt.Sprintf("toolu_01Fake%d", s.newID())
	}
	return p
}

// messageBody is a non-streamed /v1/messages answer.
func (s *Server) messageBody(c *call) obj {
	p := s.anthropicPlan(c)
	id := fmt.Sprintf("msg_01Fake%d", s.newID())
	content := []any{}
	if p.reasoning != "" {
		content = append(content, obj{{"type", "thinking"}, {"thinking", p.reasoning}, {"signature", signature(id)}})
	}
	if c.reply.RedactedThinking != "" && c.reply.Fault != EmptyOutput {
		content = append(content, obj{{"type", "redacted_thinking"}, {"data", c.reply.RedactedThinking}})
	}
	if p.message {
		content = append(content, obj{{"type", "text"}, {"text", p.text}})
	}
	if p.call != nil {
		content = append(content, obj{{"type", "tool_use"}, {"id", p.call.CallID}, {"name", p.call.Name},
			{"input", rawJSON(p.call.Arguments, "{}")}})
	}
	return obj{{"id", id}, {"type", "message"}, {"role", "assistant"}, {"model", c.model},
		{"content", content}, {"stop_reason", stopReason(c.reply, p)}, {"stop_sequence", nil},
		{"usage", s.anthropicUsage(c, -1)}}
}

// messageEvents is the event sequence of a streamed /v1/messages answer.
func (s *Server) messageEvents(c *call) []sseEvent {
	p := s.anthropicPlan(c)
	id := fmt.Sprintf("msg_01Fake%d", s.newID())
	var events []sseEvent
	add := func(typ string, data obj, delta bool) {
		events = append(events, sseEvent{name: typ, data: mustJSON(append(obj{{"type", typ}}, data...)), delta: delta})
	}
	add("message_start", obj{{"message", obj{{"id", id}, {"type", "message"}, {"role", "assistant"},
		{"model", c.model}, {"content", []any{}}, {"stop_reason", nil}, {"stop_sequence", nil},
		{"usage", s.anthropicUsage(c, 1)}}}}, false)
	index := 0
	block := func(start obj, deltas []obj) {
		add("content_block_start", obj{{"index", index}, {"content_block", start}}, false)
		if index == 0 {
			events = append(events, sseEvent{name: "ping", data: []byte(`{"type": "ping"}`)})
		}
		for _, d := range deltas {
			add("content_block_delta", obj{{"index", index}, {"delta", d}}, d[0].v != "signature_delta")
		}
		add("content_block_stop", obj{{"index", index}}, false)
		index++
	}
	if p.reasoning != "" {
		var deltas []obj
		for _, d := range splitDeltas(p.reasoning) {
			deltas = append(deltas, obj{{"type", "thinking_delta"}, {"thinking", d}})
		}
		deltas = append(deltas, obj{{"type", "signature_delta"}, {"signature", signature(id)}})
		block(obj{{"type", "thinking"}, {"thinking", ""}, {"signature", ""}}, deltas)
	}
	if c.reply.RedactedThinking != "" && c.reply.Fault != EmptyOutput {
		block(obj{{"type", "redacted_thinking"}, {"data", c.reply.RedactedThinking}}, nil)
	}
	if p.message {
		var deltas []obj
		for _, d := range c.reply.textDeltas() {
			deltas = append(deltas, obj{{"type", "text_delta"}, {"text", d}})
		}
		block(obj{{"type", "text"}, {"text", ""}}, deltas)
	}
	if p.call != nil {
		var deltas []obj
		for _, d := range halves(p.call.Arguments) {
			deltas = append(deltas, obj{{"type", "input_json_delta"}, {"partial_json", d}})
		}
		block(obj{{"type", "tool_use"}, {"id", p.call.CallID}, {"name", p.call.Name}, {"input", obj{}}}, deltas)
	}
	u := s.usageOf(c)
	add("message_delta", obj{{"delta", obj{{"stop_reason", stopReason(c.reply, p)}, {"stop_sequence", nil}}},
		{"usage", obj{{"input_tokens", u.input}, {"cache_creation_input_tokens", 0},
			{"cache_read_input_tokens", u.cached}, {"output_tokens", u.output}}}}, false)
	add("message_stop", nil, false)
	return events
}
