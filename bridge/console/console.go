// Package console is the terminal front end of `waclaw chat`: lines from a
// reader become messages for the bridge, and replies are written out,
// either as text for a person or as JSON lines for a script.
package console

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Console writes replies to a writer. It satisfies bridge.Channel.
type Console struct {
	mu   sync.Mutex
	out  io.Writer
	json bool
}

// New returns a Console writing replies as text, each followed by a blank
// line.
func New(out io.Writer) *Console { return &Console{out: out} }

// NewJSON returns a Console writing one JSON object per line: a Reply for
// each message the bot sends, and an Ack for each message handed in.
func NewJSON(out io.Writer) *Console { return &Console{out: out, json: true} }

// Reply is a message the bot sends, as NewJSON writes it. A script that
// stands in for WhatsApp shows a repeated id once, as WhatsApp does: after
// a crash the bot sends a part it has no confirmation for again.
type Reply struct {
	Chat  string `json:"chat"`
	ID    string `json:"id"`
	Text  string `json:"text"`
	Quote string `json:"quote,omitempty"`
}

// Ack answers a message handed in, as NewJSON writes it: Error is "" when
// the bot took the message (it will be answered, even after a crash), and
// says why when it did not (send it again later).
type Ack struct {
	Ack   string `json:"ack"`
	Error string `json:"error,omitempty"`
}

// NewMessageID returns a random id in WhatsApp's style, unique across
// restarts.
func (c *Console) NewMessageID() string { return "3EB0" + rand.Text()[:16] }

// Send writes one reply.
func (c *Console) Send(ctx context.Context, chatID, id, text, quoteID string) error {
	if c.json {
		return c.writeJSON(Reply{Chat: chatID, ID: id, Text: text, Quote: quoteID})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := fmt.Fprintf(c.out, "%s\n\n", strings.TrimRight(text, "\n")); err != nil {
		return fmt.Errorf("write reply: %w", err)
	}
	return nil
}

// Ack reports whether the message with id was taken.
func (c *Console) Ack(id string, err error) error {
	a := Ack{Ack: id}
	if err != nil {
		a.Error = err.Error()
	}
	return c.writeJSON(a)
}

func (c *Console) writeJSON(v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.out.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// Format shows a reply as the Markdown it was written in, which reads well
// as plain text in a terminal (and is what a script wants): one message,
// however long, with surrounding blank lines trimmed.
func (c *Console) Format(markdown string) []string {
	t := strings.Trim(markdown, "\n")
	if strings.TrimSpace(t) == "" {
		return nil
	}
	return []string{t}
}

// Typing does nothing: the terminal shows the reply when it comes.
func (c *Console) Typing(ctx context.Context, chatID string, on bool) error { return nil }

// MarkRead does nothing in a terminal.
func (c *Console) MarkRead(ctx context.Context, chatID, senderID string, ids ...string) error {
	return nil
}
