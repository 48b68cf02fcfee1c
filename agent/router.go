package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"waclaw/agent/defuse"
	"waclaw/config"
	"waclaw/config/clock"
	"waclaw/store"
)

// UsageRecorder keeps a row per model attempt; *store.Store is one.
type UsageRecorder interface {
	RecordUsage(ctx context.Context, u store.Usage) error
}

// Options are an Agent's collaborators; every field may be left zero.
type Options struct {
	HTTPClient *http.Client
	Usage      UsageRecorder
	Logger     *slog.Logger
	Now        func() time.Time                                 // the clock for cooldowns
	Sleep      func(ctx context.Context, d time.Duration) error // waits for a loading model
	Providers  map[string]Provider                              // by provider id, replacing the built adapters (tests)
}

// Agent answers a conversation with the first model of the chain that can:
// the chat's model, then the configured primary and fallbacks.
type Agent struct {
	cfg       *config.Config
	providers map[string]Provider
	tools     []Tool
	usage     UsageRecorder
	log       *slog.Logger
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration) error

	mu       sync.Mutex
	health   map[healthKey]*health // by model, and by provider for what is the server's
	lastUsed map[string]time.Time  // last request to each provider, for keep-warm
	warmed   map[string]time.Time  // last keep-warm ping to each provider
	servers  *servers              // what each local server said (server.go)

	// Background reads of what a server is (refreshSoon) run under bgCtx;
	// Close cancels them and waits, so none outlives the agent.
	bgCtx  context.Context
	bgStop context.CancelFunc
	bg     sync.WaitGroup
}

// Close stops the agent's background work (reading what local servers
// are) and waits for it to end.
func (a *Agent) Close() {
	a.bgStop()
	a.bg.Wait()
}

// New builds an Agent for cfg.
func New(cfg *config.Config, opts Options) (*Agent, error) {
	a := &Agent{
		cfg: cfg, usage: opts.Usage, log: opts.Logger, now: opts.Now, sleep: opts.Sleep,
		providers: map[string]Provider{}, health: map[healthKey]*health{}, lastUsed: map[string]time.Time{},
		warmed: map[string]time.Time{}, servers: newServers(opts.HTTPClient),
	}
	a.bgCtx, a.bgStop = context.WithCancel(context.Background())
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.sleep == nil {
		a.sleep = clock.Sleep
	}
	for _, p := range cfg.Providers {
		if prov, ok := opts.Providers[p.ID]; ok {
			a.providers[p.ID] = prov
			continue
		}
		prov, err := NewProvider(p, opts.HTTPClient)
		if err != nil {
			return nil, err
		}
		a.providers[p.ID] = prov
	}
	builtin := builtinTools(a.now)
	for _, name := range cfg.Agent.Tools {
		t, ok := builtin[name]
		if !ok {
			return nil, fmt.Errorf("unknown tool %q", name)
		}
		a.tools = append(a.tools, t)
	}
	return a, nil
}

// Conversation is one turn's input.
type Conversation struct {
	ChatID       string        // for usage rows; "" for a stateless question
	Instructions string        // "" for the configured system prompt
	Messages     []Item        // the context: history, then the new message
	Model        *config.Model // the chat's choice; nil for the configured primary
	// MaxOutputTokens caps the answer; 0 for each model's maxTokens.
	MaxOutputTokens int
	// LocalOnly skips hosted providers, even as fallbacks: the chat's text
	// stays on the user's own machines (/privacy local).
	LocalOnly bool
	// NoTools offers no tools even when some are configured (the
	// summariser reads untrusted text and needs none).
	NoTools bool
	// CanShrink makes a context overflow end the turn with
	// ErrContextOverflow (so the caller can compact and call again)
	// instead of moving on to the next model.
	CanShrink bool
	// Stream, when set, receives the answer while it is written (see
	// Stream).
	Stream Stream
}

// Outcome is how a turn went.
type Outcome struct {
	Model    *config.Model // the model that answered; nil if none did
	Failures []*Error      // the models that failed or were skipped before it, in order
	Usage    Usage         // of the answering model, all tool steps
	Cost     float64       // of every attempt, in US dollars
	Latency  time.Duration // of the whole turn
	Steps    int           // model calls in the answering attempt
	// Truncated is set when the server silently cut the request to fit its
	// context (Ollama): the answer saw only the end of the conversation,
	// and Usage.InputTokens is the server's context, not the request's
	// size, so it must not calibrate estimates. The caller should compact.
	Truncated bool
}

// FellBack reports whether a model other than the chosen one answered.
func (o *Outcome) FellBack() bool { return o.Model != nil && len(o.Failures) > 0 }

// Reasons lists why each earlier model failed, for logs and notices.
func (o *Outcome) Reasons() string {
	var rs []string
	for _, f := range o.Failures {
		rs = append(rs, f.Reason())
	}
	return strings.Join(rs, "; ")
}

// ChainError is returned when no model could answer.
type ChainError struct {
	Failures []*Error
	// CutOff: the last model failed after part of its answer had been
	// committed to the Stream, and no other model was asked.
	CutOff bool
	// Blind: the turn carried pictures and no model of the chain that can
	// see them could be asked (see ErrCannotSee).
	Blind bool
}

// Is matches ErrCutOff for a turn that was cut off, and ErrCannotSee for
// one with pictures that no model could be asked to see.
func (e *ChainError) Is(target error) bool {
	return target == ErrCutOff && e.CutOff || target == ErrCannotSee && e.Blind
}

func (e *ChainError) Error() string {
	var b strings.Builder
	b.WriteString("no model could answer")
	for _, f := range e.Failures {
		b.WriteString("; ")
		b.WriteString(f.Error())
	}
	return b.String()
}

// Unwrap exposes each model's failure to errors.Is and errors.As.
func (e *ChainError) Unwrap() []error {
	out := make([]error, len(e.Failures))
	for i, f := range e.Failures {
		out[i] = f
	}
	return out
}

// Chain is the order models are tried in for a chat that chose m (nil for
// none): m, then the configured primary and fallbacks, each once.
func (a *Agent) Chain(m *config.Model) []*config.Model {
	chain := a.cfg.Chain()
	if m != nil {
		chain = append([]*config.Model{m}, slices.DeleteFunc(chain, func(x *config.Model) bool { return x == m })...)
	}
	return chain
}

// Candidates is the part of Chain(m) that can answer a chat at all, in
// order: models whose provider is set up and, for a local-only chat,
// local ones. Cooldowns are not considered: they pass.
func (a *Agent) Candidates(m *config.Model, localOnly bool) []*config.Model {
	return slices.DeleteFunc(a.Chain(m), func(x *config.Model) bool {
		return x.Provider.Unavailable() != "" || localOnly && !x.Provider.Local
	})
}

// Seeing lists the models a chat could switch to for pictures: every
// configured model that can see and whose provider is set up (only local
// ones when localOnly), those of the chain first in its order, then the
// rest of the catalog.
func (a *Agent) Seeing(localOnly bool) []*config.Model {
	var out []*config.Model
	for _, m := range append(a.cfg.Chain(), a.cfg.Models()...) {
		if m == nil || slices.Contains(out, m) || !m.CanSee() || m.Provider.Unavailable() != "" || localOnly && !m.Provider.Local {
			continue
		}
		out = append(out, m)
	}
	return out
}

// Reply answers the conversation. On success it returns the final text;
// when every model fails it returns a *ChainError (or, with CanShrink, the
// overflowing model's error, matching ErrContextOverflow). A cancelled ctx
// stops at once with no fallback. When a message carries pictures, models
// that cannot see are skipped as CannotSee, without cooling down; when no
// model that can see could be asked, the error matches ErrCannotSee.
func (a *Agent) Reply(ctx context.Context, conv Conversation) (string, *Outcome, error) {
	start := a.now()
	out := &Outcome{}
	defer func() { out.Latency = a.now().Sub(start) }()

	conv.Messages = inert(conv.Messages)
	pictures := hasImages(conv.Messages)
	chain := a.Chain(conv.Model)
	if conv.LocalOnly {
		chain = slices.DeleteFunc(chain, func(m *config.Model) bool { return !m.Provider.Local })
	}
	tried := false
	for pass := 0; pass < 2 && !tried; pass++ {
		// The second pass runs only when every model was cooling down: a
		// message is better tried late than refused unseen.
		ignoreCooldown := pass == 1
		out.Failures = nil
		for _, m := range chain {
			if pictures && !m.CanSee() {
				out.Failures = append(out.Failures, &Error{Class: CannotSee, Model: m, Detail: `its input does not list "image"`})
				continue
			}
			if skip := a.skip(m, ignoreCooldown); skip != nil {
				out.Failures = append(out.Failures, skip)
				continue
			}
			tried = true
			text, err := a.attempt(ctx, m, conv, out)
			if err == nil {
				out.Model = m
				return text, out, nil
			}
			e := asError(err, m)
			if e.Class == Canceled {
				return "", out, e
			}
			out.Failures = append(out.Failures, e)
			if conv.Stream != nil {
				if conv.Stream.Committed() {
					return "", out, &ChainError{Failures: out.Failures, CutOff: true}
				}
				conv.Stream.Reset()
			}
			if e.Class == ContextOverflow && conv.CanShrink {
				return "", out, e
			}
		}
	}
	return "", out, &ChainError{Failures: out.Failures, Blind: pictures && !anySeeingUsable(out.Failures)}
}

// hasImages reports whether any message carries pictures.
func hasImages(items []Item) bool {
	return slices.ContainsFunc(items, func(it Item) bool { return len(it.Images) > 0 })
}

// anySeeingUsable reports whether one of the failed models could see and
// was set up: then the turn failed for another reason than sight.
func anySeeingUsable(fs []*Error) bool {
	return slices.ContainsFunc(fs, func(f *Error) bool {
		return f.Model != nil && f.Model.CanSee() && f.Model.Provider.Unavailable() == ""
	})
}

// inert returns a copy of items in which every message and tool output is
// made inert (package defuse), so that no text in a request can become a
// chat-template control token on a server that tokenizes the rendered
// template with special tokens on. This is the one place every request's
// input passes, whoever built it (a chat turn, the summariser, waclaw ask)
// and whichever provider it goes to; the callers' copies, and so the
// stored history, keep the original text.
//
// Assistant messages are defused too: a model can echo the user's tokens
// (or leak its own) in a reply, and that reply comes back as history in
// every later turn. Function-call arguments and raw reasoning items are
// the model's own output, sent back only within the same turn, and are
// left as they are.
func inert(items []Item) []Item {
	out := make([]Item, len(items))
	for i, it := range items {
		if it.Kind == ItemMessage || it.Kind == ItemFunctionOutput {
			it.Text = defuse.Text(it.Text)
		}
		out[i] = it
	}
	return out
}

// attempt runs the turn loop on one model: call, run any tools, call again,
// up to the step limit. A model that is still loading is waited for within
// its provider's idle budget.
func (a *Agent) attempt(ctx context.Context, m *config.Model, conv Conversation, out *Outcome) (string, error) {
	prov := a.providers[m.Provider.ID]
	instructions := conv.Instructions
	if instructions == "" {
		instructions = a.cfg.Agent.SystemPrompt
	}
	req := &Request{
		Instructions:    instructions,
		Input:           slices.Clone(conv.Messages),
		MaxOutputTokens: m.MaxTokens,
		Tools:           a.tools,
	}
	if conv.NoTools {
		req.Tools = nil
	}
	if conv.Stream != nil && len(req.Tools) == 0 {
		req.OnText = conv.Stream.Write
	}
	if conv.MaxOutputTokens > 0 {
		req.MaxOutputTokens = min(conv.MaxOutputTokens, m.MaxTokens)
	}
	var usage Usage
	began := a.now()
	maxSteps := a.cfg.Agent.MaxToolSteps + 1
	for step := 1; step <= maxSteps; step++ {
		out.Steps = step
		a.touch(m.Provider.ID)
		res, err := a.completeWaitingForLoad(ctx, prov, m, req)
		if err != nil {
			a.failed(ctx, conv.ChatID, m, err, usage, a.now().Sub(began), out)
			return "", err
		}
		usage = usage.Add(res.Usage)
		out.Truncated = out.Truncated || a.truncated(m, req, res.Usage)
		if len(res.Calls) == 0 {
			out.Usage = usage
			out.Cost += usage.Cost(m)
			a.recovered(m)
			a.recordUsage(ctx, conv.ChatID, m, usage, a.now().Sub(began), nil, out)
			return res.Text, nil
		}
		// Reasoning and calls go back with the results, inside this turn
		// only: they are never returned or stored.
		req.Input = append(req.Input, res.Items...)
		for _, call := range res.Calls {
			a.log.Debug("tool call", "model", m.Ref(), "tool", call.Name)
			req.Input = append(req.Input, Item{Kind: ItemFunctionOutput, CallID: call.CallID, Text: defuse.Text(runTool(ctx, a.tools, call))})
		}
	}
	err := &Error{Class: ToolLoop, Model: m, Detail: fmt.Sprintf("no answer after %d steps", maxSteps)}
	a.failed(ctx, conv.ChatID, m, err, usage, a.now().Sub(began), out)
	return "", err
}

// completeWaitingForLoad calls the provider, and while the server answers
// that the model is loading (a cold start), waits and asks again, for at
// most the provider's idle timeout in all.
func (a *Agent) completeWaitingForLoad(ctx context.Context, prov Provider, m *config.Model, req *Request) (*Result, error) {
	budget := m.Provider.IdleTimeout
	wait := time.Second
	var waited time.Duration
	for {
		res, err := prov.Complete(ctx, m, req)
		var e *Error
		if err == nil || !errors.As(err, &e) || e.Class != Loading || waited+wait > budget {
			return res, err
		}
		a.log.Info("model is loading; waiting", "model", m.Ref(), "wait", wait)
		if err := a.sleep(ctx, wait); err != nil {
			return nil, &Error{Class: Canceled, Model: m, Detail: err.Error(), Err: err}
		}
		waited += wait
		wait = min(wait*2, 10*time.Second)
	}
}

// skip returns why m is not tried now, or nil: its provider is not set
// up, or it (or its whole provider) is cooling down.
func (a *Agent) skip(m *config.Model, ignoreCooldown bool) *Error {
	if why := m.Provider.Unavailable(); why != "" {
		return &Error{Class: NotConfigured, Model: m, Detail: why}
	}
	if ignoreCooldown {
		return nil
	}
	cd := a.CoolingDown(m)
	if cd == nil {
		return nil
	}
	return &Error{Class: cd.Last.Class, Model: m, Status: cd.Last.Status, Detail: cd.Last.Detail, Cooling: cd}
}

func (a *Agent) failed(ctx context.Context, chatID string, m *config.Model, err error, usage Usage, latency time.Duration, out *Outcome) {
	e := asError(err, m)
	if e.Class == Canceled {
		return
	}
	level := slog.LevelWarn
	if e.Class == AuthFailed {
		level = slog.LevelError // a config problem: the operator must act
	}
	a.log.Log(ctx, level, "model failed", "model", m.Ref(), "class", e.Class.String(), "status", e.Status, "detail", e.Detail, "latency", latency)
	a.coolDown(m, e)
	out.Cost += usage.Cost(m)
	a.recordUsage(ctx, chatID, m, usage, latency, e, out)
}

// asError returns err as m's *Error.
func asError(err error, m *config.Model) *Error {
	var e *Error
	if !errors.As(err, &e) {
		return &Error{Class: ServerFailed, Model: m, Detail: err.Error(), Err: err}
	}
	if e.Model == nil {
		e.Model = m
	}
	return e
}

func (a *Agent) recordUsage(ctx context.Context, chatID string, m *config.Model, usage Usage, latency time.Duration, e *Error, out *Outcome) {
	if a.usage == nil {
		return
	}
	u := store.Usage{
		ChatID: chatID, Provider: m.Provider.ID, Model: m.ID,
		TokensIn: usage.InputTokens, TokensOut: usage.OutputTokens, TokensCached: usage.CachedTokens,
		Cost: usage.Cost(m), Latency: latency, OK: e == nil,
	}
	if e != nil {
		u.Error = e.Error()
	} else if len(out.Failures) > 0 {
		u.FallbackReason = out.Reasons()
	}
	// Recording must not outlive or fail the turn; a cancelled turn is
	// still recorded.
	if err := a.usage.RecordUsage(context.WithoutCancel(ctx), u); err != nil {
		a.log.Warn("record usage", "err", err)
	}
}
