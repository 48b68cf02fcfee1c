package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Tool is a function the model may call. The registry is deliberately tiny
// and empty unless agents.defaults.tools names a tool: a narrow agent gives
// an injected instruction little to act on.
type Tool struct {
	Name        string
	Description string
	Parameters  map[string]any // JSON Schema of the arguments object
	Strict      bool           // sent explicitly: some servers require the field
	Run         func(ctx context.Context, arguments string) (string, error)
}

// builtinTools returns the tools waclaw has, by name.
func builtinTools(now func() time.Time) map[string]Tool {
	return map[string]Tool{
		"current_time": {
			Name:        "current_time",
			Description: "The current date and time, in UTC and in the server's local time zone.",
			Parameters:  map[string]any{"type": "object", "properties": map[string]any{}, "required": []string{}, "additionalProperties": false},
			Strict:      true,
			Run: func(ctx context.Context, arguments string) (string, error) {
				t := now()
				return fmt.Sprintf("UTC: %s\nLocal: %s", t.UTC().Format(time.RFC1123), t.Local().Format(time.RFC1123)), nil
			},
		},
	}
}

// runTool runs one call; a failure becomes the tool's output, for the model
// to read, rather than a failed turn.
func runTool(ctx context.Context, tools []Tool, call Item) string {
	for _, t := range tools {
		if t.Name != call.Name {
			continue
		}
		if call.Arguments != "" && !json.Valid([]byte(call.Arguments)) {
			return "error: the arguments are not valid JSON"
		}
		out, err := t.Run(ctx, call.Arguments)
		if err != nil {
			return "error: " + err.Error()
		}
		return out
	}
	return fmt.Sprintf("error: there is no tool named %q", call.Name)
}
