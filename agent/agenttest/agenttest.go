// Package agenttest provides in-process fake model servers for tests, in the
// spirit of net/http/httptest. Each fake listens on 127.0.0.1 and speaks the
// wire format of one real kind of server (LM Studio, Ollama, llama.cpp, vLLM,
// OpenAI or Anthropic): the same JSON shapes, the same SSE event sequences,
// the same places for model reasoning and the same ways of failing, as
// recorded in testdata/README.md and the wire transcripts in testdata/wire.
// Tests script what the model answers with [Server.Enqueue] and read back
// what the client sent with [Server.Requests].
//
//	s := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
//	s.Enqueue(
//		agenttest.Reply{Fault: agenttest.Loading},
//		agenttest.Reply{Text: "Hi!", Reasoning: "The user greets me."},
//	)
//	client := openai.NewClient(option.WithBaseURL(s.URL), option.WithMaxRetries(0))
//
// Every model request that names a listed model consumes the next scripted
// [Reply] (or the default one); requests for an unlisted model, or with a
// body that is not JSON, are answered without consuming one. Faults that hang
// honour the request's context and end when the server is closed.
package agenttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Style selects which real server a [Server] imitates.
type Style int

const (
	// LMStudio imitates LM Studio 0.3.29+. /v1/responses reasoning is an item
	// {"type":"reasoning","summary":[],"content":[{"type":"reasoning_text",...}]}
	// streamed as response.reasoning_text.delta/.done events; chat completions
	// carry it in message.reasoning_content / delta.reasoning_content. No model
	// loaded is a 404 "No models loaded. Please load a model ..."; context
	// overflow is an HTTP 200 whose body is an error.
	LMStudio Style = iota
	// Ollama imitates Ollama's /v1 layer, as in the wire transcripts.
	// /v1/responses reasoning is an item with summary [{"type":"summary_text"}]
	// and encrypted_content (the plain text), streamed as
	// response.reasoning_summary_text.delta/.done; chat completions carry it in
	// message.reasoning / delta.reasoning. An unknown model is a 404
	// not_found_error. Context overflow is silent truncation: HTTP 200 with
	// input_tokens (prompt_tokens) equal to the context size.
	Ollama
	// LlamaCpp imitates llama.cpp's llama-server: a cold start is 503
	// "Loading model" (unavailable_error), overflow is 400
	// exceed_context_size_error. Reasoning is placed as for LMStudio.
	LlamaCpp
	// VLLM imitates vLLM's OpenAI server: overflow is 400 "This model's maximum
	// context length is N tokens. ..."; [Server.SetLegacyErrors] switches to the
	// older top-level {"object":"error",...} error bodies. Reasoning is placed
	// as for LMStudio.
	VLLM
	// OpenAI imitates the hosted OpenAI API: overflow is 400 with code
	// context_length_exceeded, or an `error` SSE event inside a streamed
	// /v1/responses. Chat completions never show reasoning.
	OpenAI
	// Anthropic imitates the hosted Anthropic API: only /v1/messages (and
	// /v1/models in Anthropic's shape) are served. Reasoning is a thinking
	// block (thinking_delta + signature_delta when streamed); overflow is 400
	// "prompt is too long: N tokens > M maximum"; overloaded is 529.
	Anthropic
)

// String returns the style's name.
func (s Style) String() string {
	switch s {
	case LMStudio:
		return "lmstudio"
	case Ollama:
		return "ollama"
	case LlamaCpp:
		return "llamacpp"
	case VLLM:
		return "vllm"
	case OpenAI:
		return "openai"
	case Anthropic:
		return "anthropic"
	}
	return fmt.Sprintf("Style(%d)", int(s))
}

// Fault makes a scripted [Reply] fail the way real servers fail.
type Fault int

const (
	// None answers normally.
	None Fault = iota
	// Hang accepts the request and never answers, until the client gives up
	// (its context ends) or the server is closed.
	Hang
	// HangMidStream sends the headers and the first events or deltas, then
	// goes silent. A non-streamed request gets the headers and part of the
	// body.
	HangMidStream
	// CutStream sends some events, then drops the connection without the
	// final event or [DONE]: the client reads an unexpected EOF. A
	// non-streamed request gets part of the body, then the drop.
	CutStream
	// StreamError sends some events, then a mid-stream error: an `error`
	// event for /v1/responses (whose data has a top-level "error" object, as
	// OpenAI sends it), a data line with a top-level "error" for chat
	// completions, `event: error` for Anthropic. A non-streamed request gets
	// the style's 500.
	StreamError
	// Loading is a cold start: 503 "Loading model" in llama.cpp's shape; the
	// other styles give their own 503.
	Loading
	// NoModelsLoaded is LM Studio's 404 "No models loaded. Please load a model
	// ..."; the other styles give their ModelNotFound answer.
	NoModelsLoaded
	// ModelNotFound is this style's unknown-model answer (also given, without
	// consuming a reply, when a request names a model the server does not
	// list).
	ModelNotFound
	// EndpointMissing is the 404 an old server without the API path answers
	// (LM Studio: {"error":"Unexpected endpoint or method. (POST ...)"}, which
	// openai-go cannot decode as an *openai.Error; Ollama: a text/plain
	// "404 page not found"; vLLM: {"detail":"Not Found"}).
	EndpointMissing
	// RateLimited is 429 with Retry-After set from [Reply.RetryAfter].
	RateLimited
	// ServerError is 500.
	ServerError
	// Overloaded is Anthropic's 529 overloaded_error; the other styles give
	// 503.
	Overloaded
	// Unauthorized is 401 with the style's auth error body (vLLM's is
	// {"error":"Unauthorized"}, not an *openai.Error).
	Unauthorized
	// ErrorIn200 is an HTTP 200 whose body is an error object, as LM Studio
	// sometimes answers. A streamed request gets a 200 event stream holding
	// only the error event.
	ErrorIn200
	// EmptyOutput is an HTTP 200, completed answer with no output (LM Studio:
	// "output":[]; Ollama streamed: "output":null) or an empty message text.
	EmptyOutput
	// StringError is 400 with {"error":"a plain string"}, which is not an
	// *openai.Error shape.
	StringError
	// ContextOverflow is this style's way of saying the context is too long.
	// Ollama truncates silently: HTTP 200 with input tokens equal to the
	// context size ([Server.SetContextSize], or [Reply.InputTokens] if set).
	// LM Studio answers HTTP 200 with an error body. OpenAI puts it in an
	// `error` event when /v1/responses is streamed.
	ContextOverflow
	// MalformedJSON is an HTTP 200 whose body, or one SSE data line, is not
	// valid JSON.
	MalformedJSON
	// StreamEndsEarly sends some events, then ends the body cleanly (no
	// connection error) without the final event or [DONE]. A non-streamed
	// request gets a cleanly ended, truncated JSON body.
	StreamEndsEarly
	// ResponseFailed, on /v1/responses, sends some events and then a
	// response.failed event (status "failed", an error object in the
	// response); a non-streamed request gets HTTP 200 with that failed
	// response. Chat completions and Anthropic treat it as StreamError.
	ResponseFailed
)

// String returns the fault's name.
func (f Fault) String() string {
	names := [...]string{"None", "Hang", "HangMidStream", "CutStream", "StreamError",
		"Loading", "NoModelsLoaded", "ModelNotFound", "EndpointMissing", "RateLimited",
		"ServerError", "Overloaded", "Unauthorized", "ErrorIn200", "EmptyOutput",
		"StringError", "ContextOverflow", "MalformedJSON", "StreamEndsEarly", "ResponseFailed"}
	if f >= 0 && int(f) < len(names) {
		return names[f]
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// ToolCall is a function call the model makes instead of answering.
type ToolCall struct {
	// CallID is the call's id (call_... / toolu_...); generated when empty.
	CallID string
	// Name is the function's name.
	Name string
	// Arguments is the JSON text of the arguments.
	Arguments string
}

// Reply scripts one answer of the model.
type Reply struct {
	// Text is the visible answer.
	Text string
	// Reasoning is reasoning text, placed where the Style puts it.
	Reasoning string
	// RedactedThinking, for Anthropic, adds a redacted_thinking block with this
	// opaque data after the thinking block.
	RedactedThinking string
	// Raw, instead of Text and Reasoning, is the raw model output emitted
	// verbatim as answer text, e.g. "<think>SECRET</think>Visible answer." or
	// "SECRET-PART</think>Visible answer." (reasoning-off leaks).
	Raw string
	// Chunks are the streamed text deltas exactly as given (to split a <think>
	// tag across chunks). When Text and Raw are empty, the answer text is
	// their concatenation. By default the text is split into a few deltas.
	Chunks []string
	// ToolCall makes the model call a function (a function_call item,
	// tool_calls, or a tool_use block, per API).
	ToolCall *ToolCall
	// Truncated makes the answer stop on the output token limit: Responses
	// status "incomplete" (Ollama: still "completed"), chat finish_reason
	// "length", Anthropic stop_reason "max_tokens".
	Truncated bool
	// InputTokens, OutputTokens and CachedTokens are the reported usage; 0
	// means a plausible estimate (0 for CachedTokens).
	InputTokens, OutputTokens, CachedTokens int
	// Fault makes the request fail instead.
	Fault Fault
	// RetryAfter, with RateLimited, is sent as Retry-After (whole seconds,
	// rounded up).
	RetryAfter time.Duration
	// Delay is a wait before answering (a cold start). The wait ends early
	// when the request's context ends.
	Delay time.Duration
	// ChunkDelay is a wait before each streamed delta (reasoning or text)
	// after the first: a model writing at its pace. The wait ends early when the request's
	// context ends.
	ChunkDelay time.Duration
	// FaultAfter, with a fault that breaks a stream, is how many deltas
	// (reasoning or text) are sent before it breaks (default 1).
	FaultAfter int
	// DescribeImages answers, instead of Text, what the model was shown:
	// [Request.Describe] of the request ("I see a 1600x1200 image/jpeg.").
	DescribeImages bool
}

// text returns the answer text the reply stands for.
func (r Reply) text() string {
	switch {
	case r.Raw != "":
		return r.Raw
	case r.Text != "":
		return r.Text
	}
	return strings.Join(r.Chunks, "")
}

// reasoning returns the reasoning text, none when Raw is set.
func (r Reply) reasoning() string {
	if r.Raw != "" {
		return ""
	}
	return r.Reasoning
}

// textDeltas returns the streamed deltas of the answer text.
func (r Reply) textDeltas() []string {
	if len(r.Chunks) > 0 {
		return r.Chunks
	}
	return splitDeltas(r.text())
}

// Request is one HTTP request the server received.
type Request struct {
	// Method is the HTTP method, e.g. "POST".
	Method string
	// Path is the URL path, e.g. "/v1/responses".
	Path string
	// Header holds the request's headers (Authorization among them).
	Header http.Header
	// Body is the request body as received.
	Body []byte
}

// JSON returns the decoded body, nil if it is not a JSON object.
func (r Request) JSON() map[string]any {
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		return nil
	}
	return m
}

// Strings returns every string value in the request's JSON body, keys
// left out: what a check for text that must not reach a server reads.
func (r Request) Strings() ([]string, error) {
	var v any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		return nil, fmt.Errorf("request body is not JSON: %w", err)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return out, nil
}

// Message is one input message of a request, decoded.
type Message struct{ Role, Text string }

// Decoded returns the request's "instructions" and its input messages, in
// order: a Responses "input", or a Chat Completions or Anthropic
// "messages" list, with string content or text parts joined.
func (r Request) Decoded() (instructions string, msgs []Message) {
	type item struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	var body struct {
		Instructions string `json:"instructions"`
		Input        []item `json:"input"`
		Messages     []item `json:"messages"`
	}
	if json.Unmarshal(r.Body, &body) != nil {
		return "", nil
	}
	for _, it := range append(body.Input, body.Messages...) {
		msgs = append(msgs, Message{Role: it.Role, Text: contentText(it.Content)})
	}
	return body.Instructions, msgs
}

// contentText is a message's content: a string, or text parts joined.
func contentText(raw json.RawMessage) string {
	var text string
	if json.Unmarshal(raw, &text) == nil {
		return text
	}
	var parts []struct{ Text string }
	json.Unmarshal(raw, &parts)
	var sb strings.Builder
	for _, p := range parts {
		sb.WriteString(p.Text)
	}
	return sb.String()
}

// LastInput is the text of the request's last input message: the newest
// user message in a Responses "input", a Chat Completions or an Anthropic
// "messages" list (string content or text parts); "" if there is none.
func (r Request) LastInput() string {
	_, msgs := r.Decoded()
	if len(msgs) == 0 {
		return ""
	}
	return msgs[len(msgs)-1].Text
}

// Server is a fake model server on 127.0.0.1.
type Server struct {
	// URL is the base URL as a provider's baseUrl would be:
	// "http://127.0.0.1:PORT/v1" for OpenAI-style styles, and
	// "http://127.0.0.1:PORT" for Anthropic (the SDK appends /v1/messages).
	URL string

	style  Style
	models []string
	hs     *httptest.Server
	done   chan struct{}
	once   sync.Once

	mu          sync.Mutex
	queue       []Reply
	def         Reply
	responder   func(Request) Reply
	reqs        []Request
	contextSize int
	legacy      bool
	nextID      int
	now         func() time.Time
	unloadAfter time.Duration
	resident    map[string]*residency
	coldStarts  int
}

// defaultReply is what a server answers when nothing is queued.
var defaultReply = Reply{Text: "Hello from the fake."}

// New starts a fake server of the given style; t.Cleanup closes it. models are
// the ids GET /v1/models lists and the only ones model requests may name
// (another id gets the style's model-not-found answer); with no models, any id
// is accepted.
func New(t testing.TB, style Style, models ...string) *Server {
	t.Helper()
	s := &Server{
		style:       style,
		models:      append([]string(nil), models...),
		done:        make(chan struct{}),
		def:         defaultReply,
		contextSize: defaultContextSize(style),
		nextID:      100000,
		now:         time.Now,
	}
	s.hs = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.hs.URL + "/v1"
	if style == Anthropic {
		s.URL = s.hs.URL
	}
	t.Cleanup(s.Close)
	return s
}

// defaultContextSize is a typical context window for each style.
func defaultContextSize(style Style) int {
	switch style {
	case LMStudio, Ollama:
		return 4096
	case LlamaCpp:
		return 8192
	case VLLM:
		return 32768
	case OpenAI:
		return 128000
	case Anthropic:
		return 200000
	}
	return 4096
}

// Enqueue scripts replies: each incoming model request consumes the next one.
func (s *Server) Enqueue(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, replies...)
}

// SetDefault sets the reply used when the queue is empty (initially
// Reply{Text: "Hello from the fake."}).
func (s *Server) SetDefault(r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.def = r
}

// SetResponder makes the server answer each model request that finds the
// queue empty with fn's reply to it, so a test can answer by content (a
// summarising request one way, a chat turn another). nil restores the
// default reply.
func (s *Server) SetResponder(fn func(Request) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.responder = fn
}

// Pending reports how many enqueued replies have not been consumed yet.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// SetContextSize sets the context window, in tokens, that overflow answers
// report (and that Ollama's silent truncation reports as input tokens).
func (s *Server) SetContextSize(tokens int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.contextSize = tokens
}

// SetLegacyErrors makes a VLLM-style server answer errors as older vLLM builds
// do, with a top-level {"object":"error","message":...} body. Other styles
// ignore it.
func (s *Server) SetLegacyErrors(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.legacy = on
}

// Requests returns every request received, in order (including /v1/models).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.reqs))
	copy(out, s.reqs)
	return out
}

// Calls returns the model calls received, in order: the POSTs to the
// model APIs, without listings, probes of what the server is, or Ollama's
// native load requests.
func (s *Server) Calls() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Method == "POST" && !strings.HasPrefix(r.Path, "/api/") {
			out = append(out, r)
		}
	}
	return out
}

// Close releases hung requests and shuts the server down. It is safe to call
// more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.done)
		s.hs.Close()
	})
}

// RefusedURL returns an http://127.0.0.1:PORT/v1 URL whose port refuses
// connections.
func RefusedURL(t testing.TB) string {
	t.Helper()
	return "http://" + RefusedAddr(t) + "/v1"
}

// RefusedAddr returns a 127.0.0.1:PORT address that refuses connections: a
// port that was listened on, noted and closed.
func RefusedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("failed to listen: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("failed to close listener: %v", err)
	}
	return addr
}

// api names the model APIs a server can serve.
type api int

const (
	apiResponses api = iota
	apiChat
	apiMessages
)

// call is one model request being answered.
type call struct {
	api          api
	w            http.ResponseWriter
	r            *http.Request
	body         map[string]any
	raw          []byte
	model        string
	stream       bool
	includeUsage bool
	reply        Reply
}

// maxBody bounds what the server reads of a request body.
const maxBody = 64 << 20

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	s.mu.Unlock()

	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case r.Method == http.MethodGet && path == "/v1/models":
		s.serveModels(w)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/v1/models/"):
		s.serveModel(w, r, strings.TrimPrefix(path, "/v1/models/"))
	case r.Method == http.MethodPost && path == "/v1/responses" && s.style != Anthropic:
		s.serveCall(w, r, apiResponses, body)
	case r.Method == http.MethodPost && path == "/v1/chat/completions" && s.style != Anthropic:
		s.serveCall(w, r, apiChat, body)
	case r.Method == http.MethodPost && path == "/v1/messages" && s.style == Anthropic:
		s.serveCall(w, r, apiMessages, body)
	case s.serveNative(w, r, path, body):
	default:
		s.writeEndpointMissing(w, r)
	}
}

// serves reports whether model is one the server accepts.
func (s *Server) serves(model string) bool {
	if len(s.models) == 0 {
		return true
	}
	for _, m := range s.models {
		if m == model {
			return true
		}
	}
	return false
}

func (s *Server) serveModels(w http.ResponseWriter) {
	data := make([]any, 0, len(s.models))
	for _, m := range s.models {
		data = append(data, s.modelObject(m))
	}
	if s.style == Anthropic {
		var first, last any
		if len(s.models) > 0 {
			first, last = s.models[0], s.models[len(s.models)-1]
		}
		writeJSON(w, http.StatusOK, obj{{"data", data}, {"has_more", false}, {"first_id", first}, {"last_id", last}})
		return
	}
	writeJSON(w, http.StatusOK, obj{{"object", "list"}, {"data", data}})
}

func (s *Server) serveModel(w http.ResponseWriter, r *http.Request, id string) {
	if len(s.models) == 0 || !s.serves(id) {
		s.writeError(w, r, &call{model: id}, ModelNotFound)
		return
	}
	writeJSON(w, http.StatusOK, s.modelObject(id))
}

// modelObject is one model entry of a models list.
func (s *Server) modelObject(id string) obj {
	if s.style == Anthropic {
		return obj{{"type", "model"}, {"id", id}, {"display_name", id}, {"created_at", "2025-09-29T00:00:00Z"}}
	}
	owner := map[Style]string{LMStudio: "organization_owner", Ollama: "library", LlamaCpp: "llamacpp", VLLM: "vllm", OpenAI: "system"}[s.style]
	o := obj{{"id", id}, {"object", "model"}, {"created", 1796007780}, {"owned_by", owner}}
	if s.style == VLLM {
		s.mu.Lock()
		o = append(o, kv{"max_model_len", s.contextSize})
		s.mu.Unlock()
	}
	return o
}

// serveCall answers a model request.
func (s *Server) serveCall(w http.ResponseWriter, r *http.Request, a api, raw []byte) {
	c := &call{api: a, w: w, r: r, raw: raw}
	if err := json.Unmarshal(raw, &c.body); err != nil || c.body == nil {
		msg := "invalid request body"
		if err != nil {
			msg = err.Error()
		}
		s.writeBadRequest(w, c, msg)
		return
	}
	c.model, _ = c.body["model"].(string)
	c.stream, _ = c.body["stream"].(bool)
	if so, ok := c.body["stream_options"].(map[string]any); ok {
		c.includeUsage, _ = so["include_usage"].(bool)
	}
	if !s.serves(c.model) {
		s.writeError(w, r, c, ModelNotFound)
		return
	}
	idle, named := s.requestIdle(c.body)
	s.use(c.model, idle, named)
	s.mu.Lock()
	var respond func(Request) Reply
	switch {
	case len(s.queue) > 0:
		c.reply = s.queue[0]
		s.queue = s.queue[1:]
	case s.responder != nil:
		respond = s.responder
	default:
		c.reply = s.def
	}
	s.mu.Unlock()
	if respond != nil {
		c.reply = respond(Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: raw})
	}
	if c.reply.DescribeImages {
		c.reply.Text = Request{Body: raw}.Describe()
	}

	if c.reply.Delay > 0 && !s.sleep(r.Context(), c.reply.Delay) {
		return
	}
	switch c.reply.Fault {
	case None, EmptyOutput, HangMidStream, CutStream, StreamError, MalformedJSON, StreamEndsEarly, ResponseFailed:
		s.answer(c)
	case Hang:
		s.hang(r.Context())
	case ErrorIn200:
		s.writeErrorIn200(c, s.errorIn200Message())
	case ContextOverflow:
		s.overflow(c)
	default:
		s.writeError(w, r, c, c.reply.Fault)
	}
}

// answer writes a successful answer, or one whose body or stream fails.
func (s *Server) answer(c *call) {
	if !c.stream {
		f := c.reply.Fault
		if f == StreamError || (f == ResponseFailed && c.api != apiResponses) {
			s.writeError(c.w, c.r, c, ServerError)
			return
		}
		var body []byte
		switch c.api {
		case apiResponses:
			body = mustJSON(s.responseBody(c))
		case apiChat:
			body = mustJSON(s.chatBody(c))
		case apiMessages:
			body = mustJSON(s.messageBody(c))
		}
		s.writeBody(c, body)
		return
	}
	var events []sseEvent
	switch c.api {
	case apiResponses:
		events = s.responseEvents(c)
	case apiChat:
		events = s.chatEvents(c)
	case apiMessages:
		events = s.messageEvents(c)
	}
	s.writeStream(c, events)
}

// overflow answers a request whose context is too long, the style's way.
func (s *Server) overflow(c *call) {
	switch {
	case s.style == Ollama:
		s.mu.Lock()
		size := s.contextSize
		s.mu.Unlock()
		if c.reply.InputTokens == 0 {
			c.reply.InputTokens = size
		}
		c.reply.Fault = None
		s.answer(c)
	case s.style == LMStudio:
		s.writeErrorIn200(c, "The number of tokens to keep from the initial prompt is greater than the context length. Try to load the model with a larger context length, or provide a shorter input")
	case s.style == OpenAI && c.stream && c.api == apiResponses:
		events := s.responseEvents(c)[:2]
		e := s.errorDetail(c, ContextOverflow)
		s.writeStreamEvents(c, append(events, s.responsesErrorEvent(e, len(events))))
	default:
		s.writeError(c.w, c.r, c, ContextOverflow)
	}
}

// sleep waits for d; it reports false if the request or the server ended first.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
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

// hang blocks until the request's context ends or the server closes.
func (s *Server) hang(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-s.done:
	}
}

// newID returns a fresh number for ids.
func (s *Server) newID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	return s.nextID
}

// usage is the token counts one answer reports.
type usage struct {
	input, output, cached, reasoning int
}

// usageOf returns the reply's usage, estimating what the reply leaves at 0.
func (s *Server) usageOf(c *call) usage {
	u := usage{input: c.reply.InputTokens, output: c.reply.OutputTokens, cached: c.reply.CachedTokens}
	if u.input == 0 {
		u.input = max(1, len(c.raw)/4)
		s.mu.Lock()
		size := s.contextSize
		s.mu.Unlock()
		if s.style == Ollama && u.input > size {
			// Ollama cuts a prompt longer than its context from the front,
			// silently, and reports the context size as the input.
			u.input = size
		}
	}
	if u.output == 0 {
		u.output = max(1, countWords(c.reply.text())+countWords(c.reply.reasoning()))
		if c.reply.ToolCall != nil {
			u.output += max(1, len(c.reply.ToolCall.Arguments)/4)
		}
	}
	if s.style == OpenAI {
		u.reasoning = countWords(c.reply.reasoning())
	}
	return u
}

func countWords(s string) int { return len(strings.Fields(s)) }

// splitDeltas splits text into a few deltas at word starts, the way tokens
// stream ("Hello", " from", " the", " fake.").
func splitDeltas(text string) []string {
	if text == "" {
		return nil
	}
	var out []string
	start := 0
	for i := 1; i < len(text); i++ {
		if text[i] == ' ' && text[i-1] != ' ' {
			out = append(out, text[start:i])
			start = i
		}
	}
	return append(out, text[start:])
}

// halves splits s into two deltas (one if it is short).
func halves(s string) []string {
	if len(s) < 2 {
		return []string{s}
	}
	mid := len(s) / 2
	for mid < len(s) && (s[mid]&0xC0) == 0x80 {
		mid++
	}
	return []string{s[:mid], s[mid:]}
}

// kv is one member of an ordered JSON object.
type kv struct {
	k string
	v any
}

// obj is a JSON object that keeps its members in order, so bodies read like
// the real servers' do.
type obj []kv

// MarshalJSON encodes the object with its members in order.
func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.k)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.v)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// sorted turns ordered objects into maps, recursively, so that they encode
// with sorted keys as Ollama's streamed events do.
func sorted(v any) any {
	switch x := v.(type) {
	case obj:
		m := make(map[string]any, len(x))
		for _, e := range x {
			m[e.k] = sorted(e.v)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = sorted(e)
		}
		return out
	case []obj:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = sorted(e)
		}
		return out
	}
	return v
}

// mustJSON encodes v; the values built here always encode, and a failure
// degrades to an empty object instead of a panic.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte("{}")
	}
	return b
}

// rawJSON returns s as raw JSON if it is valid, else fallback.
func rawJSON(s string, fallback string) json.RawMessage {
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	return json.RawMessage(fallback)
}

// writeJSON writes v as the body, as application/json unless a content type
// is already set.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = w.Write(mustJSON(v))
}

// writeBody writes a 200 JSON body, or the part of it the fault allows.
func (s *Server) writeBody(c *call, body []byte) {
	w := c.w
	w.Header().Set("Content-Type", "application/json")
	switch c.reply.Fault {
	case HangMidStream, CutStream, StreamEndsEarly:
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body[:len(body)/2])
		_ = http.NewResponseController(w).Flush()
		switch c.reply.Fault {
		case HangMidStream:
			s.hang(c.r.Context())
		case CutStream:
			dropConnection(w)
		}
	case MalformedJSON:
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body[:len(body)/2])
	default:
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	}
}

// dropConnection closes the connection under a response being written, so
// that the client reads an unexpected EOF instead of a clean end.
func dropConnection(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	conn, _, err := rc.Hijack()
	if err != nil {
		return
	}
	_ = conn.Close()
}
