package console

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"waclaw/bridge"
)

// Handler is what the console hands messages to; the bridge is one.
type Handler interface {
	// Handle takes one message; nil means it is safely recorded.
	Handle(ctx context.Context, in bridge.Inbound) error
	// Idle waits until every message taken is answered.
	Idle(ctx context.Context) error
}

var (
	_ bridge.Channel = (*Console)(nil)
	_ Handler        = (*bridge.Bridge)(nil)
)

// Read takes messages from r until it ends, and hands each to h. A person
// gets the answer to each line before the next is read, so that replies
// come in the order the lines were typed (answers to messages left from
// an earlier run come first). A script's lines are handed in as they come,
// each acknowledged once it is recorded; Read then returns without waiting
// for the answers.
func (c *Console) Read(ctx context.Context, r io.Reader, h Handler) error {
	scanner := bufio.NewScanner(r)
	if c.json {
		scanner.Buffer(make([]byte, 64<<10), 4<<20)
		return c.readJSON(ctx, scanner, h)
	}
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	return c.readLines(ctx, scanner, h)
}

func (c *Console) readLines(ctx context.Context, scanner *bufio.Scanner, h Handler) error {
	if err := h.Idle(ctx); err != nil {
		return err
	}
	// The read runs apart, so that Ctrl-C (ctx) ends the chat even while
	// the terminal waits for a line.
	lines, done := make(chan string), make(chan error, 1)
	go func() {
		defer close(lines)
		for scanner.Scan() {
			select {
			case lines <- scanner.Text():
			case <-ctx.Done():
				return
			}
		}
		done <- scanner.Err()
	}()
	for c.showPrompt(); ; c.showPrompt() {
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			c.endPrompt()
			return ctx.Err()
		case line, ok = <-lines:
		}
		if !ok {
			break
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		in := c.typed(line, time.Now())
		if path, caption, ok, err := parseAttach(line); ok {
			if err == nil {
				in.Attachment, err = attachFile(path, "")
			}
			if err != nil {
				c.say(err.Error())
				continue
			}
			in.Text, in.Media = caption, in.Attachment.Kind
		}
		if err := h.Handle(ctx, in); err != nil {
			return err
		}
		if err := h.Idle(ctx); err != nil {
			return err
		}
	}
	c.endPrompt()
	if err := <-done; err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	return nil
}

// endPrompt ends the line a prompt left open (Ctrl-D or Ctrl-C leave the
// cursor after it).
func (c *Console) endPrompt() {
	if c.prompt != "" {
		c.mu.Lock()
		fmt.Fprintln(c.out)
		c.mu.Unlock()
	}
}

// typed is a line the person at the terminal typed, as a message: from
// the owner in their self-chat, or from the number they speak as.
func (c *Console) typed(text string, at time.Time) bridge.Inbound {
	in := bridge.Inbound{ChatID: OwnerChat, SenderID: OwnerChat, FromSelf: true, SelfChat: true}
	if c.who.Phone != "" {
		in = bridge.Inbound{ChatID: c.who.Phone, SenderID: c.who.Phone, SenderPhone: c.who.Phone}
	}
	if c.who.Chat != "" {
		in.ChatID = c.who.Chat
		in.SelfChat = in.SelfChat && c.who.Chat == in.SenderID
		in.IsGroup = strings.HasSuffix(c.who.Chat, "@g.us")
		in.MentionsMe = in.IsGroup // a line typed into a group is addressed to the bot
	}
	in.Text, in.Time = text, at
	in.MessageID = fmt.Sprintf("console-%d", at.UnixNano())
	return in
}

// line is one message of a script: bridge.Inbound's JSON, and a file to
// send with it, by path ("text" is then the caption).
type line struct {
	bridge.Inbound
	Audio    string `json:"audio,omitempty"`    // a voice note
	Image    string `json:"image,omitempty"`    // a picture
	Document string `json:"document,omitempty"` // a file
}

// attachment describes the file a line sends, if any.
func (l line) attachment() (*bridge.Attachment, error) {
	var kind, path string
	for _, f := range []struct{ kind, path string }{{"audio", l.Audio}, {"image", l.Image}, {"document", l.Document}} {
		if f.path == "" {
			continue
		}
		if path != "" {
			return nil, fmt.Errorf("a message carries one file: %q and %q both given", kind, f.kind)
		}
		kind, path = f.kind, f.path
	}
	if path == "" {
		return nil, nil
	}
	return attachFile(path, kind)
}

// readJSON takes one message per line, as bridge.Inbound's JSON ({"chat",
// "sender", "phone", "id", "text", "group", "mention", ...}, and "audio",
// "image" or "document" with a file's path, "text" being its caption),
// and answers
// each with an Ack once the message is safely recorded, or with an error
// saying why it was not (a line that is not a message, or the disk is
// full: send it again later).
func (c *Console) readJSON(ctx context.Context, scanner *bufio.Scanner, h Handler) error {
	for n := 1; scanner.Scan(); n++ {
		if strings.TrimSpace(scanner.Text()) == "" {
			continue
		}
		var l line
		if err := json.Unmarshal(scanner.Bytes(), &l); err != nil {
			if err := c.Ack("", fmt.Errorf("line %d is not a message: %v", n, err)); err != nil {
				return err
			}
			continue
		}
		in := l.Inbound
		if in.ChatID == "" || in.SenderID == "" || in.MessageID == "" {
			if err := c.Ack(in.MessageID, fmt.Errorf("line %d: a message needs \"chat\", \"sender\" and \"id\"", n)); err != nil {
				return err
			}
			continue
		}
		a, err := l.attachment()
		if err != nil {
			if err := c.Ack(in.MessageID, fmt.Errorf("line %d: %w", n, err)); err != nil {
				return err
			}
			continue
		}
		if in.Attachment = a; a != nil {
			in.Media = a.Kind
		}
		if err := c.Ack(in.MessageID, h.Handle(ctx, in)); err != nil {
			return err
		}
	}
	if err := scanner.Err(); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	return nil
}

// say tells the person at the terminal something that is not a reply
// (a line that could not be sent).
func (c *Console) say(text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.out, "%s\n\n", text)
}
