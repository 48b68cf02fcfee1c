package agenttest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"
)

const toolArgs = `{"tz":"UTC"}`

var timeParams = map[string]any{"type": "object", "properties": map[string]any{"tz": map[string]any{"type": "string"}}}

func TestResponsesToolCall(t *testing.T) {
	for _, style := range openAIStyles {
		t.Run(style.String(), func(t *testing.T) {
			s := New(t, style, testModel)
			call := Reply{Reasoning: "I should ask the clock.", ToolCall: &ToolCall{CallID: "call_v71vitcw", Name: "get_time", Arguments: toolArgs}}
			s.Enqueue(call, call, Reply{Text: "It is noon."})
			c := oaClient(s)
			p := respParams(testModel)
			p.Tools = []responses.ToolUnionParam{{OfFunction: &responses.FunctionToolParam{
				Name: "get_time", Description: openai.String("current time"), Parameters: timeParams, Strict: openai.Bool(false),
			}}}

			check := func(resp *responses.Response) {
				t.Helper()
				if len(resp.Output) != 2 || resp.Output[0].Type != "reasoning" || resp.Output[1].Type != "function_call" {
					t.Fatalf("output = %s; want reasoning then function_call", resp.RawJSON())
				}
				fc := resp.Output[1].AsFunctionCall()
				if fc.CallID != "call_v71vitcw" || fc.Name != "get_time" || fc.Arguments != toolArgs || fc.Status != "completed" {
					t.Errorf("function_call = %s", fc.RawJSON())
				}
				if resp.OutputText() != "" {
					t.Errorf("OutputText() = %q; want none", resp.OutputText())
				}
			}
			resp, err := c.Responses.New(testCtx(t), p)
			if err != nil {
				t.Fatalf("Responses.New() error = %v", err)
			}
			check(resp)

			st := streamResponses(testCtx(t), c, p)
			if st.err != nil || !st.completed() {
				t.Fatalf("stream error = %v", st.err)
			}
			if !contains(st.types, "response.function_call_arguments.delta") || !contains(st.types, "response.function_call_arguments.done") {
				t.Errorf("event types = %v", st.types)
			}
			check(st.final)

			// The round trip: reasoning and call go back with the result.
			out := responses.ResponseInputItemParamOfFunctionCallOutput(`{"time":"12:00"}`)
			out.OfFunctionCallOutput.CallID = openai.String("call_v71vitcw")
			reasoning := resp.Output[0].AsReasoning().ToParam()
			fcParam := resp.Output[1].AsFunctionCall().ToParam()
			p.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
				responses.ResponseInputItemParamOfMessage("what time is it?", responses.EasyInputMessageRoleUser),
				{OfReasoning: &reasoning},
				{OfFunctionCall: &fcParam},
				out,
			}}
			resp, err = c.Responses.New(testCtx(t), p)
			if err != nil || resp.OutputText() != "It is noon." {
				t.Fatalf("round trip: error = %v, text = %q", err, resp.OutputText())
			}
			reqs := s.Requests()
			input, _ := reqs[len(reqs)-1].JSON()["input"].([]any)
			var types []string
			for _, it := range input {
				m, _ := it.(map[string]any)
				typ, _ := m["type"].(string)
				if typ == "" && m["role"] == "user" {
					typ = "message" // an easy input message has no type
				}
				types = append(types, typ)
			}
			if strings.Join(types, " ") != "message reasoning function_call function_call_output" {
				t.Errorf("sent input types = %v", types)
			}
		})
	}
}

func TestChatToolCall(t *testing.T) {
	for _, style := range []Style{Ollama, OpenAI, LMStudio} {
		t.Run(style.String(), func(t *testing.T) {
			s := New(t, style, testModel)
			s.SetDefault(Reply{ToolCall: &ToolCall{Name: "get_time", Arguments: toolArgs}})
			c := oaClient(s)
			p := chatParams(testModel)
			p.Tools = []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
				Name: "get_time", Parameters: timeParams,
			})}

			cc, err := c.Chat.Completions.New(testCtx(t), p)
			if err != nil {
				t.Fatalf("Chat.Completions.New() error = %v", err)
			}
			ch := cc.Choices[0]
			if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 {
				t.Fatalf("choice = %s; want one tool call", ch.RawJSON())
			}
			tc := ch.Message.ToolCalls[0]
			if !strings.HasPrefix(tc.ID, "call_") || tc.Function.Name != "get_time" || tc.Function.Arguments != toolArgs {
				t.Errorf("tool call = %s", tc.RawJSON())
			}

			st := streamChat(testCtx(t), c, p)
			if st.err != nil || !st.finished {
				t.Fatalf("stream error = %v", st.err)
			}
			acc := st.acc.Choices[0]
			if acc.FinishReason != "tool_calls" || len(acc.Message.ToolCalls) != 1 || acc.Message.ToolCalls[0].Function.Arguments != toolArgs ||
				acc.Message.ToolCalls[0].Function.Name != "get_time" {
				t.Errorf("accumulated = %+v", acc.Message.ToolCalls)
			}

			// The round trip: the assistant turn and the tool result.
			p.Messages = append(p.Messages, cc.Choices[0].Message.ToParam(), openai.ToolMessage(`{"time":"12:00"}`, tc.ID))
			if _, err := c.Chat.Completions.New(testCtx(t), p); err != nil {
				t.Fatalf("round trip error = %v", err)
			}
			reqs := s.Requests()
			msgs, _ := reqs[len(reqs)-1].JSON()["messages"].([]any)
			if len(msgs) != 3 {
				t.Fatalf("sent messages = %v", msgs)
			}
			last, _ := msgs[2].(map[string]any)
			if last["role"] != "tool" || last["tool_call_id"] != tc.ID {
				t.Errorf("tool message = %v", last)
			}
		})
	}
}

func TestMessagesToolUse(t *testing.T) {
	s := New(t, Anthropic, claudeModel)
	s.SetDefault(Reply{Text: "Let me check.", ToolCall: &ToolCall{Name: "get_time", Arguments: toolArgs}})
	c := antClient(s)
	p := msgParams(claudeModel)
	p.Tools = []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{
		Name: "get_time", InputSchema: anthropic.ToolInputSchemaParam{Properties: timeParams["properties"]},
	}}}

	check := func(msg anthropic.Message) {
		t.Helper()
		if msg.StopReason != anthropic.StopReasonToolUse || len(msg.Content) != 2 || msg.Content[1].Type != "tool_use" {
			t.Fatalf("message = %s; want text then tool_use", msg.RawJSON())
		}
		tu := msg.Content[1].AsToolUse()
		var in map[string]any
		if err := json.Unmarshal(tu.Input, &in); err != nil || in["tz"] != "UTC" || tu.Name != "get_time" || !strings.HasPrefix(tu.ID, "toolu_") {
			t.Errorf("tool_use = %s (%v)", tu.RawJSON(), err)
		}
	}
	msg, err := c.Messages.New(testCtx(t), p)
	if err != nil {
		t.Fatalf("Messages.New() error = %v", err)
	}
	check(*msg)

	st := streamMessages(testCtx(t), c, p)
	if st.err != nil || st.accumErr != nil || !st.stopped {
		t.Fatalf("stream err = %v, accumulate err = %v", st.err, st.accumErr)
	}
	check(st.msg)

	id := msg.Content[1].AsToolUse().ID
	p.Messages = append(p.Messages, msg.ToParam(),
		anthropic.NewUserMessage(anthropic.NewToolResultBlock(id, `{"time":"12:00"}`, false)))
	if _, err := c.Messages.New(testCtx(t), p); err != nil {
		t.Fatalf("round trip error = %v", err)
	}
	reqs := s.Requests()
	if body := string(reqs[len(reqs)-1].Body); !strings.Contains(body, `"tool_result"`) || !strings.Contains(body, id) {
		t.Errorf("round trip body = %s", body)
	}
}
