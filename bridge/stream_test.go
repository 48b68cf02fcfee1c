package bridge

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"waclaw/agent"
	"waclaw/agent/agenttest"
	"waclaw/config"
	"waclaw/store"
)

// paragraph is the i-th paragraph of a long test answer, about 350
// characters, so that each makes a part of its own.
func paragraph(i int) string {
	return fmt.Sprintf("Paragraph %d begins here.", i) + strings.Repeat(fmt.Sprintf(" Sentence number %d of this paragraph is here.", i), 8)
}

// longAnswer is n paragraphs.
func longAnswer(n int) string {
	var ps []string
	for i := 1; i <= n; i++ {
		ps = append(ps, paragraph(i))
	}
	return strings.Join(ps, "\n\n")
}

// recordedFirst makes the fake channel check, at every send, that the
// message's id was already in the outbox.
func recordedFirst(t *testing.T, h *harness) *[]string {
	var unrecorded []string
	h.ch.fail = func() error {
		id := h.ch.tries[len(h.ch.tries)-1]
		var n int
		h.store.DB().QueryRow(`SELECT count(*) FROM outbox WHERE msg_id = ?`, id).Scan(&n)
		if n != 1 {
			unrecorded = append(unrecorded, id)
		}
		return nil
	}
	return &unrecorded
}

// A long answer goes out in parts as it is written, each recorded under
// its own id before it is sent; the history holds the whole answer once.
func TestStreamedAnswerInParts(t *testing.T) {
	h := newHarness(t, "")
	answer := longAnswer(3)
	h.srv.Enqueue(agenttest.Reply{Text: answer, ChunkDelay: time.Millisecond})
	unrecorded := recordedFirst(t, h)
	h.send(t, h.dm(friend, "tell me three things"))

	h.ch.mu.Lock()
	got := slices.Clone(h.ch.sent)
	h.ch.mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("sent %d messages; want one per paragraph: %q", len(got), h.ch.to(friend))
	}
	ids := map[string]bool{}
	for i, s := range got {
		if want := paragraph(i + 1); s.text != want {
			t.Errorf("part %d = %q; want %q", i, s.text, want)
		}
		if ids[s.id] {
			t.Errorf("part %d reuses id %s", i, s.id)
		}
		ids[s.id] = true
	}
	if len(*unrecorded) != 0 {
		t.Errorf("sent before they were recorded: %v", *unrecorded)
	}
	sess, _ := h.store.ActiveSession(context.Background(), friend)
	msgs, _ := h.store.RecentMessages(context.Background(), sess.ID, 10)
	if len(msgs) != 2 || msgs[1].Text != answer {
		t.Errorf("history = %d messages; want the turn once with the whole answer", len(msgs))
	}
	if it, _, _ := h.store.InboxGet(context.Background(), 1); it.State != store.InboxDone {
		t.Errorf("inbox row %s; want done", it.State)
	}
	checkFinished(t, h)
	if n := len(h.srv.Calls()); n != 1 {
		t.Errorf("the model was asked %d times; want once", n)
	}
}

// With streamReplies off, the answer is one message at the end, as before.
func TestStreamRepliesOff(t *testing.T) {
	h := newHarness(t, fmt.Sprintf(`{ selfChatMode: false, admins: [%q], allowFrom: [%q], streamReplies: false }`, owner, friend))
	answer := longAnswer(3)
	h.srv.Enqueue(agenttest.Reply{Text: answer, ChunkDelay: time.Millisecond})
	h.send(t, h.dm(friend, "tell me three things"))
	if got := h.ch.to(friend); !slices.Equal(got, []string{answer}) {
		t.Errorf("sent %d messages; want the whole answer once", len(got))
	}
}

// Reasoning written inline never reaches a part: an open <think> holds
// everything back, however long it runs and however many paragraph
// breaks it has.
func TestStreamNeverSendsReasoning(t *testing.T) {
	h := newHarness(t, "")
	secret := strings.Repeat("SECRET reasoning goes on.\n\n", 40)
	h.srv.Enqueue(agenttest.Reply{Raw: "<think>" + secret + "</think>" + longAnswer(3), ChunkDelay: time.Millisecond})
	h.send(t, h.dm(friend, "think first"))
	got := h.ch.to(friend)
	if len(got) != 3 {
		t.Errorf("sent %d messages; want the three paragraphs", len(got))
	}
	for i, s := range got {
		if strings.Contains(s, "SECRET") || strings.Contains(s, "think>") {
			t.Errorf("part %d carries reasoning: %.60q", i, s)
		}
	}
}

// A model that stops after parts went out: the chat hears one line that
// the answer was cut off, and no fallback answers again from the start.
func TestStreamCutOffMidAnswer(t *testing.T) {
	h := newHarness(t, "")
	answer := longAnswer(3)
	// Cut after the first paragraph and some of the second.
	deltas := len(strings.Fields(paragraph(1))) + 10
	h.srv.Enqueue(agenttest.Reply{Text: answer, Fault: agenttest.CutStream, FaultAfter: deltas})
	h.send(t, h.dm(friend, "tell me three things"))
	want := []string{paragraph(1), "_(my answer was cut off: the model stopped responding)_"}
	if got := h.ch.to(friend); !slices.Equal(got, want) {
		t.Errorf("sent %q; want the first part, then the one-line notice", got)
	}
	if n := len(h.srv.Calls()); n != 1 {
		t.Errorf("the model was asked %d times; want once (no fallback restarts the answer)", n)
	}
	it, _, _ := h.store.InboxGet(context.Background(), 1)
	if it.State != store.InboxFailed || !strings.Contains(it.Reason, "cut off") {
		t.Errorf("inbox row %s (%q); want failed, cut off", it.State, it.Reason)
	}
	checkFinished(t, h)
}

// A model that fails before anything went out is followed by the
// fallback as before, and the failed attempt's text is not sent.
func TestStreamFallbackBeforeAnyPart(t *testing.T) {
	h := newHarness(t, "")
	h.srv.Enqueue(agenttest.Reply{Text: "Half a sentence from the first model", Fault: agenttest.CutStream, FaultAfter: 3},
		agenttest.Reply{Text: longAnswer(2)})
	h.send(t, h.dm(friend, "hello"))
	got := h.ch.to(friend)
	joined := strings.Join(got, "\n")
	if strings.Contains(joined, "first model") || !strings.Contains(joined, paragraph(2)) || !strings.Contains(joined, "answered by") {
		t.Errorf("sent %q; want only the fallback's answer, with its notice", got)
	}
}

// A code block is never cut, however long it is and however many blank
// lines it holds.
func TestStreamKeepsCodeBlocksWhole(t *testing.T) {
	h := newHarness(t, "")
	code := "```go\n" + strings.Repeat("x := 1\n\n// a comment line that is long enough to count\n", 20) + "```"
	answer := paragraph(1) + "\n\n" + code + "\n\n" + paragraph(2)
	h.srv.Enqueue(agenttest.Reply{Text: answer, ChunkDelay: time.Millisecond})
	h.send(t, h.dm(friend, "code please"))
	got := h.ch.to(friend)
	if len(got) < 2 {
		t.Fatalf("sent %d messages; want parts", len(got))
	}
	for i, s := range got {
		if n := strings.Count(s, "```"); n%2 != 0 {
			t.Errorf("part %d has %d fences: a code block was split", i, n)
		}
	}
	if !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "```") }) {
		t.Errorf("sent %q; want the code block as a part of its own", got)
	}
}

// Killed after the first part was sent and the second recorded: the
// restart sends only the second, under its recorded id, then one line
// that the answer was cut off; the model is not asked again.
func TestRestartMidStream(t *testing.T) {
	h := newHarness(t, "")
	in := h.dm(friend, "tell me a long story")
	crashState(t, h, in, func(inboxID, _ int64) {
		ctx := context.Background()
		for i := range 2 {
			parts, err := h.store.OutboxAppend(ctx, inboxID, []store.OutboxPart{{ChatID: friend, MsgID: fmt.Sprintf("s-%d", i),
				Text: paragraph(i + 1), ThenState: store.InboxFailed, ThenReason: streamCutReason}})
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				if err := h.store.OutboxSent(ctx, parts[0].ID); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
	restart(t, h)
	h.ch.mu.Lock()
	got := slices.Clone(h.ch.sent)
	h.ch.mu.Unlock()
	if len(got) != 2 || got[0] != (sent{friend, paragraph(2), "", "s-1"}) || !strings.Contains(got[1].text, "cut off") {
		t.Errorf("sent %+v; want the unconfirmed part under its id, then the notice", got)
	}
	if n := len(h.srv.Calls()); n != 0 {
		t.Errorf("the model was asked %d times", n)
	}
	it, _, _ := h.store.InboxGet(context.Background(), 1)
	if it.State != store.InboxFailed {
		t.Errorf("inbox row %s; want failed (cut off)", it.State)
	}
	checkFinished(t, h)
}

// BenchmarkFirstWords measures, through the real bridge and a fake model
// that writes three paragraphs over about 6 s, when the first message and
// the last part reach the chat, streaming off (before) and on (after).
func BenchmarkFirstWords(b *testing.B) {
	answer := longAnswer(3)
	pace := 6 * time.Second / time.Duration(len(strings.Fields(answer)))
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("streamReplies=%v", on), func(b *testing.B) {
			var first, last time.Duration
			for b.Loop() {
				h := newHarness(b, fmt.Sprintf(`{ selfChatMode: false, admins: [%q], allowFrom: [%q], streamReplies: %v }`, owner, friend, on))
				h.srv.Enqueue(agenttest.Reply{Text: answer, ChunkDelay: pace})
				var at []time.Duration
				start := time.Now()
				h.ch.fail = func() error { at = append(at, time.Since(start)); return nil }
				h.send(b, h.dm(friend, "tell me three things"))
				first, last = at[0], at[len(at)-1]
				b.Logf("streamReplies=%v: %d messages, first after %s, last after %s", on, len(at), first.Round(time.Millisecond), last.Round(time.Millisecond))
			}
			b.ReportMetric(first.Seconds(), "s/first")
			b.ReportMetric(last.Seconds(), "s/last")
		})
	}
}

// LM Studio's MiniMax on chat completions (reasoning: false in the
// catalog) writes its reasoning into the text and ends it with a lone
// </think>: nothing of it may go out as a part before that tag shows what
// it was.
func TestStreamLoneThinkOnChatCompletions(t *testing.T) {
	srv := agenttest.New(t, agenttest.LMStudio, "m")
	secret := strings.Repeat("SECRET reasoning goes on and on.\n\n", 40)
	srv.Enqueue(agenttest.Reply{Raw: secret + "</think>" + longAnswer(3), ChunkDelay: time.Millisecond})
	src := fmt.Sprintf(`{
	  agents: { defaults: { model: { primary: "lms/m", fallbacks: [] } } },
	  models: { mode: "replace", providers: { lms: { baseUrl: %q, api: "openai-completions", models: [{ id: "m", reasoning: false }] } } },
	  channels: { whatsapp: { allowFrom: [%q] } },
	}`, srv.URL, friend)
	cfg, err := config.Parse("t", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	st := testStore(t, filepath.Join(t.TempDir(), "waclaw.db"))
	ch := &fakeChannel{}
	b := wire(t, cfg, st, ch, agent.Options{}, Options{})
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer b.Shutdown(context.Background())
	in := Inbound{ChatID: friend, SenderID: friend, SenderPhone: friend, Text: "hi", MessageID: "M1", Time: time.Now()}
	if err := b.Handle(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if err := b.Idle(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := ch.to(friend)
	if len(got) == 0 {
		t.Fatal("no answer")
	}
	for i, s := range got {
		if strings.Contains(s, "SECRET") || strings.Contains(s, "think>") {
			t.Errorf("part %d carries reasoning: %.60q", i, s)
		}
	}
}
