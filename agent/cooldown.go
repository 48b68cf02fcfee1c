package agent

import (
	"regexp"
	"time"

	"waclaw/config"
)

// Cooldown is a stretch of time in which a model, or every model of a
// provider, is skipped after a failure.
type Cooldown struct {
	Provider string
	Model    string // the model's id; "" when every model of the provider is skipped
	Until    time.Time
	Last     *Error // the failure that began it
}

// Why says, of a model the cooldown keeps from being tried, what it is
// waiting out: "it is not found on its server", "its server is
// unreachable".
func (c *Cooldown) Why() string {
	if c.Model == "" {
		return "its server " + c.Last.predicate()
	}
	return "it " + c.Last.predicate()
}

// healthKey names what a cooldown applies to: one model of a provider, or
// (model "") all of them.
type healthKey struct{ provider, model string }

// health is the recent record of a model or a provider.
type health struct {
	failures int       // consecutive
	until    time.Time // skipped until then
	last     *Error
}

// serverWide reports whether a failure is the server's rather than the
// model's: then every model of the provider is skipped, not just this one.
// Only what no other model of the same server could escape counts: the
// server cannot be reached, refuses the key, limits the rate, is
// overloaded, lacks the API, or (a 502/503/504 that does not name the
// model) is unavailable as a whole. A model that is missing, answers with
// nothing, fails to load, crashes, hangs or errs on its own is its own
// problem: its neighbours on the server are still asked, so that one
// broken local model never sends a working one's traffic to a hosted
// fallback.
func serverWide(e *Error) bool {
	switch e.Class {
	case Unreachable, AuthFailed, RateLimited, Overloaded, EndpointMissing:
		return true
	case ServerFailed:
		return (e.Status == 502 || e.Status == 503 || e.Status == 504) && !names(e.Detail, e.Model)
	}
	return false
}

// names reports whether text mentions m's id as a word of its own
// ("tiny-hello" in "model 'tiny-hello:latest' failed", not "m" in "model").
func names(text string, m *config.Model) bool {
	if m == nil || m.ID == "" {
		return false
	}
	re, err := regexp.Compile(`(?i)(^|[^\w./-])` + regexp.QuoteMeta(m.ID) + `($|[^\w-])`)
	return err == nil && re.MatchString(text)
}

// cooldownFor is how long a model (or its provider, see serverWide) is
// skipped after its n-th consecutive failure of class c; 0 for failures
// that say nothing about its health.
func cooldownFor(c Class, n int) time.Duration {
	switch c {
	case ContextOverflow, BadRequest, ToolLoop, Canceled, NotConfigured, CannotSee:
		return 0
	case AuthFailed:
		return 30 * time.Minute
	}
	switch {
	case n <= 1:
		return 30 * time.Second
	case n == 2:
		return time.Minute
	default:
		return 5 * time.Minute
	}
}

// coolDown starts or extends the cooldown e calls for, on m alone or on
// its whole provider.
func (a *Agent) coolDown(m *config.Model, e *Error) {
	if cooldownFor(e.Class, 0) == 0 {
		return
	}
	key := healthKey{provider: m.Provider.ID}
	if !serverWide(e) {
		key.model = m.ID
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.health[key]
	if h == nil {
		h = &health{}
		a.health[key] = h
	}
	h.failures++
	h.last = e
	h.until = a.now().Add(max(cooldownFor(e.Class, h.failures), e.RetryAfter))
}

// recovered clears m's record and its provider's: an answer shows both work.
func (a *Agent) recovered(m *config.Model) {
	a.mu.Lock()
	delete(a.health, healthKey{provider: m.Provider.ID})
	delete(a.health, healthKey{provider: m.Provider.ID, model: m.ID})
	a.mu.Unlock()
}

// CoolingDown returns the cooldown that keeps m from being tried now, its
// provider's or its own (the provider's when both), or nil.
func (a *Agent) CoolingDown(m *config.Model) *Cooldown {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.coolingDownLocked(m)
}

func (a *Agent) coolingDownLocked(m *config.Model) *Cooldown {
	for _, key := range []healthKey{{provider: m.Provider.ID}, {provider: m.Provider.ID, model: m.ID}} {
		if h := a.health[key]; h != nil && a.now().Before(h.until) {
			return &Cooldown{Provider: key.provider, Model: key.model, Until: h.until, Last: h.last}
		}
	}
	return nil
}

// Health lists what is cooling down now, in the config's order: each
// provider as a whole, then its models.
func (a *Agent) Health() []Cooldown {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Cooldown
	for _, p := range a.cfg.Providers {
		for _, model := range append([]string{""}, modelIDs(p)...) {
			key := healthKey{provider: p.ID, model: model}
			if h := a.health[key]; h != nil && a.now().Before(h.until) {
				out = append(out, Cooldown{Provider: p.ID, Model: model, Until: h.until, Last: h.last})
			}
		}
	}
	return out
}

func modelIDs(p *config.Provider) []string {
	ids := make([]string, len(p.Models))
	for i, m := range p.Models {
		ids[i] = m.ID
	}
	return ids
}
