package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"

	"github.com/rs/zerolog"
	waLog "go.mau.fi/whatsmeow/util/log"
)

// DefaultLogLevel is the least severe whatsmeow message that is logged:
// whatsmeow is chatty at info.
const DefaultLogLevel = slog.LevelWarn

// NewLogger adapts log/slog to whatsmeow's logger. Messages below min are
// dropped; sub-loggers add to the "module" attribute ("Client/Recv").
func NewLogger(base *slog.Logger, module string, min slog.Level) waLog.Logger {
	if base == nil {
		base = slog.Default()
	}
	return &waLogger{log: base, module: module, min: min}
}

type waLogger struct {
	log    *slog.Logger
	module string
	min    slog.Level
}

func (l *waLogger) Errorf(msg string, args ...any) { l.logf(slog.LevelError, msg, args) }
func (l *waLogger) Warnf(msg string, args ...any)  { l.logf(slog.LevelWarn, msg, args) }
func (l *waLogger) Infof(msg string, args ...any)  { l.logf(slog.LevelInfo, msg, args) }
func (l *waLogger) Debugf(msg string, args ...any) { l.logf(slog.LevelDebug, msg, args) }

func (l *waLogger) Sub(module string) waLog.Logger {
	if l.module != "" {
		module = l.module + "/" + module
	}
	return &waLogger{log: l.log, module: module, min: l.min}
}

func (l *waLogger) logf(level slog.Level, msg string, args []any) {
	ctx := context.Background()
	if level < l.min || !l.log.Enabled(ctx, level) {
		return
	}
	text := fmt.Sprintf(msg, args...)
	if level > slog.LevelDebug {
		text = redact(text) // whatsmeow names JIDs freely
	}
	l.log.Log(ctx, level, text, "module", l.moduleName())
}

func (l *waLogger) moduleName() string {
	if l.module == "" {
		return "whatsmeow"
	}
	return l.module
}

// NewZerolog is a zerolog logger that writes to slog. whatsmeow logs some
// things with zerolog.Ctx(ctx) (decryption buffering, acks); put it in the
// client's context (Client.BackgroundEventCtx = z.WithContext(ctx)) or
// those messages are dropped.
func NewZerolog(base *slog.Logger, min slog.Level) zerolog.Logger {
	if base == nil {
		base = slog.Default()
	}
	return zerolog.New(&zerologWriter{log: base, min: min}).Level(zerologLevel(min)).With().Str("module", "whatsmeow").Logger()
}

// zerologWriter turns zerolog's JSON lines into slog records.
type zerologWriter struct {
	log *slog.Logger
	min slog.Level
}

func (w *zerologWriter) Write(p []byte) (int, error) {
	return w.WriteLevel(zerolog.NoLevel, p)
}

func (w *zerologWriter) WriteLevel(level zerolog.Level, p []byte) (int, error) {
	lvl := slogLevel(level)
	ctx := context.Background()
	if lvl < w.min || !w.log.Enabled(ctx, lvl) {
		return len(p), nil
	}
	var fields map[string]any
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	if err := dec.Decode(&fields); err != nil {
		w.log.Log(ctx, lvl, w.redact(lvl, string(bytes.TrimSpace(p))), "module", "whatsmeow")
		return len(p), nil
	}
	msg, _ := fields[zerolog.MessageFieldName].(string)
	msg = w.redact(lvl, msg)
	delete(fields, zerolog.MessageFieldName)
	delete(fields, zerolog.LevelFieldName)
	delete(fields, zerolog.TimestampFieldName)
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]any, 0, 2*len(keys))
	for _, k := range keys {
		v := fields[k]
		if s, ok := v.(string); ok {
			v = w.redact(lvl, s)
		} else if n, ok := v.(json.Number); ok {
			if r := w.redact(lvl, n.String()); r != n.String() {
				v = r // a number that may be a phone number or LID
			}
		}
		attrs = append(attrs, k, v)
	}
	w.log.Log(ctx, lvl, msg, attrs...)
	return len(p), nil
}

// redact hides JIDs and numbers in whatsmeow's lines above debug level.
func (w *zerologWriter) redact(lvl slog.Level, s string) string {
	if lvl <= slog.LevelDebug {
		return s
	}
	return redact(s)
}

func slogLevel(l zerolog.Level) slog.Level {
	switch {
	case l <= zerolog.DebugLevel:
		return slog.LevelDebug
	case l == zerolog.InfoLevel:
		return slog.LevelInfo
	case l == zerolog.WarnLevel:
		return slog.LevelWarn
	case l == zerolog.NoLevel:
		return slog.LevelInfo
	}
	return slog.LevelError // error, fatal, panic
}

func zerologLevel(l slog.Level) zerolog.Level {
	switch {
	case l <= slog.LevelDebug:
		return zerolog.DebugLevel
	case l <= slog.LevelInfo:
		return zerolog.InfoLevel
	case l <= slog.LevelWarn:
		return zerolog.WarnLevel
	}
	return zerolog.ErrorLevel
}
