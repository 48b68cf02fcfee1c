package agent

import (
	"context"
	"strings"
	"testing"

	"waclaw/agent/agenttest"
	"waclaw/config"
)

// BenchmarkAdapterTurn measures one streamed turn through each adapter
// against an in-process fake: building the request (a 20-message history),
// the loopback HTTP exchange, parsing the events and filtering the text.
// The fake server's own work is included; a real model's is not.
func BenchmarkAdapterTurn(b *testing.B) {
	history := []Item{}
	for i := range 10 {
		history = append(history,
			Item{Kind: ItemMessage, Role: RoleUser, Text: strings.Repeat("a question about the weather ", 4) + string(rune('a'+i))},
			Item{Kind: ItemMessage, Role: RoleAssistant, Text: strings.Repeat("an answer about the weather ", 8)})
	}
	history = append(history, Item{Kind: ItemMessage, Role: RoleUser, Text: "and tomorrow?"})
	for _, tg := range []target{targets[0], targets[4], targets[7]} {
		b.Run(tg.String(), func(b *testing.B) {
			srv := agenttest.New(b, tg.style, "m")
			srv.SetDefault(agenttest.Reply{Text: strings.Repeat("Tomorrow will be sunny. ", 10), Reasoning: "SECRET plan"})
			m, p := setup(b, tg.api, srv.URL, "")
			req := &Request{Instructions: config.DefaultSystemPrompt, Input: history, MaxOutputTokens: 1024}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Complete(context.Background(), m, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkThinkFilter is the reasoning guard alone, over a 4 KB answer
// streamed in 8-byte chunks with a think block at the front.
func BenchmarkThinkFilter(b *testing.B) {
	text := "<think>" + strings.Repeat("plan ", 100) + "</think>" + strings.Repeat("The answer is here. ", 200)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		var f thinkFilter
		for i := 0; i < len(text); i += 8 {
			f.Write(text[i:min(i+8, len(text))])
		}
		if f.Text() == "" {
			b.Fatal("empty")
		}
	}
}
