// Package console is the terminal front end of `waclaw chat`, a channel
// like the WhatsApp one: it reads messages (lines typed by a person, or JSON
// lines from a script) and hands them to the bridge as bridge.Inbound, and
// writes the bridge's replies out, as text for the person or as JSON lines
// for the script. The person at the keyboard is the bot's owner, in their
// own self-chat, unless they choose to speak as someone else.
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

// Console is the terminal channel. It satisfies bridge.Channel.
type Console struct {
	mu   sync.Mutex
	out  io.Writer
	json bool
	who  Person // who types, for a person at the terminal
	// prompt is written before each line is read, for a person typing
	// (not for a pipe, whose output stays the replies alone).
	prompt string
}

// OwnerChat is the chat of the person at the terminal when they speak as
// the owner: the console's self-chat, where the owner is told of pairing
// requests.
const OwnerChat = "console"

// Person is who types at the terminal, and where.
type Person struct {
	// Phone is the number to speak as (E.164), to try the access policy;
	// "" is the owner, in their self-chat, who may run every command.
	Phone string
	// Chat is the conversation: "" for the self-chat (or Phone's DM); a
	// group's id ("...@g.us") for a line addressed to the bot in a group.
	Chat string
}

// New returns a Console for a person at a terminal: Read takes one
// message per line from them, and replies are written as text, each
// followed by a blank line.
func New(out io.Writer, who Person) *Console { return &Console{out: out, who: who} }

// JSON reports whether the console talks to a script in JSON lines.
func (c *Console) JSON() bool { return c.json }

// Prompt makes Read write p before each line it waits for ("> " at a
// terminal).
func (c *Console) Prompt(p string) { c.prompt = p }

func (c *Console) showPrompt() {
	if c.prompt == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprint(c.out, c.prompt)
}

// NewJSON returns a Console for a script: Read takes one message per line
// as JSON, from any chat, and the console writes one JSON object per line,
// an Ack for each message handed in and a Reply for each message the bot
// sends.
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
