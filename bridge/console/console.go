// Package console is the terminal front end of `waclaw chat`: lines from a
// reader become messages for the bridge, and replies are written out.
package console

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
)

// Console writes replies to a writer. It satisfies bridge.Channel.
type Console struct {
	mu  sync.Mutex
	out io.Writer
	n   atomic.Int64
}

// New returns a Console writing to out.
func New(out io.Writer) *Console { return &Console{out: out} }

// NewMessageID returns an id unique within the process.
func (c *Console) NewMessageID() string { return fmt.Sprintf("console-out-%d", c.n.Add(1)) }

// Send writes one reply, followed by a blank line.
func (c *Console) Send(ctx context.Context, chatID, id, text, quoteID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := fmt.Fprintf(c.out, "%s\n\n", strings.TrimRight(text, "\n")); err != nil {
		return fmt.Errorf("write reply: %w", err)
	}
	return nil
}

// Typing does nothing: the terminal shows the reply when it comes.
func (c *Console) Typing(ctx context.Context, chatID string, on bool) error { return nil }

// MarkRead does nothing in a terminal.
func (c *Console) MarkRead(ctx context.Context, chatID, senderID string, ids ...string) error {
	return nil
}
