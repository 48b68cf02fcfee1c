package console

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"waclaw/bridge"
)

func TestSendWritesRepliesWithDistinctIDs(t *testing.T) {
	var out bytes.Buffer
	c := New(&out, Person{})
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
	c := New(&bytes.Buffer{}, Person{})
	long := "It's **4**.\n\n" + strings.Repeat("word ", 2000)
	if got := c.Format("\n" + long + "\n"); len(got) != 1 || got[0] != long {
		t.Errorf("Format = %d parts starting %.20q; want the Markdown as one message", len(got), got)
	}
	if got := c.Format("\n \n"); len(got) != 0 {
		t.Errorf("Format of blank text = %q; want no message", got)
	}
}

// handler records what the console hands in.
type handler struct {
	got   []bridge.Inbound
	idles int
	err   error
}

func (h *handler) Handle(ctx context.Context, in bridge.Inbound) error {
	if h.err != nil {
		return h.err
	}
	h.got = append(h.got, in)
	return nil
}

func (h *handler) Idle(ctx context.Context) error { h.idles++; return nil }

// The person at the keyboard is the owner in their self-chat, with no
// config edit; --as and --chat make them someone else, somewhere else.
// Each line is answered before the next is read.
func TestReadLines(t *testing.T) {
	tests := []struct {
		name string
		who  Person
		want bridge.Inbound
	}{
		{"owner", Person{}, bridge.Inbound{ChatID: "console", SenderID: "console", FromSelf: true, SelfChat: true}},
		{"as a number", Person{Phone: "+15550000009"}, bridge.Inbound{ChatID: "+15550000009", SenderID: "+15550000009", SenderPhone: "+15550000009"}},
		{"into a group", Person{Phone: "+15550000009", Chat: "120363000000000001@g.us"},
			bridge.Inbound{ChatID: "120363000000000001@g.us", SenderID: "+15550000009", SenderPhone: "+15550000009", IsGroup: true, MentionsMe: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &handler{}
			if err := New(&bytes.Buffer{}, tt.who).Read(context.Background(), strings.NewReader("  hello \n\n/status\n"), h); err != nil {
				t.Fatal(err)
			}
			if len(h.got) != 2 || h.got[0].Text != "hello" || h.got[1].Text != "/status" || h.idles != 3 {
				t.Fatalf("handed in %+v with %d waits; want the two lines, each answered before the next", h.got, h.idles)
			}
			if h.got[0].MessageID == h.got[1].MessageID || h.got[0].Time.IsZero() {
				t.Errorf("lines got ids %q and %q and time %v; want distinct ids and a time", h.got[0].MessageID, h.got[1].MessageID, h.got[0].Time)
			}
			got := h.got[0]
			got.MessageID, got.Time, got.Text = "", time.Time{}, ""
			if got != tt.want {
				t.Errorf("a line became %+v; want %+v", got, tt.want)
			}
		})
	}
}

// A script's lines are acknowledged once recorded; a line that is not a
// message, or lacks what a message needs, gets an error ack and the rest
// go on.
func TestReadJSON(t *testing.T) {
	var out bytes.Buffer
	h := &handler{}
	input := `{"chat":"+15550000002","sender":"+15550000002","id":"M1","text":"hi"}
not json
{"chat":"+15550000002","text":"no sender or id"}
{"chat":"+15550000003","sender":"+15550000003","phone":"+15550000003","id":"M2","text":"hello","group":false}
`
	if err := NewJSON(&out).Read(context.Background(), strings.NewReader(input), h); err != nil {
		t.Fatal(err)
	}
	if len(h.got) != 2 || h.got[0].MessageID != "M1" || h.got[1].SenderPhone != "+15550000003" || h.idles != 0 {
		t.Errorf("handed in %+v, waited %d times; want M1 and M2 without waiting", h.got, h.idles)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || lines[0] != `{"ack":"M1"}` || !strings.Contains(lines[1], `line 2 is not a message`) ||
		!strings.Contains(lines[2], `line 3: a message needs \"chat\", \"sender\" and \"id\"`) || lines[3] != `{"ack":"M2"}` {
		t.Errorf("acks:\n%s", out.String())
	}
	h.err = errors.New("record message: the disk is full")
	out.Reset()
	NewJSON(&out).Read(context.Background(), strings.NewReader(`{"chat":"c","sender":"s","id":"M3"}`+"\n"), h)
	if got := strings.TrimSpace(out.String()); got != `{"ack":"M3","error":"record message: the disk is full"}` {
		t.Errorf("a message the bridge could not take was acked %s; want the error, so the script sends it again", got)
	}
}
