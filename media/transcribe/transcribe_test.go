package transcribe_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"waclaw/agent/agenttest"
	"waclaw/config"
	"waclaw/media/transcribe"
)

// voiceClip is the test voice note as WhatsApp labels it.
func voiceClip() transcribe.Clip {
	return transcribe.Clip{Data: agenttest.VoiceNote(), MIME: "audio/ogg; codecs=opus"}
}

// entry is a transcription entry on a provider at url.
func entry(id, url string, local bool, model string) *config.Transcriber {
	return &config.Transcriber{
		Provider: &config.Provider{ID: id, BaseURL: url, Local: local, API: config.APIOpenAIResponses},
		Model:    model,
		Timeout:  10 * time.Second,
	}
}

// whisperEntry is a local whisper.cpp server's entry.
func whisperEntry(s *agenttest.TranscriptionServer) *config.Transcriber {
	return entry("whisper", s.URL, true, "whisper-1")
}

// openAIEntry is a hosted OpenAI entry with the fake's key.
func openAIEntry(s *agenttest.TranscriptionServer) *config.Transcriber {
	e := entry("openai", s.URL, false, "whisper-1")
	e.Provider.APIKey = agenttest.TranscriptionAPIKey
	return e
}

func newTranscriber(entries ...*config.Transcriber) *transcribe.Transcriber {
	return transcribe.New(config.Audio{Enabled: true, Transcribers: entries, Timeout: 10 * time.Second}, nil, nil)
}

// chainError returns err as a *ChainError, failing the test if it is not
// one.
func chainError(t *testing.T, err error) *transcribe.ChainError {
	t.Helper()
	var ce *transcribe.ChainError
	if !errors.As(err, &ce) {
		t.Fatalf("Transcribe error = %v; want a *ChainError", err)
	}
	return ce
}

func TestTranscribeSendsTheVoiceNoteAsIs(t *testing.T) {
	for _, style := range []agenttest.TranscriberStyle{agenttest.WhisperCpp, agenttest.OpenAIAudio} {
		t.Run(style.String(), func(t *testing.T) {
			s := agenttest.NewTranscriber(t, style)
			e := openAIEntry(s)
			e.Provider.Headers = map[string]string{"X-Team": "home"}
			tr := transcribe.New(config.Audio{Language: "en", Transcribers: []*config.Transcriber{e}}, nil, nil)
			c := voiceClip()
			res, err := tr.Transcribe(t.Context(), c, false)
			if err != nil {
				t.Fatalf("Transcribe error = %v", err)
			}
			if res.Text != "What is the capital of France?" || res.By != e || len(res.Failures) != 0 {
				t.Errorf("Transcribe = %q by %v, failures %v; want the question by %s", res.Text, res.By.Name(), res.Failures, e.Name())
			}
			reqs := s.Requests()
			if len(reqs) != 1 {
				t.Fatalf("server got %d requests; want 1", len(reqs))
			}
			r := reqs[0]
			want := agenttest.TranscriptionRequest{
				Model: "whisper-1", Language: "en", ResponseFormat: "json",
				FileName: "voice.ogg", ContentType: "audio/ogg; codecs=opus",
				Size: len(c.Data), Sum: sha256.Sum256(c.Data),
				Auth: "Bearer " + agenttest.TranscriptionAPIKey,
			}
			r.Header = nil
			if !reflect.DeepEqual(r, want) {
				t.Errorf("server got %+v;\nwant %+v", r, want)
			}
			if h := reqs[0].Header.Get("X-Team"); h != "home" {
				t.Errorf("X-Team header = %q; want the provider's header", h)
			}
		})
	}
}

func TestTranscribeLanguageAndNoKey(t *testing.T) {
	s := agenttest.NewTranscriber(t, agenttest.WhisperCpp)
	e := whisperEntry(s)
	e.Language = "fr"
	tr := transcribe.New(config.Audio{Language: "en", Transcribers: []*config.Transcriber{e}}, nil, nil)
	if _, err := tr.Transcribe(t.Context(), voiceClip(), false); err != nil {
		t.Fatalf("Transcribe error = %v", err)
	}
	r := s.Requests()[0]
	if r.Language != "fr" || r.Auth != "" {
		t.Errorf("server got language %q, Authorization %q; want the entry's \"fr\" and no key", r.Language, r.Auth)
	}
}

func TestTranscribeFallsBackInOrder(t *testing.T) {
	refused := agenttest.RefusedURL(t)
	s := agenttest.NewTranscriber(t, agenttest.WhisperCpp)
	first, second := entry("desk", refused, true, "whisper-1"), whisperEntry(s)
	res, err := newTranscriber(first, second).Transcribe(t.Context(), voiceClip(), false)
	if err != nil {
		t.Fatalf("Transcribe error = %v", err)
	}
	if res.By != second || res.Text != "What is the capital of France?" {
		t.Errorf("Transcribe = %q by %s; want the question by %s", res.Text, res.By.Name(), second.Name())
	}
	want := "connection refused: is the server at " + refused + " running?"
	if len(res.Failures) != 1 || res.Failures[0].Entry != first || res.Failures[0].Reason != want {
		t.Fatalf("Failures = %+v; want one, %s: %q", res.Failures, first.Name(), want)
	}
	if res.Failures[0].Err == nil {
		t.Error("Failure.Err is nil; the log needs the full error")
	}
}

func TestTranscribeLocalOnlySkipsHosted(t *testing.T) {
	hosted := agenttest.NewTranscriber(t, agenttest.OpenAIAudio)
	local := agenttest.NewTranscriber(t, agenttest.WhisperCpp)
	tr := newTranscriber(openAIEntry(hosted), whisperEntry(local))

	res, err := tr.Transcribe(t.Context(), voiceClip(), true)
	if err != nil {
		t.Fatalf("Transcribe(localOnly) error = %v", err)
	}
	if res.By.Hosted() || hosted.Calls() != 0 || len(res.Failures) != 0 {
		t.Errorf("Transcribe(localOnly) by %s, hosted server reached %d times, failures %v; want the local entry alone",
			res.By.Name(), hosted.Calls(), res.Failures)
	}

	res, err = tr.Transcribe(t.Context(), voiceClip(), false)
	if err != nil || !res.By.Hosted() {
		t.Errorf("Transcribe(any) = %+v, %v; want the hosted entry first", res, err)
	}
}

func TestTranscribeNoTranscriber(t *testing.T) {
	hosted := agenttest.NewTranscriber(t, agenttest.OpenAIAudio)
	for _, tt := range []struct {
		name      string
		entries   []*config.Transcriber
		localOnly bool
	}{
		{"none configured", nil, false},
		{"all hosted in a local-only chat", []*config.Transcriber{openAIEntry(hosted)}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := newTranscriber(tt.entries...).Transcribe(t.Context(), voiceClip(), tt.localOnly)
			if !errors.Is(err, transcribe.ErrNoTranscriber) {
				t.Errorf("Transcribe = %+v, %v; want ErrNoTranscriber", res, err)
			}
		})
	}
	if hosted.Calls() != 0 {
		t.Errorf("hosted server reached %d times from a local-only chat", hosted.Calls())
	}
}

func TestTranscribeReasons(t *testing.T) {
	for _, tt := range []struct {
		name  string
		style agenttest.TranscriberStyle
		setup func(*agenttest.TranscriptionServer, *config.Transcriber, *transcribe.Clip)
		want  string
	}{
		{"wrong key", agenttest.OpenAIAudio,
			func(_ *agenttest.TranscriptionServer, e *config.Transcriber, _ *transcribe.Clip) {
				e.Provider.APIKey = "sk-wrong-1234567890"
			},
			"HTTP 401: check the provider's apiKey"},
		{"server error", agenttest.OpenAIAudio,
			func(s *agenttest.TranscriptionServer, _ *config.Transcriber, _ *transcribe.Clip) {
				s.Enqueue(agenttest.TranscriptReply{Status: 500})
			},
			"HTTP 500: The server had an error while processing your request. Sorry about that!"},
		{"long plain error body", agenttest.OpenAIAudio,
			func(s *agenttest.TranscriptionServer, _ *config.Transcriber, _ *transcribe.Clip) {
				s.Enqueue(agenttest.TranscriptReply{Status: 502, Body: "Bad gateway\n" + strings.Repeat("x", 300)})
			},
			"HTTP 502: Bad gateway " + strings.Repeat("x", 200-len("Bad gateway ")) + "…"},
		{"endpoint missing", agenttest.WhisperCpp,
			func(_ *agenttest.TranscriptionServer, e *config.Transcriber, _ *transcribe.Clip) {
				e.Provider.BaseURL = strings.TrimSuffix(e.Provider.BaseURL, "/v1")
			},
			"HTTP 404: File Not Found"},
		{"whisper.cpp cannot convert: an error in a 200", agenttest.WhisperCpp,
			func(_ *agenttest.TranscriptionServer, _ *config.Transcriber, c *transcribe.Clip) {
				c.Data, c.MIME = []byte("RIFF\x24\x00\x00\x00WAVEfmt "), "audio/wav"
			},
			"the server answered an error: Failed to execute ffmpeg command. (whisper.cpp's server takes Ogg/Opus only when started with --convert and ffmpeg installed)"},
		{"JSON without text", agenttest.WhisperCpp,
			func(s *agenttest.TranscriptionServer, _ *config.Transcriber, _ *transcribe.Clip) {
				s.Enqueue(agenttest.TranscriptReply{Body: `{"segments":[]}`})
			},
			`the answer has no text: {"segments":[]}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := agenttest.NewTranscriber(t, tt.style)
			e, c := openAIEntry(s), voiceClip()
			tt.setup(s, e, &c)
			res, err := newTranscriber(e).Transcribe(t.Context(), c, false)
			ce := chainError(t, err)
			if res != nil || len(ce.Failures) != 1 || ce.Failures[0].Reason != tt.want {
				t.Fatalf("Transcribe = %+v, %v; want one failure %q", res, err, tt.want)
			}
			if want := e.Name() + ": " + tt.want; !strings.Contains(err.Error(), want) {
				t.Errorf("error = %q; want it to list %q", err, want)
			}
		})
	}
}

func TestTranscribePlainTextAnswer(t *testing.T) {
	s := agenttest.NewTranscriber(t, agenttest.WhisperCpp)
	s.Enqueue(agenttest.TranscriptReply{Body: " Bonjour, tout le monde.\n"})
	res, err := newTranscriber(whisperEntry(s)).Transcribe(t.Context(), voiceClip(), false)
	if err != nil || res.Text != "Bonjour, tout le monde." {
		t.Errorf("Transcribe = %+v, %v; want the plain body, trimmed", res, err)
	}
}

func TestTranscribeHangingServerTimesOut(t *testing.T) {
	hung := agenttest.NewTranscriber(t, agenttest.WhisperCpp)
	hung.Enqueue(agenttest.TranscriptReply{Hang: true})
	next := agenttest.NewTranscriber(t, agenttest.WhisperCpp)
	first := whisperEntry(hung)
	first.Timeout = 200 * time.Millisecond
	start := time.Now()
	res, err := newTranscriber(first, whisperEntry(next)).Transcribe(t.Context(), voiceClip(), false)
	if err != nil {
		t.Fatalf("Transcribe error = %v", err)
	}
	if len(res.Failures) != 1 || res.Failures[0].Reason != "timed out after 200ms" {
		t.Errorf("Failures = %+v; want one, \"timed out after 200ms\"", res.Failures)
	}
	if !errors.Is(res.Failures[0].Err, context.DeadlineExceeded) {
		t.Errorf("Failure.Err = %v; want context.DeadlineExceeded", res.Failures[0].Err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Transcribe took %v with a 200ms timeout", d)
	}
}

func TestTranscribeCancelStopsTheChain(t *testing.T) {
	hung := agenttest.NewTranscriber(t, agenttest.WhisperCpp)
	hung.Enqueue(agenttest.TranscriptReply{Hang: true})
	next := agenttest.NewTranscriber(t, agenttest.WhisperCpp)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for hung.Calls() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	res, err := newTranscriber(whisperEntry(hung), whisperEntry(next)).Transcribe(ctx, voiceClip(), false)
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Errorf("Transcribe = %+v, %v; want context.Canceled", res, err)
	}
	if next.Calls() != 0 {
		t.Errorf("the next entry was tried %d times after the cancel", next.Calls())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Transcribe took %v to notice the cancel", d)
	}
	if _, err := newTranscriber(whisperEntry(next)).Transcribe(ctx, voiceClip(), false); !errors.Is(err, context.Canceled) || next.Calls() != 0 {
		t.Errorf("Transcribe(cancelled ctx) error = %v, server reached %d times; want context.Canceled at once", err, next.Calls())
	}
}

func TestTranscribeBlankAudio(t *testing.T) {
	silent := agenttest.NewTranscriber(t, agenttest.WhisperCpp)
	silent.Enqueue(agenttest.TranscriptReply{Text: ""}) // " [BLANK_AUDIO]\n"
	next := agenttest.NewTranscriber(t, agenttest.WhisperCpp)
	first := whisperEntry(silent)
	res, err := newTranscriber(first, whisperEntry(next)).Transcribe(t.Context(), voiceClip(), false)
	if err != nil || res.Text != "" || res.By != first {
		t.Fatalf("Transcribe = %+v, %v; want \"\" by %s", res, err, first.Name())
	}
	if next.Calls() != 0 {
		t.Errorf("the next entry was tried %d times after a blank transcript", next.Calls())
	}
}

func TestTranscribeLogsNoContent(t *testing.T) {
	s := agenttest.NewTranscriber(t, agenttest.WhisperCpp)
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	tr := transcribe.New(config.Audio{Transcribers: []*config.Transcriber{whisperEntry(s)}}, nil, log)
	c := voiceClip()
	if _, err := tr.Transcribe(t.Context(), c, false); err != nil {
		t.Fatalf("Transcribe error = %v", err)
	}
	if strings.Contains(buf.String(), "capital") {
		t.Errorf("the Info log holds the transcript: %s", buf.String())
	}
	var rec struct {
		Msg      string
		Entry    string
		Bytes    int
		Duration time.Duration
		Latency  time.Duration
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log = %s; want one JSON record: %v", buf.String(), err)
	}
	if rec.Entry != "whisper/whisper-1" || rec.Latency <= 0 {
		t.Errorf("log record = %+v; want the entry and the latency", rec)
	}
	if rec.Bytes != 0 || rec.Duration != 0 {
		t.Errorf("log record = %+v: the audio's size and length are for debug only", rec)
	}
}
