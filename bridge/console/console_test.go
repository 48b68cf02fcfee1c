package console

import (
	"bytes"
	"context"
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
