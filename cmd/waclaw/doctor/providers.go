package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"waclaw/agent"
	"waclaw/config"
)

// The warm-up is one short stateless question.
const (
	warmupInstructions = "You are checking that you work. Answer in one short sentence."
	warmupQuestion     = "Say hello."
	warmupMaxTokens    = 1024 // room for a reasoning model to think a little first
)

// checkChain checks each provider the primary or a fallback uses, in
// chain order.
func (d *doctor) checkChain(ctx context.Context, cfg *config.Config) {
	var order []*config.Provider
	models := map[*config.Provider][]*config.Model{}
	for _, m := range cfg.Chain() {
		if m == nil {
			continue
		}
		if _, seen := models[m.Provider]; !seen {
			order = append(order, m.Provider)
		}
		models[m.Provider] = append(models[m.Provider], m)
	}
	for _, p := range order {
		d.checkProvider(ctx, p, models[p])
	}
	d.checkFallback(cfg)
}

// checkFallback says, when no fallback is configured, what happens when
// the primary cannot answer, and how to add one.
func (d *doctor) checkFallback(cfg *config.Config) {
	if len(cfg.Fallbacks) > 0 {
		return // the chain above lists them
	}
	d.add(Check{Name: "fallback", Status: OK, Detail: fmt.Sprintf(
		"none: when %s cannot answer, chats get a short apology and nothing goes to a hosted model; to add one, set ANTHROPIC_API_KEY and add agents.defaults.model.fallbacks: [\"anthropic/claude-sonnet-4-5\"]",
		cfg.Primary.Ref())})
}

// checkProvider: the key, the models list, then per model whether it is
// listed, a cold and a warm request (which also show whether the API
// endpoint exists) and, where the server says, its context length.
func (d *doctor) checkProvider(ctx context.Context, p *config.Provider, models []*config.Model) {
	if !d.checkKey(p) {
		return
	}
	listed, reachable := d.checkServer(ctx, p)
	if !reachable {
		return
	}
	kind, _ := d.serverKind(ctx, p, models[0].ID)
	prov, err := agent.NewProvider(p, d.HTTPClient)
	if err != nil {
		d.add(Check{Name: p.ID + ": endpoint", Status: Fail, Required: true, Detail: err.Error(),
			Advice: fmt.Sprintf("set models.providers.%s.api to openai-responses, openai-completions or anthropic-messages", p.ID)})
		return
	}
	endpointChecked := false
	for _, m := range models {
		if listed != nil && !d.checkListed(p, kind, m, listed) {
			continue
		}
		first, latency, text, failure := d.warmup(ctx, prov, kind, m)
		if !endpointChecked {
			if ok, decided := d.checkEndpoint(p, first); decided {
				endpointChecked = true
				if !ok {
					return // every model of this provider would fail the same way
				}
			}
		}
		c := Check{Name: m.Ref() + ": warm-up", Required: true}
		for _, l := range latency {
			c.LatencyMS = append(c.LatencyMS, l.Milliseconds())
		}
		switch {
		case failure != nil && len(latency) == 1:
			c.Status, c.Detail, c.Advice = Fail, fmt.Sprintf("cold %s, then the warm request failed: %s", fmtLatency(latency[0]), failure.detail), failure.advice
		case failure != nil:
			c.Status, c.Detail, c.Advice = Fail, failure.detail, failure.advice
		default:
			c.Status, c.Detail = OK, fmt.Sprintf("cold %s, warm %s: %q", fmtLatency(latency[0]), fmtLatency(latency[1]), shorten(text, 60))
		}
		d.add(c)
		if failure == nil && p.Local && p.API != config.APIAnthropicMessages {
			d.checkContext(ctx, p, m)
		}
	}
}

// checkKey reports whether the provider has the key it needs; a provider
// without one gets no further checks.
func (d *doctor) checkKey(p *config.Provider) bool {
	c := Check{Name: p.ID + ": key", Required: true}
	defer func() { d.add(c) }()
	switch {
	case p.Unavailable() != "":
		c.Status, c.Detail = Fail, p.Unavailable()
		c.Advice = fmt.Sprintf("set %s in waclaw's environment (under systemd: in the EnvironmentFile)", strings.Join(p.MissingEnv, " and "))
		return false
	case p.APIKey != "":
		c.Status, c.Detail = OK, "set"
	case p.Local:
		c.Status, c.Detail = OK, "none needed (local server)"
	default:
		c.Status, c.Detail = Warn, "none configured for a hosted provider"
		c.Advice = fmt.Sprintf(`set models.providers.%s.apiKey, for example to "${%s_API_KEY}"`, p.ID, strings.ToUpper(p.ID))
	}
	return true
}

// checkServer lists the server's models: GET {baseUrl}/models (Anthropic:
// {baseUrl}/v1/models). It returns the ids (nil when the server has no
// such list) and whether the server answered usably at all.
func (d *doctor) checkServer(ctx context.Context, p *config.Provider) (ids []string, reachable bool) {
	c := Check{Name: p.ID + ": server", Required: true}
	defer func() { d.add(c) }()
	u := modelsURL(p)
	res, body, err := d.get(ctx, p, u)
	switch {
	case err != nil:
		c.Status, c.Detail, c.Advice = Fail, "GET "+u+": "+netReason(err, d.Timeout), startAdvice(p, guessKind(p), firstModel(p))
		return nil, false
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
		c.Status, c.Detail, c.Advice = Fail, fmt.Sprintf("GET %s: HTTP %d, the key was refused", u, res.StatusCode), keyAdvice(p)
		return nil, false
	case res.StatusCode != http.StatusOK:
		c.Status, c.Detail = Warn, fmt.Sprintf("GET %s: HTTP %d, so the model ids are not checked", u, res.StatusCode)
		c.Advice = baseURLAdvice(p)
		return nil, true
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &list); err != nil || list.Data == nil {
		c.Status, c.Detail = Warn, fmt.Sprintf("GET %s: not a models list, so the model ids are not checked", u)
		c.Advice = baseURLAdvice(p)
		return nil, true
	}
	ids = make([]string, 0, len(list.Data))
	for _, m := range list.Data {
		ids = append(ids, m.ID)
	}
	c.Status, c.Detail = OK, fmt.Sprintf("GET %s: %s", u, plural(len(ids), "model", "models"))
	return ids, true
}

// checkListed reports whether the server lists m; when it does not, the
// report shows the ids it does list, closest first.
func (d *doctor) checkListed(p *config.Provider, kind agent.ServerKind, m *config.Model, ids []string) bool {
	c := Check{Name: m.Ref() + ": listed", Required: true}
	defer func() { d.add(c) }()
	if as, ok := findListed(p, m.ID, ids); ok {
		c.Status, c.Detail = OK, "the server lists "+m.ID
		if as != m.ID {
			c.Detail += " (as " + as + ")"
		}
		return true
	}
	c.Status = Fail
	if len(ids) == 0 {
		c.Detail = "the server lists no models"
		c.Advice = getModelAdvice(kind, m.ID)
		return false
	}
	closest := config.ByCloseness(m.ID, ids)
	shown := closest[:min(len(closest), 5)]
	c.Detail = fmt.Sprintf("%s is not listed; the server lists %s", m.ID, strings.Join(shown, ", "))
	if more := len(closest) - len(shown); more > 0 {
		c.Detail += fmt.Sprintf(" and %d more", more)
	}
	c.Advice = fmt.Sprintf("set the model id in models.providers.%s.models to one the server lists (closest: %q), or get it: %s", p.ID, closest[0], getModelAdvice(kind, m.ID))
	return false
}

// datedID is Anthropic's listing of an alias: claude-sonnet-4-5 is listed
// as claude-sonnet-4-5-20250929.
var datedID = regexp.MustCompile(`^-\d{8}$`)

func findListed(p *config.Provider, id string, ids []string) (string, bool) {
	if slices.Contains(ids, id) {
		return id, true
	}
	for _, l := range ids {
		if p.API == config.APIAnthropicMessages && strings.HasPrefix(l, id) && datedID.MatchString(l[len(id):]) {
			return l, true
		}
		if l == id+":latest" { // Ollama
			return l, true
		}
	}
	return "", false
}

// checkEndpoint judges the API endpoint from the first warm-up request:
// decided is false when that request never reached it.
func (d *doctor) checkEndpoint(p *config.Provider, first error) (ok, decided bool) {
	var ae *agent.Error
	if errors.As(first, &ae) {
		switch ae.Class {
		case agent.Unreachable, agent.Timeout, agent.Canceled:
			return false, false
		}
	}
	c := Check{Name: p.ID + ": endpoint", Required: true}
	u := endpointURL(p)
	if ae != nil && ae.Class == agent.EndpointMissing {
		c.Status, c.Detail = Fail, fmt.Sprintf("POST %s: HTTP %d, the server has no such endpoint", u, ae.Status)
		switch p.API {
		case config.APIOpenAIResponses:
			c.Advice = fmt.Sprintf(`set models.providers.%s.api to "openai-completions", or update the server (LM Studio 0.3.29 or newer serves /v1/responses)`, p.ID)
		default:
			c.Advice = baseURLAdvice(p)
		}
		d.add(c)
		return false, true
	}
	c.Status, c.Detail = OK, "POST "+u+" exists"
	d.add(c)
	return true, true
}

// failure is why a warm-up failed, in words, and what to do.
type failure struct{ detail, advice string }

// warmup asks m twice: the first latency is the cold one (it may include
// loading the model), the second the warm one. first is the first
// request's error, for the endpoint check.
func (d *doctor) warmup(ctx context.Context, prov agent.Provider, kind agent.ServerKind, m *config.Model) (first error, latency []time.Duration, text string, f *failure) {
	req := &agent.Request{
		Instructions:    warmupInstructions,
		Input:           []agent.Item{{Kind: agent.ItemMessage, Role: agent.RoleUser, Text: warmupQuestion}},
		MaxOutputTokens: min(m.MaxTokens, warmupMaxTokens),
	}
	for i := range 2 {
		callCtx, cancel := context.WithTimeout(ctx, d.WarmupTimeout)
		start := time.Now()
		res, err := prov.Complete(callCtx, m, req)
		elapsed := time.Since(start)
		timedOut := callCtx.Err() != nil && ctx.Err() == nil
		cancel()
		if i == 0 {
			first = err
		}
		if err == nil && strings.TrimSpace(res.Text) == "" {
			err = &agent.Error{Class: agent.EmptyReply, Model: m}
		}
		if err != nil {
			return first, latency, "", d.explain(kind, m, err, timedOut)
		}
		latency = append(latency, elapsed)
		text = res.Text
	}
	return first, latency, strings.TrimSpace(text), nil
}

// explain turns a warm-up error into what happened and what to do.
func (d *doctor) explain(kind agent.ServerKind, m *config.Model, err error, timedOut bool) *failure {
	p := m.Provider
	if timedOut {
		return &failure{fmt.Sprintf("no answer within %s", d.WarmupTimeout),
			"the model may still be loading: watch the server's log, then run waclaw doctor again"}
	}
	var ae *agent.Error
	if !errors.As(err, &ae) {
		return &failure{oneLine(err.Error()), "see the server's log"}
	}
	detail := oneLine(strings.TrimPrefix(ae.Error(), m.Ref()+": "))
	switch ae.Class {
	case agent.Unreachable:
		return &failure{detail, startAdvice(p, kind, m.ID)}
	case agent.Timeout:
		return &failure{detail, "the model stopped answering: check the server's log and that the model fits in memory"}
	case agent.Loading:
		return &failure{detail, "the model is still loading: run waclaw doctor again in a minute"}
	case agent.ModelMissing:
		return &failure{detail, getModelAdvice(kind, m.ID) + ", or fix the model id"}
	case agent.LoadFailed:
		return &failure{detail, loadFailedAdvice(kind, m.ID)}
	case agent.AuthFailed, agent.NotConfigured:
		return &failure{detail, keyAdvice(p)}
	case agent.EmptyReply:
		return &failure{detail, fmt.Sprintf("check the model's chat template on the server, or raise maxTokens of %s", m.Ref())}
	case agent.ContextOverflow:
		return &failure{detail, agent.ContextAdvice(kind, m.ID, m.ContextWindow)}
	case agent.RateLimited, agent.Overloaded:
		return &failure{detail, "the provider is busy or rate limiting: run waclaw doctor again later"}
	case agent.EndpointMissing:
		return &failure{detail, baseURLAdvice(p)}
	}
	return &failure{detail, "see the server's log"}
}

// checkContext compares the configured contextWindow with the context
// the server really gives the model (Ollama's /api/ps, LM Studio's
// /api/v0/models, llama.cpp's /props, vLLM's max_model_len), read after the
// warm-up has loaded it. A server that says nothing gets no line.
func (d *doctor) checkContext(ctx context.Context, p *config.Provider, m *config.Model) {
	kind, info := d.serverKind(ctx, p, m.ID)
	if info.Kind == agent.ServerUnknown || (info.Context == 0 && info.MaxContext == 0) {
		return
	}
	c := Check{Name: m.Ref() + ": context"}
	cw := m.ContextWindow
	switch {
	case info.Context > 0:
		c.Status, c.Detail = OK, fmt.Sprintf("%s serves %s with %d tokens of context; contextWindow says %d", kind, m.ID, info.Context, cw)
		if cw > info.Context {
			c.Status = Warn
			c.Detail += fmt.Sprintf(": waclaw keeps conversations within %d", info.Context)
			c.Advice = fmt.Sprintf("%s, or set contextWindow of %s to %d", agent.ContextAdvice(kind, m.ID, cw), m.Ref(), info.Context)
		}
		if info.MaxContext > info.Context {
			c.Detail += fmt.Sprintf(" (the model allows up to %d)", info.MaxContext)
		}
	case cw > info.MaxContext:
		c.Status, c.Detail = Warn, fmt.Sprintf("contextWindow %d is more than the model's maximum, %d", cw, info.MaxContext)
		c.Advice = fmt.Sprintf("set contextWindow of %s to %d or less", m.Ref(), info.MaxContext)
	default:
		c.Status, c.Detail = OK, fmt.Sprintf("contextWindow %d; the model allows up to %d (%s does not say what it loaded)", cw, info.MaxContext, kind)
	}
	d.add(c)
}

// get fetches u with the provider's auth and headers, within the probe
// timeout, and reads the body.
func (d *doctor) get(ctx context.Context, p *config.Provider, u string) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	authorize(req, p)
	res, err := d.HTTPClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if err != nil {
		return nil, nil, err
	}
	return res, body, nil
}

// authorize sets p's key and headers on req, as p's API wants them.
func authorize(req *http.Request, p *config.Provider) {
	if p.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+p.APIKey)
		if p.API == config.APIAnthropicMessages {
			req.Header.Set("x-api-key", p.APIKey)
		}
	}
	if p.API == config.APIAnthropicMessages {
		req.Header.Set("anthropic-version", "2023-06-01")
	}
	for k, v := range p.Headers {
		req.Header.Set(k, v)
	}
}

func modelsURL(p *config.Provider) string {
	base := strings.TrimSuffix(p.BaseURL, "/")
	if p.API == config.APIAnthropicMessages {
		return base + "/v1/models?limit=1000"
	}
	return base + "/models"
}

func endpointURL(p *config.Provider) string {
	base := strings.TrimSuffix(p.BaseURL, "/")
	switch p.API {
	case config.APIOpenAIResponses:
		return base + "/responses"
	case config.APIOpenAICompletions:
		return base + "/chat/completions"
	}
	return base + "/v1/messages"
}

// netReason says in a few words why a request got no HTTP answer.
func netReason(err error, timeout time.Duration) string {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &dnsErr):
		return "host not found: " + dnsErr.Name
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer within %s", timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

func keyAdvice(p *config.Provider) string {
	if len(p.MissingEnv) == 0 && p.APIKey == "" {
		return fmt.Sprintf("set models.providers.%s.apiKey", p.ID)
	}
	return fmt.Sprintf("check the key in models.providers.%s.apiKey (and the variable it names)", p.ID)
}

func baseURLAdvice(p *config.Provider) string {
	if p.API == config.APIAnthropicMessages {
		return fmt.Sprintf("check models.providers.%s.baseUrl: the server's root without /v1, such as https://api.anthropic.com", p.ID)
	}
	return fmt.Sprintf("check models.providers.%s.baseUrl: the API root, such as http://127.0.0.1:1234/v1", p.ID)
}

func fmtLatency(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
