package agenttest

import (
	"encoding/hex"
	"fmt"
	"time"
)

// respIDs are the ids of one Responses answer and its items.
type respIDs struct {
	resp, reasoning, msg, call string
}

func (s *Server) newRespIDs() respIDs {
	n := s.newID()
	ids := respIDs{
		resp:      fmt.Sprintf("resp_%d", n),
		reasoning: fmt.Sprintf("rs_%d", n),
		msg:       fmt.Sprintf("msg_%d", n),
		call:      fmt.Sprintf("fc_%d_0", n),
	}
	if s.style == Ollama {
		ids.reasoning = "rs_" + ids.resp
	}
	return ids
}

// truncated reports whether the answer stops on the output limit with status
// "incomplete" (Ollama still says "completed").
func (s *Server) truncated(c *call) bool {
	return c.reply.Truncated && s.style != Ollama
}

// responseUsage is the usage object of a Responses answer.
func (s *Server) responseUsage(c *call) obj {
	u := s.usageOf(c)
	return obj{
		{"input_tokens", u.input},
		{"output_tokens", u.output},
		{"total_tokens", u.input + u.output},
		{"input_tokens_details", obj{{"cached_tokens", u.cached}}},
		{"output_tokens_details", obj{{"reasoning_tokens", u.reasoning}}},
	}
}

// responseObject is a Response in the member order of Ollama's bodies,
// echoing what the request asked for.
func (s *Server) responseObject(c *call, id, status string, created int64, completed, output, usage any) obj {
	b := c.body
	or := func(key string, def any) any {
		if v, ok := b[key]; ok {
			return v
		}
		return def
	}
	var incomplete any
	if status == "incomplete" {
		incomplete = obj{{"reason", "max_output_tokens"}}
	}
	return obj{
		{"id", id},
		{"object", "response"},
		{"created_at", created},
		{"completed_at", completed},
		{"status", status},
		{"incomplete_details", incomplete},
		{"model", c.model},
		{"previous_response_id", nil},
		{"instructions", or("instructions", nil)},
		{"output", output},
		{"error", nil},
		{"tools", or("tools", []any{})},
		{"tool_choice", or("tool_choice", "auto")},
		{"truncation", "disabled"},
		{"parallel_tool_calls", or("parallel_tool_calls", true)},
		{"text", obj{{"format", obj{{"type", "text"}}}}},
		{"top_p", or("top_p", 1)},
		{"presence_penalty", 0},
		{"frequency_penalty", 0},
		{"top_logprobs", 0},
		{"temperature", or("temperature", 1)},
		{"reasoning", s.echoReasoning(c)},
		{"usage", usage},
		{"max_output_tokens", or("max_output_tokens", nil)},
		{"max_tool_calls", nil},
		{"store", or("store", false)},
		{"background", false},
		{"service_tier", "default"},
		{"metadata", obj{}},
		{"safety_identifier", nil},
		{"prompt_cache_key", nil},
	}
}

// echoReasoning is the request's reasoning setting as the answer repeats it.
// Ollama's streamed events spell out a missing summary as null; its
// non-streamed bodies do not.
func (s *Server) echoReasoning(c *call) any {
	r, ok := c.body["reasoning"].(map[string]any)
	if !ok {
		return c.body["reasoning"]
	}
	if s.style != Ollama || !c.stream {
		return r
	}
	out := make(map[string]any, len(r)+1)
	for k, v := range r {
		out[k] = v
	}
	if _, ok := out["summary"]; !ok {
		out["summary"] = nil
	}
	return out
}

// outputText is one output_text content part.
func outputText(text string) obj {
	return obj{{"type", "output_text"}, {"text", text}, {"annotations", []any{}}, {"logprobs", []any{}}}
}

// wantsEncryptedReasoning reports whether the request asked OpenAI for
// reasoning.encrypted_content.
func wantsEncryptedReasoning(c *call) bool {
	inc, _ := c.body["include"].([]any)
	for _, v := range inc {
		if v == "reasoning.encrypted_content" {
			return true
		}
	}
	return false
}

// reasoningItem is the completed reasoning output item, in the style's shape.
func (s *Server) reasoningItem(c *call, id, text string) obj {
	switch s.style {
	case Ollama:
		return obj{{"id", id}, {"type", "reasoning"},
			{"summary", []any{obj{{"type", "summary_text"}, {"text", text}}}},
			{"encrypted_content", text}}
	case OpenAI:
		item := obj{{"id", id}, {"type", "reasoning"},
			{"summary", []any{obj{{"type", "summary_text"}, {"text", text}}}}}
		if wantsEncryptedReasoning(c) {
			item = append(item, kv{"encrypted_content", "gAAAAABo" + hex.EncodeToString([]byte(id))})
		}
		return item
	}
	return obj{{"id", id}, {"type", "reasoning"}, {"summary", []any{}},
		{"content", []any{obj{{"type", "reasoning_text"}, {"text", text}}}}}
}

// messageItem is the completed message output item.
func (s *Server) messageItem(c *call, id, text string) obj {
	status := "completed"
	if s.truncated(c) {
		status = "incomplete"
	}
	return obj{{"id", id}, {"type", "message"}, {"status", status}, {"role", "assistant"},
		{"content", []any{outputText(text)}}}
}

// functionCallItem is the completed function_call output item.
func functionCallItem(id string, tc ToolCall) obj {
	return obj{{"id", id}, {"type", "function_call"}, {"status", "completed"},
		{"call_id", tc.CallID}, {"name", tc.Name}, {"arguments", tc.Arguments}}
}

// outputPlan says which output items an answer has.
type outputPlan struct {
	reasoning string
	message   bool
	text      string
	call      *ToolCall
}

// plan decides the output items: Ollama streams a message item only once
// text arrives, LM Studio's empty output has no items at all.
func (s *Server) plan(c *call) outputPlan {
	r := c.reply
	text := r.text()
	if r.Fault == EmptyOutput {
		return outputPlan{message: s.style != LMStudio && !(s.style == Ollama && c.stream)}
	}
	p := outputPlan{reasoning: r.reasoning(), text: text}
	if r.ToolCall != nil {
		tc := *r.ToolCall
		if tc.CallID == "" {
			tc.CallID = fmt.Sprintf("call_%d", s.newID())
		}
		p.call = &tc
	}
	switch {
	case text != "":
		p.message = true
	case p.call != nil:
		p.message = false
	case s.style == Ollama && c.stream:
		p.message = false
	default:
		p.message = true
	}
	return p
}

// responseStatus is the final status of the answer.
func (s *Server) responseStatus(c *call) string {
	if s.truncated(c) {
		return "incomplete"
	}
	return "completed"
}

// failedResponse is a Response whose generation failed.
func (s *Server) failedResponse(c *call, id string, created int64) obj {
	o := s.responseObject(c, id, "failed", created, nil, []any{}, nil)
	for i := range o {
		if o[i].k == "error" {
			o[i].v = obj{{"code", "server_error"}, {"message", "The model failed to generate a response."}}
		}
	}
	return o
}

// responseBody is a non-streamed /v1/responses answer.
func (s *Server) responseBody(c *call) obj {
	ids := s.newRespIDs()
	if c.reply.Fault == ResponseFailed {
		return s.failedResponse(c, ids.resp, time.Now().Unix())
	}
	p := s.plan(c)
	output := []any{}
	if p.reasoning != "" {
		output = append(output, s.reasoningItem(c, ids.reasoning, p.reasoning))
	}
	if p.message {
		output = append(output, s.messageItem(c, ids.msg, p.text))
	}
	if p.call != nil {
		callID := ids.call
		if s.style == Ollama {
			callID = "fc_" + ids.resp + "_0"
		}
		output = append(output, functionCallItem(callID, *p.call))
	}
	now := time.Now().Unix()
	return s.responseObject(c, ids.resp, s.responseStatus(c), now, now, output, s.responseUsage(c))
}

// responseEvents is the event sequence of a streamed /v1/responses answer.
func (s *Server) responseEvents(c *call) []sseEvent {
	ids := s.newRespIDs()
	p := s.plan(c)
	now := time.Now().Unix()
	var events []sseEvent
	add := func(typ string, data obj, delta bool) {
		data = append(data, kv{"sequence_number", len(events)}, kv{"type", typ})
		events = append(events, sseEvent{name: typ, data: mustJSON(sorted(data)), delta: delta})
	}
	inProgress := sorted(s.responseObject(c, ids.resp, "in_progress", now, nil, []any{}, nil))
	add("response.created", obj{{"response", inProgress}}, false)
	add("response.in_progress", obj{{"response", inProgress}}, false)

	var output []any
	if p.reasoning != "" {
		oi := len(output)
		item := s.reasoningItem(c, ids.reasoning, p.reasoning)
		s.addReasoningEvents(add, ids.reasoning, oi, p.reasoning)
		add("response.output_item.done", obj{{"item", item}, {"output_index", oi}}, false)
		output = append(output, item)
	}
	if p.message {
		oi := len(output)
		add("response.output_item.added", obj{{"item", obj{{"id", ids.msg}, {"type", "message"},
			{"status", "in_progress"}, {"role", "assistant"}, {"content", []any{}}}}, {"output_index", oi}}, false)
		part := func(text string) obj {
			return obj{{"content_index", 0}, {"item_id", ids.msg}, {"output_index", oi}, {"part", outputText(text)}}
		}
		add("response.content_part.added", part(""), false)
		if p.text != "" {
			for _, d := range c.reply.textDeltas() {
				add("response.output_text.delta", obj{{"content_index", 0}, {"delta", d}, {"item_id", ids.msg},
					{"logprobs", []any{}}, {"output_index", oi}}, true)
			}
		}
		add("response.output_text.done", obj{{"content_index", 0}, {"item_id", ids.msg}, {"logprobs", []any{}},
			{"output_index", oi}, {"text", p.text}}, false)
		add("response.content_part.done", part(p.text), false)
		item := s.messageItem(c, ids.msg, p.text)
		add("response.output_item.done", obj{{"item", item}, {"output_index", oi}}, false)
		output = append(output, item)
	}
	if p.call != nil {
		oi := len(output)
		tc := *p.call
		add("response.output_item.added", obj{{"item", obj{{"id", ids.call}, {"type", "function_call"},
			{"status", "in_progress"}, {"call_id", tc.CallID}, {"name", tc.Name}, {"arguments", ""}}},
			{"output_index", oi}}, false)
		deltas := []string{tc.Arguments}
		if s.style != Ollama {
			deltas = halves(tc.Arguments)
		}
		for _, d := range deltas {
			add("response.function_call_arguments.delta", obj{{"delta", d}, {"item_id", ids.call}, {"output_index", oi}}, true)
		}
		add("response.function_call_arguments.done", obj{{"arguments", tc.Arguments}, {"item_id", ids.call}, {"output_index", oi}}, false)
		item := functionCallItem(ids.call, tc)
		add("response.output_item.done", obj{{"item", item}, {"output_index", oi}}, false)
		output = append(output, item)
	}

	var final any = output
	if output == nil {
		if s.style == Ollama {
			final = nil // Ollama's tiny-eos transcript: "output":null
		} else {
			final = []any{}
		}
	}
	status := s.responseStatus(c)
	done := s.responseObject(c, ids.resp, status, now, time.Now().Unix(), final, s.responseUsage(c))
	name := "response.completed"
	if status == "incomplete" {
		name = "response.incomplete"
	}
	add(name, obj{{"response", done}}, false)
	if c.reply.Fault == ResponseFailed {
		events = events[:cutPoint(events, c.reply.FaultAfter)+1]
		add("response.failed", obj{{"response", s.failedResponse(c, ids.resp, now)}}, false)
	}
	return events
}

// addReasoningEvents adds the events that stream a reasoning item, up to but
// not including its output_item.done, in the style's shape.
func (s *Server) addReasoningEvents(add func(string, obj, bool), id string, oi int, text string) {
	deltas := splitDeltas(text)
	switch s.style {
	case Ollama, OpenAI:
		add("response.output_item.added", obj{{"item", obj{{"id", id}, {"type", "reasoning"}, {"summary", []any{}}}},
			{"output_index", oi}}, false)
		summary := func(t string) obj { return obj{{"type", "summary_text"}, {"text", t}} }
		if s.style == OpenAI {
			add("response.reasoning_summary_part.added", obj{{"item_id", id}, {"output_index", oi},
				{"part", summary("")}, {"summary_index", 0}}, false)
		}
		for _, d := range deltas {
			add("response.reasoning_summary_text.delta", obj{{"delta", d}, {"item_id", id}, {"output_index", oi},
				{"summary_index", 0}}, true)
		}
		add("response.reasoning_summary_text.done", obj{{"item_id", id}, {"output_index", oi},
			{"summary_index", 0}, {"text", text}}, false)
		if s.style == OpenAI {
			add("response.reasoning_summary_part.done", obj{{"item_id", id}, {"output_index", oi},
				{"part", summary(text)}, {"summary_index", 0}}, false)
		}
	default:
		add("response.output_item.added", obj{{"item", obj{{"id", id}, {"type", "reasoning"}, {"summary", []any{}},
			{"content", []any{}}}}, {"output_index", oi}}, false)
		part := func(t string) obj {
			return obj{{"content_index", 0}, {"item_id", id}, {"output_index", oi},
				{"part", obj{{"type", "reasoning_text"}, {"text", t}}}}
		}
		add("response.content_part.added", part(""), false)
		for _, d := range deltas {
			add("response.reasoning_text.delta", obj{{"content_index", 0}, {"delta", d}, {"item_id", id},
				{"output_index", oi}}, true)
		}
		add("response.reasoning_text.done", obj{{"content_index", 0}, {"item_id", id}, {"output_index", oi},
			{"text", text}}, false)
		add("response.content_part.done", part(text), false)
	}
}
