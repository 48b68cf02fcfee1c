// Package transcribe turns voice notes into text. It tries the entries of
// tools.media.audio in order, as the model chain tries models: an
// OpenAI-style POST /audio/transcriptions on a provider (whisper.cpp's
// server, speaches, LocalAI, OpenAI), or a local command such as
// whisper.cpp's whisper-cli. Hosted entries are skipped for chats whose
// audio must stay on the user's machines.
package transcribe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"waclaw/config"
)

// Clip is one piece of audio to transcribe, as it arrived.
type Clip struct {
	Data []byte
	MIME string // e.g. "audio/ogg; codecs=opus"
}

// Result is a transcription.
type Result struct {
	// Text is the transcript, trimmed; "" when the audio held no speech
	// (silence, music, noise), which is not a failure.
	Text string
	// By is the entry that transcribed it.
	By *config.Transcriber
	// Failures are the entries tried before it, which failed.
	Failures []*Failure
}

// ErrNoTranscriber says no entry may be tried: none is configured, or
// every one is hosted and the chat is local-only.
var ErrNoTranscriber = errors.New("no way to transcribe voice notes")

// Failure is one entry that failed.
type Failure struct {
	Entry *config.Transcriber
	// Reason is short and says what to do, for the user and /status:
	// "HTTP 401: check the provider's apiKey".
	Reason string
	// Err is the full error, for the log.
	Err error
}

// ChainError says every entry tried failed.
type ChainError struct {
	Failures []*Failure
}

// Error lists each entry's name and reason.
func (e *ChainError) Error() string {
	parts := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		parts[i] = f.Entry.Name() + ": " + f.Reason
	}
	return "every transcriber failed: " + strings.Join(parts, "; ")
}

// Unwrap returns the failures' errors, so errors.Is sees through the chain.
func (e *ChainError) Unwrap() []error {
	errs := make([]error, len(e.Failures))
	for i, f := range e.Failures {
		errs[i] = f.Err
	}
	return errs
}

// Transcriber runs the chain of tools.media.audio. It is safe for
// concurrent use.
type Transcriber struct {
	audio  config.Audio
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
}

// New returns a Transcriber for a's entries. A nil client is
// http.DefaultClient; a nil log discards.
func New(a config.Audio, client *http.Client, log *slog.Logger) *Transcriber {
	if client == nil {
		client = http.DefaultClient
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Transcriber{audio: a, client: client, log: log, now: time.Now}
}

// Transcribe turns c into text with the first entry that succeeds. With
// localOnly, hosted entries are skipped. It returns ErrNoTranscriber (wrapped)
// when no entry may be tried, a *ChainError when every one tried failed,
// and ctx's error, at once, when ctx ends.
func (t *Transcriber) Transcribe(ctx context.Context, c Clip, localOnly bool) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("transcription abandoned: %w", err)
	}
	var failures []*Failure
	var skipped []string
	for _, e := range t.audio.Transcribers {
		if localOnly && e.Hosted() {
			skipped = append(skipped, e.Name())
			continue
		}
		text, err := t.run(ctx, e, c)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("transcription abandoned: %w", ctx.Err())
			}
			f := &Failure{Entry: e, Reason: reason(e, err, t.timeout(e)), Err: fmt.Errorf("%s: %w", e.Name(), err)}
			t.log.Warn("transcriber failed", "entry", e.Name(), "reason", f.Reason, "err", err)
			failures = append(failures, f)
			continue
		}
		return &Result{Text: clean(text), By: e, Failures: failures}, nil
	}
	switch {
	case len(failures) > 0:
		return nil, &ChainError{Failures: failures}
	case len(skipped) > 0:
		return nil, fmt.Errorf("%w in a local-only chat: %s would send the audio off this machine", ErrNoTranscriber, strings.Join(skipped, ", "))
	}
	return nil, fmt.Errorf("%w: tools.media.audio.models lists none", ErrNoTranscriber)
}

// run tries one entry under its own timeout and logs what it cost.
func (t *Transcriber) run(ctx context.Context, e *config.Transcriber, c Clip) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout(e))
	defer cancel()
	start := t.now()
	var text string
	var err error
	if e.Provider != nil {
		text, err = t.post(ctx, e, c)
	} else {
		text, err = t.command(ctx, e, c)
	}
	if err != nil {
		// Whatever broke when the time ran out (a killed command, a cut
		// body), the cause is the timeout.
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		}
		return "", err
	}
	// Above debug, nothing derived from the audio: only who transcribed
	// it and how long that took.
	latency := t.now().Sub(start).Round(time.Microsecond)
	t.log.Info("transcribed voice note", "entry", e.Name(), "latency", latency)
	attrs := []any{"entry", e.Name(), "bytes", len(c.Data), "text", text}
	if d, err := Duration(c.Data); err == nil {
		attrs = append(attrs, "duration", d.Round(time.Millisecond))
	}
	t.log.Debug("transcript", attrs...)
	return text, nil
}

// timeout is how long entry e may take.
func (t *Transcriber) timeout(e *config.Transcriber) time.Duration {
	switch {
	case e.Timeout > 0:
		return e.Timeout
	case t.audio.Timeout > 0:
		return t.audio.Timeout
	}
	return config.DefaultAudioTimeout
}

// language is the hint sent with entry e: its own, else the section's.
func (t *Transcriber) language(e *config.Transcriber) string {
	if e.Language != "" {
		return e.Language
	}
	return t.audio.Language
}
