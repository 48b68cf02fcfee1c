package whatsapp

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// records decodes JSON log lines.
func records(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	base := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l := NewLogger(base, "Client", DefaultLogLevel)
	l.Debugf("dropped %d", 1)
	l.Infof("dropped %d", 2)
	l.Warnf("keepalive failed %d times", 3)
	l.Sub("Recv").Errorf("bad frame from %s", "server")

	got := records(t, &buf)
	if len(got) != 2 {
		t.Fatalf("got %d records, want 2 (warn by default):\n%s", len(got), buf.String())
	}
	want := []struct{ level, msg, module string }{
		{"WARN", "keepalive failed 3 times", "Client"},
		{"ERROR", "bad frame from server", "Client/Recv"},
	}
	for i, w := range want {
		if got[i]["level"] != w.level || got[i]["msg"] != w.msg || got[i]["module"] != w.module {
			t.Errorf("record %d = %v; want level %s msg %q module %s", i, got[i], w.level, w.msg, w.module)
		}
	}

	buf.Reset()
	NewLogger(base, "", slog.LevelDebug).Sub("Socket").Debugf("frame %d", 7)
	got = records(t, &buf)
	if len(got) != 1 || got[0]["level"] != "DEBUG" || got[0]["module"] != "Socket" {
		t.Errorf("debug logger wrote %v; want one DEBUG record in module Socket", got)
	}
}

func TestZerologToSlog(t *testing.T) {
	var buf bytes.Buffer
	base := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := NewZerolog(base, slog.LevelDebug).WithContext(t.Context())
	// The way whatsmeow logs with a context.
	zerolog.Ctx(ctx).Debug().Str("message_id", "3EB0X").Msg("Deleted event plaintext from buffer")
	zerolog.Ctx(ctx).Err(bytes.ErrTooLarge).Msg("Failed to clear buffered event plaintext")

	got := records(t, &buf)
	if len(got) != 2 {
		t.Fatalf("got %d records, want 2:\n%s", len(got), buf.String())
	}
	if got[0]["level"] != "DEBUG" || got[0]["msg"] != "Deleted event plaintext from buffer" ||
		got[0]["message_id"] != "3EB0X" || got[0]["module"] != "whatsmeow" {
		t.Errorf("record 0 = %v", got[0])
	}
	if got[1]["level"] != "ERROR" || got[1]["error"] != bytes.ErrTooLarge.Error() {
		t.Errorf("record 1 = %v", got[1])
	}

	// At the default level, debug is dropped and errors pass.
	buf.Reset()
	ctx = NewZerolog(base, DefaultLogLevel).WithContext(t.Context())
	zerolog.Ctx(ctx).Debug().Msg("noise")
	zerolog.Ctx(ctx).Error().Msg("trouble")
	got = records(t, &buf)
	if len(got) != 1 || got[0]["msg"] != "trouble" {
		t.Errorf("default level wrote %v; want only the error", got)
	}
}
