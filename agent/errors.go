package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"
	"time"

	"waclaw/config"
)

// Class is what kind of failure a model had; it decides what happens next.
type Class int

// Failure classes. All but Canceled move on to the next model; see
// cooldownFor for which also cool the model, or its whole provider, down.
const (
	Unreachable     Class = iota + 1 // connection refused or reset, DNS
	Timeout                          // silent stream, overall cap, 408
	RateLimited                      // 429
	ServerFailed                     // 5xx, mid-stream error, cut stream
	Overloaded                       // 529, overloaded_error
	Loading                          // 503 "Loading model" that outlasted the wait
	LoadFailed                       // 5xx saying the model could not be loaded, or its runner crashed
	ModelMissing                     // model not found, no model loaded
	EndpointMissing                  // the API path does not exist on the server
	EmptyReply                       // no final text: reasoning only, empty, refusal
	Malformed                        // a reply that could not be parsed
	AuthFailed                       // 401, 402, 403
	ContextOverflow                  // the request is longer than the model's context
	BadRequest                       // another 4xx
	ToolLoop                         // the tool step limit was reached
	NotConfigured                    // the provider's key is not set
	Canceled                         // the caller gave up
	// CannotSee: the turn carries pictures and the model's input does not
	// list "image". It was not called, and nothing cools down: it answers
	// the next text-only turn.
	CannotSee
)

var classNames = map[Class]string{
	Unreachable: "unreachable", Timeout: "timed out", RateLimited: "rate limited", ServerFailed: "server error",
	Overloaded: "overloaded", Loading: "still loading", LoadFailed: "failed to load", ModelMissing: "model not available",
	EndpointMissing: "endpoint missing", EmptyReply: "empty reply", Malformed: "malformed reply", AuthFailed: "not authorised",
	ContextOverflow: "context too long", BadRequest: "request refused", ToolLoop: "too many tool steps",
	NotConfigured: "not configured", Canceled: "canceled", CannotSee: "can't see pictures",
}

func (c Class) String() string {
	if s, ok := classNames[c]; ok {
		return s
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// Error is one model's failure, or why it was not tried.
type Error struct {
	Class      Class
	Model      *config.Model
	Status     int           // HTTP status, 0 when there was none
	RetryAfter time.Duration // from a Retry-After header
	Detail     string        // the server's or the network's words, for logs and /status
	Err        error
	// Cooling is set when the model was not called because it, or its
	// whole provider, was cooling down; Class, Status and Detail are then
	// those of the failure that began the cooldown.
	Cooling *Cooldown
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Model != nil {
		b.WriteString(e.Model.Ref())
		b.WriteString(": ")
	}
	if e.Cooling != nil {
		who := "it is"
		if e.Cooling.Model == "" {
			who = "its server is"
		}
		fmt.Fprintf(&b, "not tried: %s cooling down until %s after %s", who, e.Cooling.Until.Format(time.TimeOnly), e.Cooling.Last.Error())
		return b.String()
	}
	b.WriteString(e.Class.String())
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Tried reports whether the model was called: false when it was skipped
// for a cooldown, because its provider is not set up, or because it
// cannot see the turn's pictures.
func (e *Error) Tried() bool {
	return e.Cooling == nil && e.Class != NotConfigured && e.Class != CannotSee
}

// Reason is a short phrase for the user or an admin that says which kind
// of model (local or hosted) it was and what happened, naming no internals
// beyond the model: "the local model Minimax is unreachable", "the hosted
// model Opus was not tried: its server is rate limited".
func (e *Error) Reason() string {
	who := describe(e.Model)
	switch {
	case e.Cooling != nil:
		return who + " was not tried: " + e.Cooling.Why()
	case e.Class == NotConfigured:
		return who + " was not tried: it is not set up (" + e.Detail + ")"
	}
	return who + " " + e.predicate()
}

// describe names a model with its kind: "the local model Minimax".
func describe(m *config.Model) string {
	switch {
	case m == nil:
		return "the model"
	case m.Provider.Local:
		return "the local model " + m.Label()
	}
	return "the hosted model " + m.Label()
}

// predicate is what happened, said of the model, of "it" or of "its
// server": "is unreachable", "answered with nothing usable".
func (e *Error) predicate() string {
	switch e.Class {
	case Unreachable:
		return "is unreachable"
	case Timeout:
		return "stopped responding"
	case RateLimited:
		return "is rate limited"
	case ServerFailed:
		if e.Status == 502 || e.Status == 503 || e.Status == 504 {
			return fmt.Sprintf("is unavailable (HTTP %d)", e.Status)
		}
		return "had a server error"
	case Overloaded:
		return "is overloaded"
	case Loading:
		return "is still loading"
	case LoadFailed:
		return "failed to load or crashed on its server"
	case ModelMissing:
		if notLoadedText.MatchString(e.Detail) {
			return "is not loaded on its server"
		}
		return "is not found on its server"
	case EndpointMissing:
		return "has no endpoint for the configured API"
	case EmptyReply:
		return "answered with nothing usable"
	case Malformed:
		return "sent a reply that could not be read"
	case AuthFailed:
		switch e.Status {
		case 402:
			return "refused the request: payment required (check the account's credit)"
		case 403:
			return "denied access (check the API key's permissions)"
		}
		return "refused the API key"
	case ContextOverflow:
		return "cannot take a conversation this long"
	case BadRequest:
		return "refused the request"
	case ToolLoop:
		return "kept calling tools without answering"
	case NotConfigured:
		return "is not set up"
	case Canceled:
		return "was canceled"
	case CannotSee:
		return "can't see pictures"
	}
	return "failed"
}

// ErrCannotSee matches (errors.Is) the *ChainError of a turn with pictures
// that no model of its chain can see: every model was skipped as
// CannotSee, or the models that can see are not set up (or, for a
// local-only chat, not local). A seeing model that was tried and failed
// does not make it match: that turn failed for another reason. The caller
// can point the user at [Agent.Seeing].
var ErrCannotSee = errors.New("no model of the chain can see pictures")

// ErrContextOverflow matches (errors.Is) an Error of class ContextOverflow,
// which the caller may answer by shrinking the context and trying again.
var ErrContextOverflow = &Error{Class: ContextOverflow}

// Is makes errors.Is(err, ErrContextOverflow) match by class.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Model == nil && t.Class == e.Class && t.Detail == ""
}

// Overflow messages as real servers word them (see
// agenttest/testdata/README.md): OpenAI's code, llama.cpp's type and text,
// vLLM, Anthropic, LM Studio.
var overflowText = regexp.MustCompile(`(?i)context_length_exceeded|exceed_context_size|exceeds the available context|maximum context length|prompt is too long|context length|context window|too many tokens|n_ctx`)

var (
	modelMissingText = regexp.MustCompile(`(?i)no models? loaded|model\b.*(not (found|loaded)|does not exist)|model_not_found|unknown model|not a valid model|^model: \S+`)
	notLoadedText    = regexp.MustCompile(`(?i)no models? loaded|not loaded`)
	loadingText      = regexp.MustCompile(`(?i)loading model|model is loading|is currently loading`)
	overloadedText   = regexp.MustCompile(`(?i)overloaded`)
	// A model that cannot be loaded, or whose runner died: Ollama's
	// "llama runner process has terminated: ..." and "error loading
	// model ...", LM Studio's "The model has crashed ..." and "Failed to
	// load model".
	loadFailedText = regexp.MustCompile(`(?i)runner process has terminated|(error|failed to|unable to) load(ing)? (the )?model|model has crashed`)
)

// classify turns what went wrong in one call into an Error. x is what the
// transport saw of the HTTP exchange; ctx is the call's own context (for
// the idle and overall timeouts) and parent the caller's.
func classify(m *config.Model, err error, x *exchange, ctx, parent context.Context) *Error {
	var already *Error
	if errors.As(err, &already) {
		if already.Model == nil {
			already.Model = m
		}
		return already
	}
	e := &Error{Model: m, Err: err}
	if parent.Err() != nil {
		e.Class, e.Detail = Canceled, parent.Err().Error()
		return e
	}
	if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
		e.Class = Timeout
		switch {
		case errors.Is(cause, errIdle):
			e.Detail = "no data " + cause.Error()
		default:
			e.Detail = "the whole request took too long"
		}
		return e
	}

	status, retryAfter, body := 0, time.Duration(0), []byte(nil)
	if x != nil {
		status, retryAfter, body = x.snapshot()
	}
	e.Status, e.RetryAfter = status, retryAfter
	if status >= 400 || errors.Is(err, errBodyIn200) {
		e.Detail = errorMessage(body)
		e.Class = classifyStatus(status, e.Detail)
		return e
	}

	// A mid-stream error event: the SDK reports the event's data.
	msg := err.Error()
	var netErr net.Error
	var dnsErr *net.DNSError
	var syntaxErr *json.SyntaxError
	switch {
	case strings.Contains(msg, "received error while streaming"):
		e.Detail = strings.TrimPrefix(msg, "received error while streaming: ")
		e.Class = ServerFailed
		switch {
		case overflowText.MatchString(e.Detail):
			e.Class = ContextOverflow
		case loadFailedText.MatchString(e.Detail):
			e.Class = LoadFailed
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Class, e.Detail = Unreachable, "connection refused"
	case errors.As(err, &dnsErr):
		e.Class, e.Detail = Unreachable, "host not found: "+dnsErr.Name
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		e.Class, e.Detail = ServerFailed, "the connection dropped mid-reply"
	case errors.As(err, &netErr) && netErr.Timeout():
		e.Class, e.Detail = Timeout, msg
	case errors.As(err, &syntaxErr):
		e.Class, e.Detail = Malformed, msg
	default:
		e.Class, e.Detail = ServerFailed, msg
	}
	return e
}

// classifyStatus maps an HTTP status and the server's message to a class.
func classifyStatus(status int, detail string) Class {
	switch {
	case overflowText.MatchString(detail):
		return ContextOverflow
	case status == 401 || status == 402 || status == 403:
		return AuthFailed
	case status == 404 && modelMissingText.MatchString(detail):
		return ModelMissing
	case status == 404:
		return EndpointMissing
	case status == 408:
		return Timeout
	case status == 429:
		return RateLimited
	case (status >= 500 || status == 200) && loadFailedText.MatchString(detail):
		return LoadFailed
	case status == 503 && loadingText.MatchString(detail):
		return Loading
	case status == 529 || overloadedText.MatchString(detail):
		return Overloaded
	case status >= 500:
		return ServerFailed
	case status == 200 && modelMissingText.MatchString(detail):
		return ModelMissing
	case status == 200:
		return ServerFailed
	case modelMissingText.MatchString(detail):
		return ModelMissing
	}
	return BadRequest
}
