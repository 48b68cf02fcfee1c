package console

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"waclaw/agent/agenttest"
	"waclaw/bridge"
)

// A person at the terminal sends files with "/attach PATH [caption]": the
// kind is told from the file, and the bridge reads it only when it
// fetches it.
func TestAttachLines(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	voice := write("note.ogg", agenttest.VoiceNote())
	photo := write("my photo.jpg", agenttest.Photo())
	notes := write("notes.md", []byte("# Notes\n"))
	input := strings.Join([]string{
		"/attach " + voice,
		`/attach "` + photo + `" what is this?`,
		"/attach " + notes + " summarise",
		"/attach " + filepath.Join(dir, "missing.png"),
		"/attach",
		"/attachment is a word",
	}, "\n") + "\n"
	var out bytes.Buffer
	h := &handler{}
	if err := New(&out, Person{}).Read(context.Background(), strings.NewReader(input), h); err != nil {
		t.Fatal(err)
	}
	if len(h.got) != 4 {
		t.Fatalf("handed in %d messages; want 3 files and the last line as text (output %q)", len(h.got), out.String())
	}
	want := []struct{ kind, mime, name, text string }{
		{bridge.AttachVoice, "audio/ogg; codecs=opus", "", ""},
		{bridge.AttachImage, "image/jpeg", "", "what is this?"},
		{bridge.AttachDocument, "text/", "notes.md", "summarise"}, // text/markdown where the system knows .md, else text/plain
	}
	for i, w := range want {
		in := h.got[i]
		a := in.Attachment
		if a == nil || a.Kind != w.kind || !strings.HasPrefix(a.MIME, w.mime) || a.FileName != w.name || in.Text != w.text || in.Media != w.kind {
			t.Errorf("line %d became %+v with %+v; want %+v", i+1, in, a, w)
			continue
		}
		data, err := a.Fetch(context.Background())
		if err != nil || int64(len(data)) != a.Size {
			t.Errorf("line %d: fetched %d bytes (%v); want the file's %d", i+1, len(data), err, a.Size)
		}
	}
	if last := h.got[3]; last.Attachment != nil || last.Text != "/attachment is a word" {
		t.Errorf("a line that only starts like /attach became %+v", last)
	}
	if s := out.String(); !strings.Contains(s, "missing.png: no such file") || !strings.Contains(s, "usage: /attach PATH") {
		t.Errorf("the person was not told what went wrong: %q", s)
	}
	// A file deleted before the bridge reads it is gone, as an expired
	// WhatsApp download is.
	if err := os.Remove(voice); err != nil {
		t.Fatal(err)
	}
	if _, err := h.got[0].Attachment.Fetch(context.Background()); !errors.Is(err, bridge.ErrMediaGone) {
		t.Errorf("fetching a deleted file: %v; want ErrMediaGone", err)
	}
}

// A script names a file in "audio", "image" or "document"; one line
// carries one file, and a file that is not there is refused with the
// reason.
func TestJSONAttachments(t *testing.T) {
	photo := filepath.Join(t.TempDir(), "p.png")
	if err := os.WriteFile(photo, agenttest.PNG(), 0o600); err != nil {
		t.Fatal(err)
	}
	input := `{"chat":"c","sender":"s","id":"A1","text":"look","image":"` + photo + `"}
{"chat":"c","sender":"s","id":"A2","image":"` + photo + `","audio":"` + photo + `"}
{"chat":"c","sender":"s","id":"A3","document":"/nonexistent/file.txt"}
`
	var out bytes.Buffer
	h := &handler{}
	if err := NewJSON(&out).Read(context.Background(), strings.NewReader(input), h); err != nil {
		t.Fatal(err)
	}
	if len(h.got) != 1 || h.got[0].Attachment == nil || h.got[0].Attachment.Kind != bridge.AttachImage || h.got[0].Text != "look" {
		t.Fatalf("handed in %+v; want the picture with its caption only", h.got)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || lines[0] != `{"ack":"A1"}` || !strings.Contains(lines[1], "one file") || !strings.Contains(lines[2], "no such file") {
		t.Errorf("acks:\n%s", out.String())
	}
}
