package agenttest

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// errDetail is one error answer, before the style wraps it in its envelope.
type errDetail struct {
	status  int
	typ     string
	code    any // a string or nil; llama.cpp and vLLM put the status here
	message string
	param   any
	extra   obj // more members of the error object (llama.cpp's n_ctx ...)
}

// overflowTokens returns the prompt size an overflow answer reports, and the
// context size it is measured against.
func (s *Server) overflowTokens(c *call) (prompt, size int) {
	s.mu.Lock()
	size = s.contextSize
	s.mu.Unlock()
	prompt = c.reply.InputTokens
	if prompt <= size {
		prompt = size + max(1, len(c.raw)/4)
	}
	return prompt, size
}

// errorDetail returns what the style answers for fault f.
func (s *Server) errorDetail(c *call, f Fault) errDetail {
	model := c.model
	switch s.style {
	case Ollama:
		return s.ollamaError(c, f)
	case LlamaCpp:
		return s.llamaCppError(c, f)
	case VLLM:
		return s.vllmError(c, f)
	case OpenAI:
		return s.openAIError(c, f)
	case Anthropic:
		return s.anthropicError(c, f)
	}
	// LM Studio.
	switch f {
	case NoModelsLoaded:
		return errDetail{status: 404, typ: "invalid_request_error", code: "model_not_found", param: "model",
			message: "No models loaded. Please load a model in the developer page or use the `lms load` command."}
	case ModelNotFound:
		return errDetail{status: 404, typ: "invalid_request_error", code: "model_not_found", param: "model",
			message: fmt.Sprintf("Invalid model identifier %q. Please specify a valid downloaded model (e.g. by running `lms ls`).", model)}
	case Loading, Overloaded:
		return errDetail{status: 503, typ: "server_error", message: "Model is loading. Please try again shortly."}
	case RateLimited:
		return errDetail{status: 429, typ: "rate_limit_error", message: "Too many requests"}
	case Unauthorized:
		return errDetail{status: 401, typ: "invalid_request_error", code: "invalid_api_key", message: "Invalid or missing API token"}
	case ContextOverflow:
		return errDetail{status: 400, typ: "invalid_request_error",
			message: "The number of tokens to keep from the initial prompt is greater than the context length. Try to load the model with a larger context length, or provide a shorter input"}
	}
	return errDetail{status: 500, typ: "server_error", message: "The model has crashed without additional information. (Exit code: null)"}
}

func (s *Server) ollamaError(c *call, f Fault) errDetail {
	switch f {
	case ModelNotFound, NoModelsLoaded:
		return errDetail{status: 404, typ: "not_found_error", message: fmt.Sprintf("model '%s' not found", c.model)}
	case Loading, Overloaded:
		return errDetail{status: 503, typ: "api_error", message: "server busy, please try again.  maximum pending requests exceeded"}
	case RateLimited:
		return errDetail{status: 429, typ: "api_error", message: "too many requests"}
	case Unauthorized:
		return errDetail{status: 401, typ: "api_error", message: "unauthorized"}
	case ContextOverflow:
		// Ollama truncates instead; this only serves a streamed error event.
		return errDetail{status: 400, typ: "invalid_request_error", message: "input length exceeds the context length"}
	}
	return errDetail{status: 500, typ: "api_error", message: "llama runner process has terminated: exit status 2"}
}

func (s *Server) llamaCppError(c *call, f Fault) errDetail {
	switch f {
	case ModelNotFound, NoModelsLoaded:
		return errDetail{status: 404, typ: "not_found_error", message: fmt.Sprintf("model '%s' not found", c.model)}
	case Loading, Overloaded:
		return errDetail{status: 503, typ: "unavailable_error", message: "Loading model"}
	case RateLimited:
		return errDetail{status: 429, typ: "unavailable_error", message: "Too many requests"}
	case Unauthorized:
		return errDetail{status: 401, typ: "authentication_error", message: "Invalid API Key"}
	case ContextOverflow:
		prompt, size := s.overflowTokens(c)
		return errDetail{status: 400, typ: "exceed_context_size_error",
			message: fmt.Sprintf("request (%d tokens) exceeds the available context size (%d tokens), try increasing it", prompt, size),
			extra:   obj{{"n_prompt_tokens", prompt}, {"n_ctx", size}}}
	}
	return errDetail{status: 500, typ: "server_error", message: "Internal Server Error"}
}

func (s *Server) vllmError(c *call, f Fault) errDetail {
	switch f {
	case ModelNotFound, NoModelsLoaded:
		return errDetail{status: 404, typ: "NotFoundError", message: fmt.Sprintf("The model `%s` does not exist.", c.model)}
	case Loading, Overloaded:
		return errDetail{status: 503, typ: "ServiceUnavailableError", message: "The server is not ready to accept requests yet."}
	case RateLimited:
		return errDetail{status: 429, typ: "TooManyRequestsError", message: "Too many requests"}
	case Unauthorized:
		return errDetail{status: 401, typ: "Unauthorized", message: "Unauthorized"}
	case ContextOverflow:
		prompt, size := s.overflowTokens(c)
		return errDetail{status: 400, typ: "BadRequestError",
			message: fmt.Sprintf("This model's maximum context length is %d tokens. However, your request has %d input tokens. Please reduce the length of the input messages.", size, prompt)}
	}
	return errDetail{status: 500, typ: "InternalServerError", message: "EngineCore encountered an issue. See stack trace (above) for the root cause."}
}

func (s *Server) openAIError(c *call, f Fault) errDetail {
	switch f {
	case ModelNotFound, NoModelsLoaded:
		return errDetail{status: 404, typ: "invalid_request_error", code: "model_not_found",
			message: fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", c.model)}
	case Loading, Overloaded:
		return errDetail{status: 503, typ: "server_error", message: "The engine is currently overloaded, please try again later"}
	case RateLimited:
		return errDetail{status: 429, typ: "requests", code: "rate_limit_exceeded",
			message: fmt.Sprintf("Rate limit reached for %s on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.", c.model)}
	case Unauthorized:
		return errDetail{status: 401, typ: "invalid_request_error", code: "invalid_api_key",
			message: "Incorrect API key provided: sk-fake. You can find your API key at https://platform.openai.com/account/api-keys."}
	case ContextOverflow:
		if c.api == apiResponses {
			return errDetail{status: 400, typ: "invalid_request_error", code: "context_length_exceeded", param: "input",
				message: "Your input exceeds the context window of this model. Please adjust your input and try again."}
		}
		prompt, size := s.overflowTokens(c)
		return errDetail{status: 400, typ: "invalid_request_error", code: "context_length_exceeded", param: "messages",
			message: fmt.Sprintf("This model's maximum context length is %d tokens. However, your messages resulted in %d tokens. Please reduce the length of the messages.", size, prompt)}
	}
	return errDetail{status: 500, typ: "server_error", message: "The server had an error while processing your request. Sorry about that!"}
}

func (s *Server) anthropicError(c *call, f Fault) errDetail {
	switch f {
	case ModelNotFound, NoModelsLoaded:
		return errDetail{status: 404, typ: "not_found_error", message: "model: " + c.model}
	case Loading:
		return errDetail{status: 503, typ: "api_error", message: "Service unavailable"}
	case Overloaded:
		return errDetail{status: 529, typ: "overloaded_error", message: "Overloaded"}
	case RateLimited:
		return errDetail{status: 429, typ: "rate_limit_error",
			message: "This request would exceed the rate limit for your organization of 50 requests per minute. Please try again later."}
	case Unauthorized:
		return errDetail{status: 401, typ: "authentication_error", message: "invalid x-api-key"}
	case ContextOverflow:
		prompt, size := s.overflowTokens(c)
		return errDetail{status: 400, typ: "invalid_request_error", message: fmt.Sprintf("prompt is too long: %d tokens > %d maximum", prompt, size)}
	case StreamError:
		return errDetail{status: 529, typ: "overloaded_error", message: "Overloaded"}
	}
	return errDetail{status: 500, typ: "api_error", message: "Internal server error"}
}

// errorObject is the inner error object in the style's member order.
func (s *Server) errorObject(e errDetail) obj {
	var o obj
	switch s.style {
	case LlamaCpp:
		o = obj{{"code", e.status}, {"message", e.message}, {"type", e.typ}}
	case VLLM:
		o = obj{{"message", e.message}, {"type", e.typ}, {"param", e.param}, {"code", e.status}}
	case Anthropic:
		o = obj{{"type", e.typ}, {"message", e.message}}
	default:
		o = obj{{"message", e.message}, {"type", e.typ}, {"param", e.param}, {"code", e.code}}
	}
	return append(o, e.extra...)
}

// errorEnvelope is the whole error body in the style's shape.
func (s *Server) errorEnvelope(e errDetail) obj {
	switch s.style {
	case Anthropic:
		return obj{{"type", "error"}, {"error", s.errorObject(e)}, {"request_id", fmt.Sprintf("req_011CFake%06d", s.newID())}}
	case VLLM:
		s.mu.Lock()
		legacy := s.legacy
		s.mu.Unlock()
		if legacy {
			return append(obj{{"object", "error"}}, s.errorObject(e)...)
		}
	}
	return obj{{"error", s.errorObject(e)}}
}

// writeError answers with the style's HTTP error for fault f.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, c *call, f Fault) {
	switch {
	case f == EndpointMissing:
		s.writeEndpointMissing(w, r)
		return
	case f == StringError:
		writeJSON(w, http.StatusBadRequest, obj{{"error", "Invalid request: the request could not be parsed"}})
		return
	case f == Unauthorized && s.style == VLLM:
		writeJSON(w, http.StatusUnauthorized, obj{{"error", "Unauthorized"}})
		return
	}
	e := s.errorDetail(c, f)
	if f == RateLimited && c.reply.RetryAfter > 0 {
		secs := int((c.reply.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	if s.style == Anthropic {
		w.Header().Set("request-id", fmt.Sprintf("req_011CFake%06d", s.newID()))
	}
	writeJSON(w, e.status, s.errorEnvelope(e))
}

// writeBadRequest answers a body that is not JSON, as the style does.
func (s *Server) writeBadRequest(w http.ResponseWriter, c *call, msg string) {
	e := errDetail{status: 400, typ: "invalid_request_error", message: msg}
	switch s.style {
	case VLLM:
		e.typ = "BadRequestError"
	case Ollama:
		w.Header().Set("Content-Type", "application/json; charset=utf-8") // Gin's, for its 400s
	case OpenAI:
		e.message = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)"
	}
	writeJSON(w, http.StatusBadRequest, s.errorEnvelope(e))
}

// writeEndpointMissing answers a path the server does not have, the way an
// old or different server does.
func (s *Server) writeEndpointMissing(w http.ResponseWriter, r *http.Request) {
	route := fmt.Sprintf("%s %s", r.Method, r.URL.Path)
	if s.style == Anthropic {
		w.Header().Set("request-id", fmt.Sprintf("req_011CFake%06d", s.newID()))
	}
	switch s.style {
	case LMStudio:
		writeJSON(w, http.StatusNotFound, obj{{"error", fmt.Sprintf("Unexpected endpoint or method. (%s)", route)}})
	case Ollama:
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("404 page not found"))
	case LlamaCpp:
		writeJSON(w, http.StatusNotFound, s.errorEnvelope(errDetail{status: 404, typ: "not_found_error", message: "File Not Found"}))
	case VLLM:
		writeJSON(w, http.StatusNotFound, obj{{"detail", "Not Found"}})
	case OpenAI:
		writeJSON(w, http.StatusNotFound, s.errorEnvelope(errDetail{status: 404, typ: "invalid_request_error", message: fmt.Sprintf("Invalid URL (%s)", route)}))
	default:
		writeJSON(w, http.StatusNotFound, s.errorEnvelope(errDetail{status: 404, typ: "not_found_error", message: "Not Found"}))
	}
}

// errorIn200Message is what an HTTP 200 error body says when the fault is
// ErrorIn200 itself.
func (s *Server) errorIn200Message() string {
	return `Error rendering prompt with jinja template: "Conversation roles must alternate user/assistant/user/assistant/...".`
}

// writeErrorIn200 answers HTTP 200 with an error as the body, or, streamed,
// an event stream whose only event is the error.
func (s *Server) writeErrorIn200(c *call, msg string) {
	e := errDetail{status: 400, typ: "invalid_request_error", message: msg}
	if !c.stream {
		writeJSON(c.w, http.StatusOK, s.errorEnvelope(e))
		return
	}
	s.writeStreamEvents(c, []sseEvent{s.errorEvent(c, e, 0)})
}
