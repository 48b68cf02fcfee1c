package compaction

import (
	"context"
	"fmt"
	"testing"

	"waclaw/agent/agenttest"
	"waclaw/config"
	"waclaw/store"
)

// BenchmarkBuildContext is the cost of deciding a turn's context for a chat
// whose history is already compacted: it reads the summary and the tail
// only, so it must not grow with the stored history.
func BenchmarkBuildContext(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("stored=%d", n), func(b *testing.B) {
			e := newEnv(b, agenttest.LMStudio, config.APIOpenAIResponses, "")
			ctx := context.Background()
			sess, _ := e.store.ActiveSession(ctx, "chat")
			tx, err := e.store.DB().Begin()
			if err != nil {
				b.Fatal(err)
			}
			for i := range n {
				role := "user"
				if i%2 == 1 {
					role = "assistant"
				}
				tx.Exec(`INSERT INTO messages (session_id, role, text, tokens, created_at) VALUES (?, ?, ?, 20, 0)`,
					sess.ID, role, fmt.Sprintf("message %d about something the user cares about", i))
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			var last int64
			e.store.DB().QueryRow(`SELECT max(id) FROM messages`).Scan(&last)
			if err := e.store.Compact(ctx, sess.ID, store.Summary{Text: "- earlier notes", Tokens: 4, ThroughMessageID: last - 20}); err != nil {
				b.Fatal(err)
			}
			turn := &Turn{}
			m := e.c.Model(sess)
			b.ReportAllocs()
			for b.Loop() {
				p, err := e.c.prepare(ctx, sess, m, "a new question", 0, 1, turn)
				if err != nil || len(p.recent) != 20 || turn.Compacted != nil {
					b.Fatalf("prepare = %d recent, %v, compacted %v", len(p.recent), err, turn.Compacted)
				}
				e.c.conversation("chat", m, p, "a new question", true)
			}
		})
	}
}

// BenchmarkInputGrowth runs a chat for N turns against a fake model and
// reports the tokens of history in the last request, with compaction, and
// what a client sending the whole history would send.
func BenchmarkInputGrowth(b *testing.B) {
	for _, turns := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("turns=%d", turns), func(b *testing.B) {
			var lastHistory, fullHistory int
			for b.Loop() {
				e := newEnv(b, agenttest.LMStudio, config.APIOpenAIResponses, "")
				e.respond(factual)
				fullHistory = 0
				for i := range turns {
					text := fmt.Sprintf("Message %d: my favourite number today is %d and I would like to talk about it a little.", i, i*7)
					turn := e.turn(b, "chat", i, text)
					if i < turns-1 {
						fullHistory += Estimate(text) + Estimate(turn.Reply)
					}
				}
				reqs := e.srv.Calls()
				lastHistory = e.historyTokens(inputOf(reqs[len(reqs)-1]))
			}
			b.ReportMetric(float64(lastHistory), "history-tokens/compacted")
			b.ReportMetric(float64(fullHistory), "history-tokens/uncompacted")
		})
	}
}
