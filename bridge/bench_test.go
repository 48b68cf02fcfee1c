package bridge

import (
	"context"
	"fmt"
	"testing"

	"waclaw/agent"
	"waclaw/config"
)

// instant is a model that answers at once, so a benchmark measures the
// bridge (inbox, policy, limits, history, formatting, sending) alone.
type instant struct{}

func (instant) Complete(ctx context.Context, m *config.Model, req *agent.Request) (*agent.Result, error) {
	return &agent.Result{Text: "Sure, **here** is a short answer.", Usage: agent.Usage{InputTokens: 100, OutputTokens: 10}}, nil
}

// benchBridge is a harness whose model answers instantly.
func benchBridge(b *testing.B) *harness {
	h := newHarness(b, unlimited)
	h.b = wire(b, h.cfg, h.store, h.ch, agent.Options{Providers: map[string]agent.Provider{"local": instant{}, "hosted": instant{}}}, Options{MaxParallel: 8})
	return h
}

// BenchmarkMessage is the bridge's own cost for one message, end to end:
// Handle, then the worker's turn, with an instant model and a fake channel.
func BenchmarkMessage(b *testing.B) {
	h := benchBridge(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		in := Inbound{ChatID: "+15557770000", SenderID: "+15557770000", SenderPhone: "+15557770000",
			Text: "hello there", MessageID: fmt.Sprint(i)}
		if err := h.b.Handle(ctx, in); err != nil {
			b.Fatal(err)
		}
		if err := h.b.Idle(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkThroughput sends 1,000 messages over 100 chats at once and
// waits for every answer, checking order within each chat.
func BenchmarkThroughput(b *testing.B) {
	const chats, perChat = 100, 10
	for b.Loop() {
		b.StopTimer()
		h := benchBridge(b)
		ctx := context.Background()
		b.StartTimer()
		for i := range perChat {
			for c := range chats {
				number := fmt.Sprintf("+1555200%04d", c)
				in := Inbound{ChatID: number, SenderID: number, SenderPhone: number, Text: fmt.Sprintf("m%d", i), MessageID: fmt.Sprintf("%d-%d", c, i)}
				if err := h.b.Handle(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := h.b.Idle(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if n := h.ch.count(); n != chats*perChat {
			b.Fatalf("%d replies; want %d", n, chats*perChat)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(chats*perChat)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
