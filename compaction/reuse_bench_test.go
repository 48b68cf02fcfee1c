package compaction

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"waclaw/agent/agenttest"
)

// flatInput is a request's input as a server tokenises it, in order: the
// instructions (or system message), then each input message as its role and
// text. Prefix reuse is measured on this string, decoded from the request
// body the fake server received (decoded, so that JSON escaping and the
// order of the body's other fields do not count).
func flatInput(r agenttest.Request) string {
	instructions, msgs := r.Decoded()
	var b strings.Builder
	b.WriteString("[instructions]\n" + instructions + "\n")
	for _, m := range msgs {
		fmt.Fprintf(&b, "[%s]\n%s\n", m.Role, m.Text)
	}
	return b.String()
}

// reuse is what a server's prefix cache could reuse over a chat's chat
// requests (summarising requests are counted, and left out: a server
// serves them from another slot, and they do not disturb the chat's).
//
// A request's reusable prefix is the longest byte-identical prefix of its
// flat input and of what the server held after the previous chat request:
// that request's flat input followed by its answer as the next request
// renders it ("[assistant]\n" + answer + "\n"). Its share is that prefix's
// length over the request's flat input length. The first request is left
// out (there is nothing before it). inputOnly is the same without the
// answer: the prefix shared with the previous input alone.
type reuse struct {
	requests  int // chat requests after the first
	summaries int // summarising requests
	// mean is the mean of the requests' shares; weighted is the sum of
	// their reusable prefixes over the sum of their inputs.
	mean, weighted                   float64
	inputOnlyMean, inputOnlyWeighted float64
	worst                            float64 // the lowest share of one request
}

// prefixReuse measures reuse over reqs; answer gives the answer to a chat
// request.
func prefixReuse(reqs []agenttest.Request, answer func(agenttest.Request) string) reuse {
	r := reuse{worst: 1}
	var held, prevInput string
	var common, commonIn, total int
	first := true
	for _, q := range reqs {
		if inputOf(q).summarise {
			r.summaries++
			continue
		}
		cur := flatInput(q)
		if !first {
			n, m := commonPrefix(cur, held), commonPrefix(cur, prevInput)
			common, commonIn, total = common+n, commonIn+m, total+len(cur)
			r.mean += float64(n) / float64(len(cur))
			r.inputOnlyMean += float64(m) / float64(len(cur))
			r.worst = min(r.worst, float64(n)/float64(len(cur)))
			r.requests++
		}
		first, prevInput = false, cur
		held = cur + "[assistant]\n" + answer(q) + "\n"
	}
	if r.requests > 0 {
		r.mean /= float64(r.requests)
		r.inputOnlyMean /= float64(r.requests)
		r.weighted = float64(common) / float64(total)
		r.inputOnlyWeighted = float64(commonIn) / float64(total)
	}
	return r
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// answerOf is the instant chat model's answer to a request of runChat.
func answerOf(q agenttest.Request) string { return chatAnswer(q.LastInput()) }

// chatText is the message of turn i in the measured runs.
func chatText(i int) string {
	return fmt.Sprintf("Message %d: my favourite number today is %d and I would like to talk about it a little.", i, i*7)
}

// chatAnswer is the instant chat model's answer to text: about a hundred
// tokens, as a short answer from a chat model is.
func chatAnswer(text string) string {
	n, _, _ := strings.Cut(strings.TrimPrefix(text, "Message "), ":")
	return "About message " + n + ": that is a fine number to think about. Numbers like it turn up in calendars, " +
		"in sports scores and in the pages of old books, and each of them has a small story. If you like, tell me " +
		"where you saw it today and I can suggest a few facts or a puzzle built around it, or we can move on to something else."
}

// runChat runs turns turns of one chat with maxHistoryTokens cap (0: the
// default), an instant chat model and sum as the summariser, and returns
// each turn's latency. With settle, each turn waits for the compaction it
// queued before the next (people type slower than a summariser writes);
// without, the turns follow each other at once.
func runChat(tb testing.TB, cap, turns int, settle bool, sum func(string) agenttest.Reply) (*env, []time.Duration) {
	tb.Helper()
	extra := ""
	if cap > 0 {
		extra = fmt.Sprintf(", maxHistoryTokens: %d", cap)
	}
	e := newEnvCap(tb, extra)
	e.srv.SetResponder(func(r agenttest.Request) agenttest.Reply {
		in := inputOf(r)
		if in.summarise {
			return sum(in.texts[len(in.texts)-1])
		}
		return agenttest.Reply{Text: chatAnswer(in.texts[len(in.texts)-1])}
	})
	lat := make([]time.Duration, turns)
	for i := range turns {
		start := time.Now()
		e.reply(tb, "chat", i, chatText(i))
		lat[i] = time.Since(start)
		if settle {
			if err := e.c.Wait(context.Background()); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return e, lat
}

// newEnvCap is newEnv with the history cap set by extra, and a model
// window large enough for the default cap.
func newEnvCap(tb testing.TB, extra string) *env {
	e := newEnvWindow(tb, 32768, extra)
	e.srv.SetContextSize(32768) // the server loaded the model with the window the config says
	return e
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// BenchmarkTurnLatency runs 60 turns with an instant chat model and a
// summariser that takes 3 s, and reports the turns' latency percentiles.
//
//	go test ./compaction/ -run '^$' -bench TurnLatency -benchtime 1x
func BenchmarkTurnLatency(b *testing.B) {
	slow := func(t string) agenttest.Reply {
		r := factual(t)
		r.Delay = 3 * time.Second
		return r
	}
	for b.Loop() {
		e, lat := runChat(b, 2000, 60, false, slow)
		b.ReportMetric(float64(percentile(lat, 0.5).Milliseconds()), "p50-ms")
		b.ReportMetric(float64(percentile(lat, 0.9).Milliseconds()), "p90-ms")
		b.ReportMetric(float64(slices.Max(lat).Milliseconds()), "max-ms")
		b.ReportMetric(float64(prefixReuse(e.srv.Calls(), answerOf).summaries), "summaries")
	}
}

// BenchmarkPrefixReuse runs 100 turns at the given history cap and reports
// the summaries made and the prefix reuse (see prefixReuse).
//
//	go test ./compaction/ -run '^$' -bench PrefixReuse -benchtime 1x
func BenchmarkPrefixReuse(b *testing.B) {
	for _, cap := range []int{2000, 0} {
		b.Run(fmt.Sprintf("cap=%d", cap), func(b *testing.B) {
			for b.Loop() {
				e, _ := runChat(b, cap, 100, true, factual)
				r := prefixReuse(e.srv.Calls(), answerOf)
				b.ReportMetric(float64(r.summaries), "summaries")
				b.ReportMetric(100*r.mean, "reuse-%")
				b.ReportMetric(100*r.weighted, "weighted-reuse-%")
				b.ReportMetric(100*r.inputOnlyMean, "input-only-reuse-%")
				b.ReportMetric(100*r.inputOnlyWeighted, "input-only-weighted-%")
			}
		})
	}
}

// A long chat is summarised rarely, and between summaries each request
// starts with the previous one and its answer, so that a server's prefix
// cache is reused (see prefixReuse for the measure).
func TestFewSummariesAndPrefixReuse(t *testing.T) {
	for _, tc := range []struct {
		cap          int
		maxSummaries int
		minReuse     float64
	}{
		{cap: 2000, maxSummaries: 10, minReuse: 0.85},
		{cap: 0, maxSummaries: 10, minReuse: 0.95}, // the default cap
	} {
		t.Run(fmt.Sprintf("cap=%d", tc.cap), func(t *testing.T) {
			e, _ := runChat(t, tc.cap, 100, true, factual)
			r := prefixReuse(e.srv.Calls(), answerOf)
			t.Logf("100 turns: %d summaries; reuse %.1f%% (weighted %.1f%%), input-only %.1f%% (weighted %.1f%%), worst request %.1f%%",
				r.summaries, 100*r.mean, 100*r.weighted, 100*r.inputOnlyMean, 100*r.inputOnlyWeighted, 100*r.worst)
			if r.summaries > tc.maxSummaries || r.summaries == 0 && tc.cap > 0 {
				t.Errorf("%d summaries; want 1 to %d", r.summaries, tc.maxSummaries)
			}
			// The measure: of all the input the run sent, the share
			// that is a byte-identical prefix of the previous request's
			// input; and what a server that keeps its answer in the cache
			// reuses.
			if r.inputOnlyWeighted < tc.minReuse || r.mean < tc.minReuse {
				t.Errorf("prefix reuse %.1f%% of the input (%.1f%% with the previous answer held); want at least %.0f%%",
					100*r.inputOnlyWeighted, 100*r.mean, 100*tc.minReuse)
			}
		})
	}
}
