package agenttest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// What each server kind does with an idle model, as documented (see
// testdata/README.md): Ollama unloads it 5 minutes after its last request
// (OLLAMA_KEEP_ALIVE), or after the keep_alive a native request asked for;
// LM Studio unloads a just-in-time loaded model after its idle TTL, 60
// minutes unless a request's "ttl" set another; llama.cpp and vLLM keep
// their model loaded for as long as they run.
const (
	OllamaKeepAlive = 5 * time.Minute
	LMStudioTTL     = 60 * time.Minute
)

// residency is whether one model is in memory, on the fake's clock.
type residency struct {
	loaded  bool
	expires time.Time     // zero: never unloads
	ttl     time.Duration // LM Studio: the idle TTL last set for the model
}

// SetClock makes the server read time from now (a test's manual clock), for
// idle unloading. The default is time.Now.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// SetUnloadAfter sets how long an idle model stays loaded when no request
// says otherwise (OLLAMA_KEEP_ALIVE, LM Studio's default TTL); 0 keeps the
// style's default. It has no effect on styles that never unload.
func (s *Server) SetUnloadAfter(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unloadAfter = d
}

// Loaded reports whether model is in memory now, on the server's clock.
// Ollama and LM Studio start with nothing loaded and unload idle models;
// the other styles have every model loaded from the start.
func (s *Server) Loaded(model string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loadedLocked(model)
}

// ColdStarts is how many requests found their model unloaded and had to
// load it first (a user waiting for a cold start).
func (s *Server) ColdStarts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.coldStarts
}

func (s *Server) unloads() bool { return s.style == Ollama || s.style == LMStudio }

func (s *Server) loadedLocked(model string) bool {
	if !s.unloads() {
		return true
	}
	r := s.resident[canonical(s.style, model)]
	if r == nil || !r.loaded {
		return false
	}
	if !r.expires.IsZero() && !s.now().Before(r.expires) {
		r.loaded = false
	}
	return r.loaded
}

// use records a request for model: it loads the model if it was not, and
// sets when it unloads. keepAlive is a request's own idle time (Ollama's
// native keep_alive, LM Studio's ttl), or -1 when it named none; 0
// unloads at once, a negative one keeps it loaded.
func (s *Server) use(model string, keepAlive time.Duration, named bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.unloads() {
		return
	}
	id := canonical(s.style, model)
	if s.resident == nil {
		s.resident = map[string]*residency{}
	}
	r := s.resident[id]
	if r == nil {
		r = &residency{}
		s.resident[id] = r
	}
	if !s.loadedLocked(model) {
		s.coldStarts++
	}
	r.loaded = true
	idle := s.defaultIdle()
	switch {
	case s.style == LMStudio && named:
		r.ttl = keepAlive
		idle = keepAlive
	case s.style == LMStudio && r.ttl > 0:
		idle = r.ttl
	case named:
		idle = keepAlive
	}
	switch {
	case idle < 0:
		r.expires = time.Time{}
	default:
		r.expires = s.now().Add(idle)
	}
}

func (s *Server) defaultIdle() time.Duration {
	if s.unloadAfter > 0 {
		return s.unloadAfter
	}
	if s.style == LMStudio {
		return LMStudioTTL
	}
	return OllamaKeepAlive
}

// canonical is the name a server keeps a model under: Ollama's
// "name:tag" (a bare name means :latest).
func canonical(style Style, model string) string {
	if style == Ollama && model != "" && !strings.Contains(model, ":") {
		return model + ":latest"
	}
	return model
}

// requestIdle reads a model request's own idle time: LM Studio's "ttl"
// (seconds). Ollama's /v1 layer takes no keep_alive.
func (s *Server) requestIdle(body map[string]any) (time.Duration, bool) {
	if s.style != LMStudio {
		return 0, false
	}
	ttl, ok := body["ttl"].(float64)
	if !ok {
		return 0, false
	}
	return time.Duration(ttl * float64(time.Second)), true
}

// maxContext is the model's trained maximum, which the native APIs report
// beside the loaded context.
func (s *Server) maxContext() int { return max(s.contextSize, 40960) }

// serveNative answers the server kinds' own endpoints beside /v1: what a
// client reads to tell the servers apart and learn the real context. It
// reports false for a path the style does not serve.
func (s *Server) serveNative(w http.ResponseWriter, r *http.Request, path string, body []byte) bool {
	get, post := r.Method == http.MethodGet, r.Method == http.MethodPost
	switch {
	case s.style == Ollama && get && path == "/api/version":
		writeJSON(w, http.StatusOK, obj{{"version", "0.24.0"}})
	case s.style == Ollama && get && path == "/api/tags":
		s.serveOllamaTags(w)
	case s.style == Ollama && get && path == "/api/ps":
		s.serveOllamaPS(w)
	case s.style == Ollama && post && path == "/api/show":
		s.serveOllamaShow(w, body)
	case s.style == Ollama && post && path == "/api/generate":
		s.serveOllamaLoad(w, body)
	case s.style == LMStudio && get && path == "/api/v0/models":
		s.serveLMStudioModels(w)
	case s.style == LlamaCpp && get && path == "/props":
		s.mu.Lock()
		n := s.contextSize
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, obj{
			{"default_generation_settings", obj{{"n_ctx", n}, {"params", obj{{"n_predict", -1}}}}},
			{"total_slots", 1},
			{"model_path", "/models/model.gguf"},
		})
	case s.style == LlamaCpp && get && path == "/health":
		writeJSON(w, http.StatusOK, obj{{"status", "ok"}})
	default:
		return false
	}
	return true
}

func (s *Server) serveOllamaTags(w http.ResponseWriter) {
	list := []any{}
	for _, m := range s.models {
		list = append(list, obj{{"name", canonical(Ollama, m)}, {"model", canonical(Ollama, m)}, {"size", 1 << 30}})
	}
	writeJSON(w, http.StatusOK, obj{{"models", list}})
}

func (s *Server) serveOllamaPS(w http.ResponseWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []any{}
	for _, m := range s.models {
		if !s.loadedLocked(m) {
			continue
		}
		id := canonical(Ollama, m)
		list = append(list, obj{{"name", id}, {"model", id}, {"size", 1 << 30},
			{"expires_at", s.resident[id].expires.Format(time.RFC3339Nano)}, {"context_length", s.contextSize}})
	}
	writeJSON(w, http.StatusOK, obj{{"models", list}})
}

func (s *Server) serveOllamaShow(w http.ResponseWriter, body []byte) {
	var req struct {
		Model string `json:"model"`
	}
	if json.Unmarshal(body, &req) != nil || !s.serves(strings.TrimSuffix(req.Model, ":latest")) && !s.serves(req.Model) {
		writeJSON(w, http.StatusNotFound, obj{{"error", "model '" + req.Model + "' not found"}})
		return
	}
	s.mu.Lock()
	n := s.maxContext()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, obj{
		{"details", obj{{"family", "qwen3"}}},
		{"model_info", obj{{"general.architecture", "qwen3"}, {"qwen3.context_length", n}}},
	})
}

// serveOllamaLoad answers a native generate request with no prompt: it
// loads the model and sets its expiry to the request's keep_alive.
func (s *Server) serveOllamaLoad(w http.ResponseWriter, body []byte) {
	var req struct {
		Model     string          `json:"model"`
		KeepAlive json.RawMessage `json:"keep_alive"`
	}
	if json.Unmarshal(body, &req) != nil || !s.serves(strings.TrimSuffix(req.Model, ":latest")) && !s.serves(req.Model) {
		writeJSON(w, http.StatusNotFound, obj{{"error", "model '" + req.Model + "' not found"}})
		return
	}
	d, named := parseKeepAlive(req.KeepAlive)
	s.use(strings.TrimSuffix(req.Model, ":latest"), d, named)
	writeJSON(w, http.StatusOK, obj{{"model", req.Model}, {"response", ""}, {"done", true}, {"done_reason", "load"}})
}

// parseKeepAlive reads Ollama's keep_alive: a duration string ("30m") or
// a number of seconds.
func parseKeepAlive(raw json.RawMessage) (time.Duration, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		if d, err := time.ParseDuration(str); err == nil {
			return d, true
		}
		if n, err := strconv.ParseFloat(str, 64); err == nil {
			return time.Duration(n * float64(time.Second)), true
		}
		return 0, false
	}
	var n float64
	if json.Unmarshal(raw, &n) == nil {
		return time.Duration(n * float64(time.Second)), true
	}
	return 0, false
}

func (s *Server) serveLMStudioModels(w http.ResponseWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []any{}
	for _, m := range s.models {
		e := obj{{"id", m}, {"object", "model"}, {"type", "llm"}, {"publisher", "lmstudio-community"},
			{"arch", "qwen3"}, {"quantization", "Q4_K_M"}}
		if s.loadedLocked(m) {
			e = append(e, kv{k: "state", v: "loaded"}, kv{k: "max_context_length", v: s.maxContext()}, kv{k: "loaded_context_length", v: s.contextSize})
		} else {
			e = append(e, kv{k: "state", v: "not-loaded"}, kv{k: "max_context_length", v: s.maxContext()})
		}
		list = append(list, e)
	}
	writeJSON(w, http.StatusOK, obj{{"object", "list"}, {"data", list}})
}
