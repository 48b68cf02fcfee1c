package compaction

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"waclaw/store"
)

// Compaction runs after a turn is stored, off the user's wait: when a
// chat's history passes 85% of its budget, everything but a small
// recent tail is folded into the notes, so that the next turns find the
// notes ready and the next compaction is far away. Each compaction rewrites
// the request from the notes on (the server's prefix cache starts again
// there), so it is made rarely and deeply.
const (
	// dueNum/dueDen is the share of the budget that makes a compaction due:
	// the rest leaves room for the next turns while the summary is written.
	dueNum, dueDen = 17, 20
	// keepDen: a compaction keeps the newest 1/keepDen of the budget verbatim.
	keepDen = 8
)

// background runs compactions after turns, at most one at a time per chat.
type background struct {
	ctx    context.Context // ends when the History is closed
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	n      int           // compactions queued or running
	idle   chan struct{} // closed when n drops to 0
	chats  map[string]*chatState
}

// chatState serialises a chat's compactions: background ones, /compact and
// the one after an overflow take sem, so that notes are never built from
// notes another compaction is replacing.
type chatState struct {
	sem    chan struct{}
	queued bool // a background compaction waits for sem
	shrink int  // the budget divisor the queued one uses (2 after a silent truncation)
}

func newBackground() *background {
	ctx, cancel := context.WithCancel(context.Background())
	return &background{ctx: ctx, cancel: cancel, chats: map[string]*chatState{}}
}

// chat returns chatID's state; b.mu is held.
func (b *background) chat(chatID string) *chatState {
	st, ok := b.chats[chatID]
	if !ok {
		st = &chatState{sem: make(chan struct{}, 1)}
		b.chats[chatID] = st
	}
	return st
}

// lock takes chatID's compaction lock, or gives up when ctx ends.
func (c *History) lock(ctx context.Context, chatID string) (unlock func(), err error) {
	c.bg.mu.Lock()
	st := c.bg.chat(chatID)
	c.bg.mu.Unlock()
	select {
	case st.sem <- struct{}{}:
		return func() { <-st.sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// schedule queues a compaction of chatID's active session, unless one is
// already queued (a running one does not count: it may have read the
// history before this turn). shrink > 1 compacts whether or not it is due.
func (c *History) schedule(chatID string, shrink int) {
	b := c.bg
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	st := b.chat(chatID)
	st.shrink = max(st.shrink, shrink)
	if st.queued {
		b.mu.Unlock()
		return
	}
	st.queued = true
	b.n++
	b.mu.Unlock()
	go func() {
		defer b.done()
		unlock, err := c.lock(b.ctx, chatID)
		b.mu.Lock()
		st.queued = false
		shrink := st.shrink
		st.shrink = 0
		b.mu.Unlock()
		if err != nil {
			return // closed while waiting: nothing was read, nothing is lost
		}
		defer unlock()
		if err := c.compactIfDue(b.ctx, chatID, shrink); err != nil {
			c.log.Warn("background compaction failed; older turns are left out of the context until it succeeds", "err", err)
		}
	}()
}

func (b *background) done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n--
	if b.n == 0 && b.idle != nil {
		close(b.idle)
		b.idle = nil
	}
}

// compactIfDue compacts chatID's active session if its history has passed
// the due share of its budget, or if shrink > 1. The chat's lock is held.
func (c *History) compactIfDue(ctx context.Context, chatID string, shrink int) error {
	sess, err := c.store.ActiveSession(ctx, chatID)
	if err != nil {
		return fmt.Errorf("load session: %w", err)
	}
	m := c.Model(sess)
	if shrink <= 1 {
		w, err := c.window(ctx, sess, m, "", 0, 1)
		if err != nil {
			return err
		}
		if !w.due() {
			return nil
		}
	}
	_, err = c.compactLocked(ctx, sess, m, max(shrink, 1))
	return err
}

// due reports whether the history in w has passed the due share of the
// budget.
func (w window) due() bool {
	used := 0
	if w.notes != "" {
		used = w.cost(notesBlock(w.notes))
	}
	for _, msg := range w.tail {
		used += w.cost(msg.Text)
	}
	return used*dueDen > w.budget*dueNum
}

// with is the window once a turn of text and reply is stored after it.
func (w window) with(text, reply string) window {
	w.tail = append(slices.Clip(w.tail), store.Message{Role: store.RoleUser, Text: text}, store.Message{Role: store.RoleAssistant, Text: reply})
	return w
}

// afterTurn schedules a compaction when the chat's history, with the turn
// just stored, is due for one.
func (c *History) afterTurn(ctx context.Context, sess store.Session) {
	if c.cfg.Agent.Compaction.Mode != "auto" {
		return
	}
	w, err := c.window(ctx, sess, c.Model(sess), "", 0, 1)
	if err != nil {
		c.log.Warn("check whether the history is due for compaction", "err", err)
		return
	}
	if w.due() {
		c.schedule(sess.ChatID, 1)
	}
}

// Wait waits until no compaction is queued or running in the background,
// or ctx ends.
func (c *History) Wait(ctx context.Context) error {
	b := c.bg
	b.mu.Lock()
	if b.n == 0 {
		b.mu.Unlock()
		return nil
	}
	if b.idle == nil {
		b.idle = make(chan struct{})
	}
	idle := b.idle
	b.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops starting compactions in the background and waits for the
// running ones until ctx ends, then cancels them. A cancelled compaction
// stores nothing (the notes and the compacted marks are written together,
// after the summary), so its turns are compacted on a later run.
func (c *History) Close(ctx context.Context) error {
	c.bg.mu.Lock()
	c.bg.closed = true
	c.bg.mu.Unlock()
	err := c.Wait(ctx)
	c.bg.cancel()
	if err != nil {
		c.Wait(context.Background()) // cancelled: they end promptly
		return fmt.Errorf("background compaction cancelled: %w", err)
	}
	return nil
}
