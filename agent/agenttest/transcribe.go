package agenttest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TranscriberStyle selects which real speech-to-text server a
// [TranscriptionServer] imitates. Both serve the OpenAI-style
// POST /v1/audio/transcriptions (multipart: file, model, language,
// response_format).
type TranscriberStyle int

const (
	// WhisperCpp imitates whisper.cpp's whisper-server started with
	// --inference-path /v1/audio/transcriptions --convert. The text is as
	// the server joins segments: a leading space and a trailing newline
	// (" What is the capital of France?\n"); silence is " [BLANK_AUDIO]\n".
	// It asks for no key and ignores the model field. Like the real server,
	// it answers a bad request with HTTP 200 and {"error":"..."}: "no 'file'
	// field in the request", or "Failed to execute ffmpeg command." for a
	// file ffmpeg cannot convert (here: one that is not Ogg/Opus).
	// response_format=text comes back as text/html.
	WhisperCpp TranscriberStyle = iota
	// OpenAIAudio imitates OpenAI's hosted audio API: {"text": "..."}
	// (silence is ""); 401 invalid_api_key unless the Bearer key is the
	// server's ([TranscriptionAPIKey] unless [TranscriptionServer.SetAPIKey]
	// changed it); 413 for a body over 25 MB; 400 invalid_request_error
	// for a missing model or file, or a file that is not Ogg/Opus.
	OpenAIAudio
)

// String returns the style's name.
func (s TranscriberStyle) String() string {
	switch s {
	case WhisperCpp:
		return "whispercpp"
	case OpenAIAudio:
		return "openai-audio"
	}
	return fmt.Sprintf("TranscriberStyle(%d)", int(s))
}

// TranscriptionAPIKey is the key an [OpenAIAudio] server accepts by
// default.
const TranscriptionAPIKey = "sk-test-transcribe-0123456789"

// openAIMaxBody is OpenAI's limit on an upload: 25 MB.
const openAIMaxBody = 25 << 20

// TranscriptReply scripts one answer of a [TranscriptionServer].
type TranscriptReply struct {
	// Text is the transcript, written as the style writes it; "" is
	// silence ([WhisperCpp]'s "[BLANK_AUDIO]").
	Text string
	// Status, when not 0 or 200, answers with this status and Body, or
	// with the style's error body when Body is "".
	Status int
	// Body, with Status 0, is a 200 body sent as it is instead of Text (JSON
	// when it starts with "{", else text/plain).
	Body string
	// Delay is a wait before answering; it ends early when the request's
	// context ends or the server closes.
	Delay time.Duration
	// Hang accepts the request and never answers, until the client gives
	// up or the server is closed.
	Hang bool
}

// TranscriptionRequest is one POST /v1/audio/transcriptions the server
// received, as parsed from its multipart body.
type TranscriptionRequest struct {
	Model, Language, ResponseFormat string
	// FileName and ContentType are the file part's.
	FileName, ContentType string
	// Size is the file part's length in bytes, Sum its SHA-256.
	Size int
	Sum  [32]byte
	// Auth is the Authorization header.
	Auth string
	// Header holds all the request's headers.
	Header http.Header
}

// TranscriptionServer is a fake speech-to-text server on 127.0.0.1.
type TranscriptionServer struct {
	// URL is the base to put in a provider's baseUrl:
	// "http://127.0.0.1:PORT/v1".
	URL string

	style TranscriberStyle
	hs    *httptest.Server
	done  chan struct{}
	once  sync.Once

	mu     sync.Mutex
	queue  []TranscriptReply
	def    TranscriptReply
	reqs   []TranscriptionRequest
	calls  int
	apiKey string
}

// NewTranscriber starts a fake speech-to-text server of the given style;
// t.Cleanup closes it. Until scripted otherwise it answers every
// well-formed request with "What is the capital of France?".
func NewTranscriber(t testing.TB, style TranscriberStyle) *TranscriptionServer {
	t.Helper()
	s := &TranscriptionServer{
		style:  style,
		done:   make(chan struct{}),
		def:    TranscriptReply{Text: "What is the capital of France?"},
		apiKey: TranscriptionAPIKey,
	}
	s.hs = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.hs.URL + "/v1"
	t.Cleanup(s.Close)
	return s
}

// Enqueue scripts replies: each well-formed transcription request consumes
// the next one.
func (s *TranscriptionServer) Enqueue(replies ...TranscriptReply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, replies...)
}

// SetDefault sets the reply used when the queue is empty.
func (s *TranscriptionServer) SetDefault(r TranscriptReply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.def = r
}

// SetAPIKey sets the key an [OpenAIAudio] server accepts; "" accepts any
// request, with or without one.
func (s *TranscriptionServer) SetAPIKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiKey = key
}

// Requests returns the transcription requests received, in order,
// including those answered with an error.
func (s *TranscriptionServer) Requests() []TranscriptionRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]TranscriptionRequest(nil), s.reqs...)
}

// Calls returns how many HTTP requests reached the server, on any path.
func (s *TranscriptionServer) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Close releases hung requests and shuts the server down. It is safe to
// call more than once.
func (s *TranscriptionServer) Close() {
	s.once.Do(func() {
		close(s.done)
		s.hs.Close()
	})
}

func (s *TranscriptionServer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls++
	key := s.apiKey
	s.mu.Unlock()

	if r.Method != http.MethodPost || strings.TrimSuffix(r.URL.Path, "/") != "/v1/audio/transcriptions" {
		if s.style == OpenAIAudio {
			s.openAIError(w, http.StatusNotFound, fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path), "")
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "File Not Found")
		return
	}
	auth := r.Header.Get("Authorization")
	if s.style == OpenAIAudio && key != "" && auth != "Bearer "+key {
		s.unauthorized(w, auth)
		return
	}
	limit := int64(maxBody)
	if s.style == OpenAIAudio {
		limit = openAIMaxBody
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return
	}
	if int64(len(body)) > limit {
		if s.style == WhisperCpp {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		s.openAIErrorType(w, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("Maximum content size limit (%d) exceeded (%d bytes read)", limit, limit), "server_error", "")
		return
	}
	req, file, ok := parseTranscription(r, body)
	req.Auth, req.Header = auth, r.Header.Clone()
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	if msg := s.invalid(ok, req, file); msg != "" {
		s.badRequest(w, msg)
		return
	}

	s.mu.Lock()
	reply := s.def
	if len(s.queue) > 0 {
		reply, s.queue = s.queue[0], s.queue[1:]
	}
	s.mu.Unlock()
	if reply.Delay > 0 && !s.sleep(r.Context(), reply.Delay) {
		return
	}
	if reply.Hang {
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	}
	switch {
	case reply.Status != 0 && reply.Status != http.StatusOK:
		if reply.Body == "" {
			s.statusError(w, reply.Status)
			return
		}
		writeRaw(w, reply.Status, reply.Body)
	case reply.Body != "":
		writeRaw(w, http.StatusOK, reply.Body)
	default:
		s.transcript(w, req.ResponseFormat, reply.Text)
	}
}

// parseTranscription reads the multipart body; ok is false when it is not
// one.
func parseTranscription(r *http.Request, body []byte) (req TranscriptionRequest, file []byte, ok bool) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return req, nil, false
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return req, file, true
		}
		if err != nil {
			return req, file, false
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return req, file, false
		}
		switch p.FormName() {
		case "file":
			file = data
			req.FileName, req.ContentType = p.FileName(), p.Header.Get("Content-Type")
			req.Size, req.Sum = len(data), sha256.Sum256(data)
		case "model":
			req.Model = string(data)
		case "language":
			req.Language = string(data)
		case "response_format":
			req.ResponseFormat = string(data)
		}
	}
}

// invalid says what is wrong with a request, in the style's words; "" if
// nothing is.
func (s *TranscriptionServer) invalid(multipartOK bool, req TranscriptionRequest, file []byte) string {
	switch s.style {
	case WhisperCpp:
		switch {
		case !multipartOK || file == nil:
			return "no 'file' field in the request"
		case !oggOpus(file):
			return "Failed to execute ffmpeg command."
		}
	case OpenAIAudio:
		switch {
		case !multipartOK:
			return "Could not parse multipart form"
		case req.Model == "":
			return "you must provide a model parameter"
		case file == nil:
			return "1 validation error for Request\nbody -> file\n  field required (type=value_error.missing)"
		case !oggOpus(file):
			return "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']"
		}
	}
	return ""
}

// oggOpus reports whether data starts with an Ogg page whose first packet
// is OpusHead.
func oggOpus(data []byte) bool {
	if len(data) < 27 || string(data[:4]) != "OggS" {
		return false
	}
	start := 27 + int(data[26])
	return len(data) >= start+8 && string(data[start:start+8]) == "OpusHead"
}

// transcript writes a successful answer in the requested format.
func (s *TranscriptionServer) transcript(w http.ResponseWriter, format, text string) {
	if s.style == WhisperCpp {
		if text == "" {
			text = "[BLANK_AUDIO]"
		}
		text = " " + text + "\n"
	}
	switch format {
	case "text":
		if s.style == WhisperCpp {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			text += "\n"
		}
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, text)
	case "verbose_json":
		writeJSON(w, http.StatusOK, obj{{"task", "transcribe"}, {"language", "english"}, {"duration", 1.86}, {"text", text}, {"segments", []any{}}})
	default:
		writeJSON(w, http.StatusOK, obj{{"text", text}})
	}
}

// badRequest answers a malformed request: whisper.cpp with HTTP 200 and
// {"error": ...}, OpenAI with 400.
func (s *TranscriptionServer) badRequest(w http.ResponseWriter, msg string) {
	if s.style == WhisperCpp {
		writeJSON(w, http.StatusOK, obj{{"error", msg}})
		return
	}
	s.openAIError(w, http.StatusBadRequest, msg, "")
}

// unauthorized is OpenAI's 401, with the key masked as OpenAI masks it.
func (s *TranscriptionServer) unauthorized(w http.ResponseWriter, auth string) {
	key, found := strings.CutPrefix(auth, "Bearer ")
	if !found || key == "" {
		s.openAIError(w, http.StatusUnauthorized, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the basic auth username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.", "")
		return
	}
	if len(key) > 8 {
		key = key[:3] + strings.Repeat("*", len(key)-7) + key[len(key)-4:]
	}
	s.openAIError(w, http.StatusUnauthorized, "Incorrect API key provided: "+key+". You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_api_key")
}

// statusError writes the style's body for a scripted status.
func (s *TranscriptionServer) statusError(w http.ResponseWriter, status int) {
	if s.style == WhisperCpp {
		writeJSON(w, status, obj{{"error", "failed to process audio"}})
		return
	}
	switch status {
	case http.StatusUnauthorized:
		s.unauthorized(w, "Bearer sk-wrong-key-0000")
	case http.StatusTooManyRequests:
		s.openAIErrorType(w, status, "Rate limit reached for whisper-1 in organization org-test on requests per min (RPM): Limit 50, Used 50, Requested 1.", "requests", "rate_limit_exceeded")
	default:
		s.openAIErrorType(w, status, "The server had an error while processing your request. Sorry about that!", "server_error", "")
	}
}

// openAIError writes OpenAI's error body with type invalid_request_error.
func (s *TranscriptionServer) openAIError(w http.ResponseWriter, status int, msg, code string) {
	s.openAIErrorType(w, status, msg, "invalid_request_error", code)
}

func (s *TranscriptionServer) openAIErrorType(w http.ResponseWriter, status int, msg, typ, code string) {
	var c any
	if code != "" {
		c = code
	}
	writeJSON(w, status, obj{{"error", obj{{"message", msg}, {"type", typ}, {"param", nil}, {"code", c}}}})
}

// sleep waits d; false when the request ended or the server closed first.
func (s *TranscriptionServer) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.done:
	}
	return false
}

// writeRaw writes a scripted body: JSON when it looks like it, else text.
func writeRaw(w http.ResponseWriter, status int, body string) {
	ct := "text/plain; charset=utf-8"
	if strings.HasPrefix(strings.TrimSpace(body), "{") {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
