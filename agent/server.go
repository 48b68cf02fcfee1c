package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"waclaw/config"
)

// ServerKind is which program serves a local provider.
type ServerKind int

// The server kinds waclaw tells apart.
const (
	ServerUnknown ServerKind = iota
	ServerOllama
	ServerLMStudio
	ServerLlamaCpp
	ServerVLLM
)

func (k ServerKind) String() string {
	switch k {
	case ServerOllama:
		return "ollama"
	case ServerLMStudio:
		return "LM Studio"
	case ServerLlamaCpp:
		return "llama.cpp"
	case ServerVLLM:
		return "vLLM"
	}
	return "the server"
}

// ServerInfo is what a local server says about itself and one model.
type ServerInfo struct {
	Kind    ServerKind
	Version string // Ollama's
	// Loaded is true when the model is in memory now (always, for
	// llama.cpp and vLLM).
	Loaded bool
	// Context is the context, in tokens, the server gives the model now; 0
	// when it does not say (an Ollama or LM Studio model not loaded).
	Context int
	// MaxContext is the model's trained or allowed maximum; 0 when unknown.
	MaxContext int
}

// serverRoot is a provider's server address without the API's /v1.
func serverRoot(p *config.Provider) string {
	u, err := url.Parse(strings.TrimSuffix(p.BaseURL, "/"))
	if err != nil {
		return strings.TrimSuffix(p.BaseURL, "/")
	}
	u.Path = strings.TrimSuffix(u.Path, "/v1")
	return strings.TrimSuffix(u.String(), "/")
}

// Probe identifies the server behind p from the endpoints it answers
// (Ollama's /api/version, LM Studio's /api/v0/models, llama.cpp's /props,
// vLLM's max_model_len in /v1/models) and reads what it says about
// modelID. Each request is bounded by ctx. The error is that of the first
// request when the server answered none.
func Probe(ctx context.Context, client *http.Client, p *config.Provider, modelID string) (ServerInfo, error) {
	if client == nil {
		client = http.DefaultClient
	}
	pr := &prober{ctx: ctx, client: client, p: p, root: serverRoot(p)}
	var info ServerInfo
	var version struct {
		Version string `json:"version"`
	}
	if err := pr.get("/api/version", &version); err == nil && version.Version != "" {
		info = ServerInfo{Kind: ServerOllama, Version: version.Version}
		pr.ollama(modelID, &info)
		return info, nil
	} else if pr.unreachable != nil {
		return info, pr.unreachable
	}
	var lms struct {
		Data []struct {
			ID     string `json:"id"`
			State  string `json:"state"`
			Max    int    `json:"max_context_length"`
			Loaded int    `json:"loaded_context_length"`
		} `json:"data"`
	}
	if err := pr.get("/api/v0/models", &lms); err == nil && lms.Data != nil {
		info.Kind = ServerLMStudio
		for _, e := range lms.Data {
			if e.ID == modelID {
				info.Loaded = e.State == "loaded"
				info.MaxContext = e.Max
				if info.Loaded {
					info.Context = e.Loaded
				}
			}
		}
		return info, nil
	}
	var props struct {
		Settings *struct {
			NCtx int `json:"n_ctx"`
		} `json:"default_generation_settings"`
	}
	if err := pr.get("/props", &props); err == nil && props.Settings != nil {
		return ServerInfo{Kind: ServerLlamaCpp, Loaded: true, Context: props.Settings.NCtx, MaxContext: props.Settings.NCtx}, nil
	}
	var models struct {
		Data []struct {
			ID     string `json:"id"`
			MaxLen int    `json:"max_model_len"`
		} `json:"data"`
	}
	if err := pr.get(strings.TrimPrefix(strings.TrimSuffix(p.BaseURL, "/"), pr.root)+"/models", &models); err == nil {
		for _, e := range models.Data {
			if e.MaxLen > 0 {
				info.Kind = ServerVLLM
				if e.ID == modelID {
					info = ServerInfo{Kind: ServerVLLM, Loaded: true, Context: e.MaxLen, MaxContext: e.MaxLen}
				}
			}
		}
	}
	return info, nil
}

// prober makes the small GET and POST requests of Probe.
type prober struct {
	ctx         context.Context
	client      *http.Client
	p           *config.Provider
	root        string
	unreachable error // the first request got no HTTP answer
	asked       bool
}

func (pr *prober) get(path string, v any) error { return pr.do(http.MethodGet, path, nil, v) }

func (pr *prober) do(method, path string, body []byte, v any) error {
	req, err := http.NewRequestWithContext(pr.ctx, method, pr.root+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if pr.p.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+pr.p.APIKey)
	}
	for k, val := range pr.p.Headers {
		req.Header.Set(k, val)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := pr.client.Do(req)
	first := !pr.asked
	pr.asked = true
	if err != nil {
		if first {
			pr.unreachable = err
		}
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: HTTP %d", method, path, res.StatusCode)
	}
	return json.Unmarshal(data, v)
}

// ollama reads the loaded context from /api/ps and the trained maximum
// from /api/show.
func (pr *prober) ollama(modelID string, info *ServerInfo) {
	var ps struct {
		Models []struct {
			Name    string `json:"name"`
			Model   string `json:"model"`
			Context int    `json:"context_length"`
		} `json:"models"`
	}
	if pr.get("/api/ps", &ps) == nil {
		for _, m := range ps.Models {
			if sameOllamaModel(m.Name, modelID) || sameOllamaModel(m.Model, modelID) {
				info.Loaded, info.Context = true, m.Context
			}
		}
	}
	var show struct {
		Info map[string]any `json:"model_info"`
	}
	body, _ := json.Marshal(map[string]string{"model": modelID})
	if pr.do(http.MethodPost, "/api/show", body, &show) == nil {
		for k, v := range show.Info {
			if n, ok := v.(float64); ok && strings.HasSuffix(k, ".context_length") {
				info.MaxContext = int(n)
			}
		}
	}
}

// sameOllamaModel: Ollama lists "name:tag"; a bare name is ":latest".
func sameOllamaModel(listed, id string) bool {
	return listed == id || listed == id+":latest"
}

// ContextAdvice says how to give modelID a context of want tokens on a
// server of kind k.
func ContextAdvice(k ServerKind, modelID string, want int) string {
	switch k {
	case ServerOllama:
		return fmt.Sprintf("set num_ctx (PARAMETER num_ctx %d in a Modelfile) or OLLAMA_CONTEXT_LENGTH=%d for ollama serve", want, want)
	case ServerLMStudio:
		return fmt.Sprintf("load it with a longer context (lms load %s --context-length %d, or the context length setting when loading it in LM Studio)", modelID, want)
	case ServerLlamaCpp:
		return fmt.Sprintf("start llama-server with -c %d (per slot: -c is shared among --parallel slots)", want)
	case ServerVLLM:
		return fmt.Sprintf("start vllm serve with --max-model-len %d", want)
	}
	return "load the model with a longer context on the server"
}

// servers caches what each local provider's server said, per model.
type servers struct {
	client *http.Client

	mu     sync.Mutex
	kinds  map[string]ServerKind       // by provider id
	models map[string]*serverModel     // by model ref
	warned map[string]int              // the context last warned about, by model ref
	last   map[string]truncationSample // the previous answer's sizes, by model ref
}

// serverModel is one model's cached ServerInfo.
type serverModel struct {
	info    ServerInfo
	at      time.Time // when it was read
	probing bool
	ok      bool // the server answered
	learned int  // a context learned from a truncated answer, where the server does not say
}

func newServers(client *http.Client) *servers {
	return &servers{client: client, kinds: map[string]ServerKind{}, models: map[string]*serverModel{},
		warned: map[string]int{}, last: map[string]truncationSample{}}
}

// probeTimeout bounds one discovery: a local server answers at once.
const probeTimeout = 5 * time.Second

// Server returns what the server behind m's provider says about m,
// asking it now (once per call; cached for ContextLimit and keep-warm).
// Hosted providers are ServerUnknown.
func (a *Agent) Server(ctx context.Context, m *config.Model) ServerInfo {
	if !m.Provider.Local || m.Provider.API == config.APIAnthropicMessages {
		return ServerInfo{}
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	info, err := Probe(ctx, a.servers.client, m.Provider, m.ID)
	s := a.servers
	s.mu.Lock()
	sm := s.models[m.Ref()]
	if sm == nil {
		sm = &serverModel{}
		s.models[m.Ref()] = sm
	}
	sm.at, sm.ok = a.now(), err == nil
	if err == nil {
		sm.info = info
		s.kinds[m.Provider.ID] = info.Kind
	}
	s.mu.Unlock()
	if err == nil {
		a.warnContext(m, info)
	}
	return info
}

// cachedServer is the last ServerInfo read for m, and whether there is one.
func (a *Agent) cachedServer(m *config.Model) (ServerInfo, bool) {
	s := a.servers
	s.mu.Lock()
	defer s.mu.Unlock()
	sm := s.models[m.Ref()]
	if sm == nil || !sm.ok {
		return ServerInfo{}, false
	}
	return sm.info, true
}

// refreshSoon reads m's server again in the background unless it was read
// within a minute or is being read: the first time a model is needed, and
// when a model the server said was not loaded has answered (it was loaded,
// perhaps with another context).
func (a *Agent) refreshSoon(m *config.Model) {
	if !m.Provider.Local {
		return
	}
	s := a.servers
	s.mu.Lock()
	sm := s.models[m.Ref()]
	if sm == nil {
		sm = &serverModel{}
		s.models[m.Ref()] = sm
	}
	if sm.probing || (!sm.at.IsZero() && a.now().Sub(sm.at) < time.Minute) {
		s.mu.Unlock()
		return
	}
	sm.probing = true
	s.mu.Unlock()
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		a.Server(a.bgCtx, m)
		s.mu.Lock()
		sm.probing = false
		s.mu.Unlock()
	}()
}

// ContextLimit is how many tokens of context m really has: the smaller of
// what its server gives it (or, where the server does not say, where it
// was seen to cut a request) and its configured contextWindow. It never
// waits for the server: until the server has been read, and for hosted
// models, it is contextWindow.
func (a *Agent) ContextLimit(m *config.Model) int {
	limit := m.ContextWindow
	if !m.Provider.Local {
		return limit
	}
	s := a.servers
	s.mu.Lock()
	sm := s.models[m.Ref()]
	var served int
	if sm != nil {
		served = sm.info.Context
		if served == 0 {
			served = sm.learned
		}
	}
	s.mu.Unlock()
	if sm == nil {
		a.refreshSoon(m)
	}
	if served > 0 && (limit <= 0 || served < limit) {
		return served
	}
	return limit
}

// warnContext logs, once per model and context, when the config claims
// more context than the server gives the model.
func (a *Agent) warnContext(m *config.Model, info ServerInfo) {
	if info.Context <= 0 || m.ContextWindow <= info.Context {
		return
	}
	s := a.servers
	s.mu.Lock()
	seen := s.warned[m.Ref()] == info.Context
	s.warned[m.Ref()] = info.Context
	s.mu.Unlock()
	if seen {
		return
	}
	a.log.Warn(fmt.Sprintf("%s serves %s with a %d-token context, but contextWindow says %d: waclaw keeps conversations within %d; to give it more, %s",
		info.Kind, m.ID, info.Context, m.ContextWindow, info.Context, ContextAdvice(info.Kind, m.ID, m.ContextWindow)),
		"model", m.Ref(), "server_context", info.Context, "context_window", m.ContextWindow)
}

// truncationSample is one answer's request size and reported input.
type truncationSample struct{ estimate, reported int }

// requestEstimate is a rough size of req in tokens (four bytes a token):
// enough to see a request grow.
func requestEstimate(req *Request) int {
	n := len(req.Instructions)
	for _, it := range req.Input {
		n += len(it.Text) + len(it.Arguments) + len(it.Raw)
	}
	return n / 4
}

// truncated reports whether the server cut req to fit m's context without
// saying so (Ollama does: it drops the front of the conversation and
// reports its context size as the input). Against a known server context:
// the reported input fills it. Otherwise, from usage: the reported input
// stayed the same while the request grew. Such counts must not be used to
// calibrate token estimates.
func (a *Agent) truncated(m *config.Model, req *Request, u Usage) bool {
	if !m.Provider.Local || u.InputTokens <= 0 {
		return false
	}
	est := requestEstimate(req)
	info, known := a.cachedServer(m)
	if known && !info.Loaded {
		a.refreshSoon(m) // it answered, so it is loaded now: read its context
	}
	s := a.servers
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, seen := s.last[m.Ref()]
	s.last[m.Ref()] = truncationSample{est, u.InputTokens}
	if known && info.Context > 0 {
		return u.InputTokens >= info.Context
	}
	cut := seen && u.InputTokens == prev.reported && est > prev.estimate+prev.estimate/10 && est-prev.estimate >= 32 && u.InputTokens >= 256
	if cut {
		if sm := s.models[m.Ref()]; sm != nil {
			sm.learned = u.InputTokens
		} else {
			s.models[m.Ref()] = &serverModel{learned: u.InputTokens}
		}
	}
	return cut
}
