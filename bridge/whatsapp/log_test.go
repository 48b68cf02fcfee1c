package whatsapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types/events"

	"waclaw/bridge"
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

// Nothing that names a person or a group (a phone number, a LID, a JID)
// reaches the log above debug level, nor the errors the adapter returns,
// which the bridge logs: not from the adapter, nor from whatsmeow's lines
// and errors passing through it. They appear as hashes instead.
func TestNoNumbersInLogs(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	f := newFake()
	f.userInfoErr = errors.New("failed to get user info for 15552223333@s.whatsapp.net: timed out")
	f.lidErr = errors.New("no LID mapping for 88882223333@lid")
	f.rejectErr = errors.New("failed to send call reject to 88882223333:5@lid")
	f.chatPresErr = errors.New("no session with 15552223333.0:3")
	f.sendErrs = []error{fmt.Errorf("%w for 15552223333@s.whatsapp.net from server", whatsmeow.ErrNotLoggedIn)}
	a, _, _ := testAdapter(t, f, Options{Logger: logger, KnownNumbers: []string{"+15552223333"}, RejectCalls: true})
	h := &fakeHandler{err: errors.New("inbox write for 120363000000000001@g.us from 15552223333@s.whatsapp.net: disk full")}
	a.SetHandler(h)

	f.deliver(&events.Connected{})
	a.bg.Wait()
	f.deliver(msgEvent(alicePN, device(alicePN, 3), text("hi")))
	f.deliver(msgEvent(aliceLI, aliceLI, text("hi")))
	f.deliver(msgEvent(group, aliceLI, extText("@99990001111 hi", &waE2E.ContextInfo{MentionedJID: []string{botLID.String()}})))
	f.deliver(callOffer(aliceLI, alicePN))
	f.deliver(&events.ConnectFailure{Reason: 418, Message: "bad stanza from 15552223333@s.whatsapp.net"})
	a.bg.Wait()

	// whatsmeow's own lines, as it writes them.
	NewLogger(logger, "Client", DefaultLogLevel).Warnf("Error decrypting message from %s in %s: %v",
		"88882223333:2@lid", "120363000000000001@g.us", "no session with 99990001111_1.2")
	zerolog.Ctx(NewZerolog(logger, DefaultLogLevel).WithContext(t.Context())).Warn().
		Str("sender_id", "15552223333:3@s.whatsapp.net").Int64("lid_user", 88882223333).Msg("Failed to handle retry receipt")

	// The bridge logs what the channel returns.
	var errs []error
	errs = append(errs, a.Send(t.Context(), aliceChat, a.NewMessageID(), "hello", ""))
	errs = append(errs, a.Send(t.Context(), "+15552223333", a.NewMessageID(), "hello", ""))
	errs = append(errs, a.Typing(t.Context(), aliceChat, true))
	errs = append(errs, a.MarkRead(t.Context(), aliceChat, "15552223333:x@s.whatsapp.net", "M1"))
	for _, err := range errs {
		if err == nil {
			t.Fatal("an injected failure did not fail")
		}
		logger.Warn("bridge: channel failed", "err", err)
	}
	if !errors.Is(errs[0], whatsmeow.ErrNotLoggedIn) {
		t.Errorf("Send error %v no longer wraps whatsmeow's error", errs[0])
	}

	out := buf.String()
	for _, secret := range []string{"15550001111", "15552223333", "88882223333", "99990001111", "120363000000000001", "2223333"} {
		if strings.Contains(out, secret) {
			t.Errorf("log names %s:\n%s", secret, out)
		}
	}
	// The lines are still there, naming people by hashes.
	for _, want := range []string{
		"whatsapp: connected", "account=" + bridge.HashID("+15550001111"),
		"look up the LIDs of allowed numbers", "message not taken", "look up the phone number of LID " + bridge.HashID(aliceLI.String()),
		"message not recorded", "reject a call", "connection failed",
		"Error decrypting message", "jid#" + bridge.HashID(aliceLI.String()), "jid#" + bridge.HashID(group.String()),
		"Failed to handle retry receipt", "num#" + bridge.HashID("+88882223333"),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"from 15552223333@s.whatsapp.net", "from jid#" + bridge.HashID("15552223333@s.whatsapp.net")},
		{"device 15552223333:12@s.whatsapp.net.", "device jid#" + bridge.HashID("15552223333@s.whatsapp.net") + "."},
		{"call +15552223333 now", "call num#" + bridge.HashID("+15552223333") + " now"},
		{"message 3EB0C431C26A1916A8B0 and 3EB0123456789", "message 3EB0C431C26A1916A8B0 and 3EB0123456789"},
		{"version 2.3000.1023456789, port 5222, took 1500ms", "version 2.3000.1023456789, port 5222, took 1500ms"},
		{"status@broadcast", "status@broadcast"},
		{"", ""},
	} {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
