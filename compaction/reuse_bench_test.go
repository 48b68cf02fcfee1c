package compaction

import (
	"context"
	"encoding/json"
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
	var body struct {
		Instructions string `json:"instructions"`
		Input        []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"input"`
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	json.Unmarshal(r.Body, &body)
	text := func(raw json.RawMessage) string {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		var parts []struct{ Text string }
		json.Unmarshal(raw, &parts)
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		return b.String()
	}
	var b strings.Builder
	b.WriteString("[instructions]\n" + body.Instructions + "\n")
	for _, it := range append(body.Input, body.Messages...) {
		fmt.Fprintf(&b, "[%s]\n%s\n", it.Role, text(it.Content))
	}
	return b.String()
}

// reuse is what a server's prefix cache could reuse over a chat's requests
// (summarising requests left out: they go to their own slot).
type reuse struct {
	requests   int     // chat requests after the first
	weighted   float64 // sum of common-prefix bytes / sum of input bytes
	mean       float64 // mean over requests of common-prefix bytes / input bytes
	summaries  int     // summarising requests
	worstShare float64 // the lowest share of one request
}

// prefixReuse measures, for each chat request after the first, the share
// of its flat input that is a byte-identical prefix of the previous chat
// request's flat input.
func prefixReuse(reqs []agenttest.Request) reuse {
	var r reuse
	r.worstShare = 1
	var prev string
	var common, total int
	var sum float64
	first := true
	for _, q := range reqs {
		if inputOf(q).summarise {
			r.summaries++
			continue
		}
		cur := flatInput(q)
		if !first {
			n := 0
			for n < len(cur) && n < len(prev) && cur[n] == prev[n] {
				n++
			}
			common += n
			total += len(cur)
			share := float64(n) / float64(len(cur))
			sum += share
			r.worstShare = min(r.worstShare, share)
			r.requests++
		}
		first, prev = false, cur
	}
	if r.requests > 0 {
		r.weighted = float64(common) / float64(total)
		r.mean = sum / float64(r.requests)
	}
	return r
}

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
// each turn's latency.
func runChat(tb testing.TB, cap, turns int, sum func(string) agenttest.Reply) (*env, []time.Duration) {
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
		e.turn(tb, "chat", i, chatText(i))
		lat[i] = time.Since(start)
	}
	return e, lat
}

// newEnvCap is newEnv with the history cap set by extra, and a model
// window large enough for the default cap.
func newEnvCap(tb testing.TB, extra string) *env {
	return newEnvWindow(tb, 32768, extra)
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
		e, lat := runChat(b, 2000, 60, slow)
		b.ReportMetric(float64(percentile(lat, 0.5).Milliseconds()), "p50-ms")
		b.ReportMetric(float64(percentile(lat, 0.9).Milliseconds()), "p90-ms")
		b.ReportMetric(float64(slices.Max(lat).Milliseconds()), "max-ms")
		b.ReportMetric(float64(prefixReuse(e.srv.Requests()).summaries), "summaries")
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
				e, _ := runChat(b, cap, 100, factual)
				r := prefixReuse(e.srv.Requests())
				b.ReportMetric(float64(r.summaries), "summaries")
				b.ReportMetric(100*r.weighted, "reuse-%")
				b.ReportMetric(100*r.mean, "mean-reuse-%")
				b.ReportMetric(100*r.worstShare, "worst-%")
			}
		})
	}
}

var _ = context.Background
