package bridge

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"waclaw/agent"
	"waclaw/agent/agenttest"
	"waclaw/store"
)

// Flags for long runs of TestLoad, e.g.
//
//	go test -run=TestLoad -v ./bridge/ -load.chats=100 -load.msgs=10 -load.latency=200ms
var (
	loadChats    = flag.Int("load.chats", 20, "TestLoad: chats talking at once")
	loadMsgs     = flag.Int("load.msgs", 10, "TestLoad: messages per chat")
	loadLatency  = flag.Duration("load.latency", 20*time.Millisecond, "TestLoad: the fake model's time to answer each request")
	loadParallel = flag.Int("load.parallel", 0, "TestLoad: the bridge's MaxParallel (chats answered at once); 0 means one slot per chat, so no turn waits for a slot")
)

// loadSend is one reply the load channel delivered, with when.
type loadSend struct {
	text string
	at   time.Time
}

// loadChannel is an in-process channel that records every send with its
// time and wakes the chat's sender.
type loadChannel struct {
	whatsAppFormat
	mu    sync.Mutex
	sent  map[string][]loadSend
	wake  map[string]chan struct{}
	count int
}

func newLoadChannel(chats []string, msgs int) *loadChannel {
	c := &loadChannel{sent: map[string][]loadSend{}, wake: map[string]chan struct{}{}}
	for _, id := range chats {
		// Buffered beyond msgs so a duplicate reply never blocks Send.
		c.wake[id] = make(chan struct{}, 2*msgs+1)
	}
	return c
}

func (c *loadChannel) NewMessageID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.count++
	return fmt.Sprintf("load-out-%d", c.count)
}

func (c *loadChannel) Send(ctx context.Context, chatID, id, text, quoteID string) error {
	now := time.Now()
	c.mu.Lock()
	c.sent[chatID] = append(c.sent[chatID], loadSend{text, now})
	w := c.wake[chatID]
	c.mu.Unlock()
	if w != nil {
		select {
		case w <- struct{}{}:
		default:
		}
	}
	return nil
}

func (c *loadChannel) Typing(ctx context.Context, chatID string, on bool) error { return nil }

func (c *loadChannel) MarkRead(ctx context.Context, chatID, senderID string, ids ...string) error {
	return nil
}

func (c *loadChannel) replies(chatID string) []loadSend {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sent[chatID])
}

// loadHarness is a bridge over a real SQLite store, the real agent and
// compaction, and an LM Studio fake that answers after a set delay.
type loadHarness struct {
	store *store.Store
	srv   *agenttest.Server
	ch    *loadChannel
	b     *Bridge
}

func newLoadHarness(t *testing.T, chats []string, msgs int, latency time.Duration, parallel int) *loadHarness {
	t.Helper()
	srv := agenttest.New(t, agenttest.LMStudio, "m")
	srv.SetResponder(func(r agenttest.Request) agenttest.Reply {
		return agenttest.Reply{Text: echo(r.Body), Delay: latency}
	})
	cfg := testConfig(t, srv.URL, srv.URL, unlimited)
	st := testStore(t, filepath.Join(t.TempDir(), "waclaw.db"))
	h := &loadHarness{store: st, srv: srv, ch: newLoadChannel(chats, msgs)}
	h.b = wire(t, cfg, st, h.ch, agent.Options{}, Options{MaxParallel: parallel})
	if err := h.b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestLoad drives the whole bridge with N chats of M messages each, every
// chat a person who sends the next message when the previous answer
// arrives, and reports throughput, the bridge's own added latency, memory,
// goroutines and DB connections. It asserts only correctness, never speed:
// every message answered exactly once, in order within its chat, nothing
// left pending, no goroutines left behind after Shutdown.
func TestLoad(t *testing.T) {
	chatsN, msgs, latency := *loadChats, *loadMsgs, *loadLatency
	if chatsN < 1 || msgs < 1 || latency < 0 {
		t.Fatalf("bad flags: -load.chats=%d -load.msgs=%d -load.latency=%s", chatsN, msgs, latency)
	}
	parallel := *loadParallel
	if parallel <= 0 {
		parallel = chatsN
	}
	baseGoroutines := runtime.NumGoroutine()

	chats := make([]string, chatsN)
	for c := range chats {
		chats[c] = fmt.Sprintf("+1555300%04d", c)
	}
	h := newLoadHarness(t, chats, msgs, latency, parallel)
	text := func(c, i int) string { return fmt.Sprintf("hello from chat %d, message %d", c, i) }

	// Generous: no assertion on speed, only a bound so a lost reply fails
	// instead of hanging.
	wait := 30*time.Second + 20*latency
	handled := make([][]time.Time, chatsN)
	errs := make(chan error, chatsN)
	var wg sync.WaitGroup
	start := time.Now()
	for c, chat := range chats {
		handled[c] = make([]time.Time, msgs)
		wg.Go(func() {
			for i := range msgs {
				in := Inbound{ChatID: chat, SenderID: chat, SenderPhone: chat, Text: text(c, i),
					MessageID: fmt.Sprintf("load-%d-%d", c, i), Time: time.Now()}
				handled[c][i] = time.Now()
				if err := h.b.Handle(context.Background(), in); err != nil {
					errs <- fmt.Errorf("chat %d message %d: Handle: %w", c, i, err)
					return
				}
				select {
				case <-h.ch.wake[chat]:
				case <-time.After(wait):
					errs <- fmt.Errorf("chat %d message %d: no reply within %s", c, i, wait)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := h.b.Idle(ctx); err != nil {
		t.Fatalf("bridge never went idle: %v", err)
	}

	// Correctness: every message answered exactly once, in order.
	var added []time.Duration
	for c, chat := range chats {
		got := h.ch.replies(chat)
		if len(got) != msgs {
			t.Errorf("chat %d: %d replies; want exactly %d", c, len(got), msgs)
		}
		for i, r := range got {
			if i >= msgs {
				break
			}
			if want := "echo: " + text(c, i); r.text != want {
				t.Errorf("chat %d reply %d = %q; want %q (order or content wrong)", c, i, r.text, want)
				continue
			}
			added = append(added, r.at.Sub(handled[c][i])-latency)
		}
	}
	pending, err := h.store.InboxPending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 0 {
		t.Errorf("%d inbox rows still pending after every reply", len(pending))
	}
	var notDone int
	if err := h.store.DB().QueryRow(`SELECT count(*) FROM inbox WHERE state != ?`, string(store.InboxDone)).Scan(&notDone); err != nil {
		t.Fatal(err)
	}
	if notDone != 0 {
		t.Errorf("%d inbox rows not done", notDone)
	}

	total := chatsN * msgs
	t.Logf("load: %d chats x %d messages = %d, model latency %s, MaxParallel %d, GOMAXPROCS %d",
		chatsN, msgs, total, latency, parallel, runtime.GOMAXPROCS(0))
	t.Logf("throughput: %.1f messages/s (%d in %s)", float64(total)/elapsed.Seconds(), total, elapsed.Round(time.Millisecond))
	if len(added) > 0 {
		slices.Sort(added)
		t.Logf("bridge added latency per message (reply sent - Handle - model delay): p50 %s, p99 %s, max %s",
			pct(added, 50).Round(time.Microsecond), pct(added, 99).Round(time.Microsecond), added[len(added)-1].Round(time.Microsecond))
	}
	if hwm, ok := procStatus("VmHWM"); ok {
		t.Logf("peak RSS (VmHWM of the test process): %s", hwm)
	}
	t.Logf("at the end: %d goroutines (%d at the start), %d open DB connections",
		runtime.NumGoroutine(), baseGoroutines, h.store.DB().Stats().OpenConnections)

	// Shutdown, then the fake server and store, then no goroutines left.
	if err := h.b.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	h.srv.Close()
	h.store.Close()
	const slack = 5
	deadline := time.Now().Add(10 * time.Second)
	n := runtime.NumGoroutine()
	for n > baseGoroutines+slack && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	t.Logf("after Shutdown: %d goroutines", n)
	if n > baseGoroutines+slack {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after Shutdown; %d at the start:\n%s", n, baseGoroutines, buf[:runtime.Stack(buf, true)])
	}
}

// pct returns the p-th percentile of sorted durations.
func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	if i < 1 {
		i = 1
	}
	return sorted[i-1]
}

// procStatus returns a field of /proc/self/status, e.g. "VmHWM" -> "12345 kB".
func procStatus(field string) (string, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "", false
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}
