package console

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func TestSendWritesRepliesWithDistinctIDs(t *testing.T) {
	var out bytes.Buffer
	c := New(&out)
	id1, id2 := c.NewMessageID(), c.NewMessageID()
	err1 := c.Send(context.Background(), "chat", id1, "hello\n", "")
	err2 := c.Send(context.Background(), "chat", id2, "second", "q")
	if err1 != nil || err2 != nil || id1 == id2 || id1 == "" {
		t.Fatalf("ids %q %q, errors %v %v", id1, id2, err1, err2)
	}
	if got := out.String(); got != "hello\n\nsecond\n\n" {
		t.Errorf("output = %q", got)
	}
}

func TestJSONLines(t *testing.T) {
	var out bytes.Buffer
	c := NewJSON(&out)
	id := c.NewMessageID()
	if other := c.NewMessageID(); other == id || !strings.HasPrefix(id, "3EB0") || len(id) != 20 {
		t.Errorf("ids %q and %q; want two distinct WhatsApp-style ids", id, other)
	}
	c.Send(context.Background(), "+15550000002", id, "line one\n\"quoted\"", "IN1")
	c.Ack("IN2", nil)
	c.Ack("IN3", errors.New("the disk is full"))
	want := `{"chat":"+15550000002","id":"` + id + `","text":"line one\n\"quoted\"","quote":"IN1"}
{"ack":"IN2"}
{"ack":"IN3","error":"the disk is full"}
`
	if got := out.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}

// The terminal shows a reply as the Markdown it was written in: readable
// as it is, not WhatsApp's markup, and never cut into parts.
func TestFormatKeepsMarkdownWhole(t *testing.T) {
	c := New(&bytes.Buffer{})
	long := "It's **4**.\n\n" + strings.Repeat("word ", 2000)
	if got := c.Format("\n" + long + "\n"); len(got) != 1 || got[0] != long {
		t.Errorf("Format = %d parts starting %.20q; want the Markdown as one message", len(got), got)
	}
	if got := c.Format("\n \n"); len(got) != 0 {
		t.Errorf("Format of blank text = %q; want no message", got)
	}
}
