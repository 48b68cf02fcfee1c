package agent

import (
	"context"
	"strings"
	"testing"
	"time"

	"waclaw/agent/agenttest"
)

// warmTimeline runs keep-warm for the given minutes against h's fake,
// one tick a minute, after a real question at minute 0, and draws whether
// the model was loaded at each minute: '#' loaded, '.' unloaded. baseline
// replaces the agent's keep-warm by the old rule, a one-line question
// every 20 idle minutes whatever the server.
func warmTimeline(t *testing.T, h *serverHarness, minutes int, baseline bool) string {
	t.Helper()
	tick := make(chan time.Time)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	if baseline {
		go func() {
			defer close(done)
			last := h.clock.Now()
			for range tick {
				if h.clock.Now().Sub(last) >= 20*time.Minute {
					last = h.clock.Now()
					h.agent.providers[h.model.Provider.ID].Complete(ctx, h.model, &Request{Input: []Item{{Kind: ItemMessage, Role: RoleUser, Text: "hi"}}, MaxOutputTokens: 8})
				}
			}
		}()
	} else {
		go func() { h.agent.KeepWarm(ctx, tick); close(done) }()
	}
	var b strings.Builder
	h.ask(t, "hi")
	for range minutes {
		h.clock.Advance(time.Minute)
		tick <- h.clock.Now()
		tick <- h.clock.Now() // returns once the previous check is done
		if h.srv.Loaded("qwen3") {
			b.WriteByte('#')
		} else {
			b.WriteByte('.')
		}
	}
	cancel()
	close(tick)
	<-done
	return b.String()
}

// TestKeepWarmPerServer: with the default keepWarm (20 min), after 30 idle
// minutes the next question meets a loaded model on every server kind;
// the old rule left Ollama's model cold most of the time. -v prints the
// timelines (BENCHMARKS.md).
func TestKeepWarmPerServer(t *testing.T) {
	styles := []agenttest.Style{agenttest.Ollama, agenttest.LMStudio, agenttest.LlamaCpp, agenttest.VLLM}
	const minutes = 90
	for _, style := range styles {
		t.Run(style.String(), func(t *testing.T) {
			old := warmTimeline(t, newServerHarness(t, style, 4096), minutes, true)
			h := newServerHarness(t, style, 4096)
			now := warmTimeline(t, h, minutes, false)
			t.Logf("%-8s old  %s  cold %2d of %d min", style, old, strings.Count(old, "."), minutes)
			t.Logf("%-8s new  %s  cold %2d of %d min", style, now, strings.Count(now, "."), minutes)
			if strings.Contains(now, ".") {
				t.Errorf("the model was unloaded while keep-warm ran: %s", now)
			}
			cold := h.srv.ColdStarts()
			h.ask(t, "are you there?") // after 90 idle minutes
			if h.srv.ColdStarts() != cold {
				t.Errorf("the question after %d idle minutes met an unloaded model", minutes)
			}
			if style == agenttest.Ollama && !strings.Contains(old, ".") {
				t.Errorf("the old rule kept Ollama warm; the fake does not unload after 5 minutes")
			}
			var pings int
			for _, r := range h.srv.Requests() {
				if r.Path == "/api/generate" || r.Path == "/v1/chat/completions" {
					pings++
				}
			}
			t.Logf("%-8s new  %d requests to the model in %d minutes (2 questions, the rest pings)", style, pings, minutes)
		})
	}
}
