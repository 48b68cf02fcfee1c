package agent

import (
	"context"
	"errors"
	"time"

	"waclaw/config"
)

// KeepWarm keeps local models loaded so that nobody waits for a cold start
// (LM Studio unloads an idle model after an hour by default): it pings each
// local provider of the chain once at start, and again whenever it has been
// idle for its keepWarm interval. Real traffic counts as activity, so a
// busy provider is never pinged. It runs until ctx ends; tick drives the
// checks (a time.Ticker's channel in production).
func (a *Agent) KeepWarm(ctx context.Context, tick <-chan time.Time) {
	a.warm(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			a.warm(ctx)
		}
	}
}

// warm pings every local provider that is due.
func (a *Agent) warm(ctx context.Context) {
	for _, m := range a.warmTargets() {
		if ctx.Err() != nil {
			return
		}
		a.mu.Lock()
		last, used := a.lastUsed[m.Provider.ID]
		due := !used || a.now().Sub(last) >= m.Provider.KeepWarm
		if due {
			a.lastUsed[m.Provider.ID] = a.now()
		}
		a.mu.Unlock()
		if !due {
			continue
		}
		start := a.now()
		_, err := a.providers[m.Provider.ID].Complete(ctx, m, &Request{
			Input:           []Item{{Kind: ItemMessage, Role: RoleUser, Text: "hi"}},
			MaxOutputTokens: 8,
		})
		if err != nil && classOf(err) != EmptyReply {
			a.log.Warn("keep-warm ping failed", "model", m.Ref(), "err", err)
			continue
		}
		a.log.Info("keep-warm ping", "model", m.Ref(), "latency", a.now().Sub(start))
	}
}

// warmTargets is the first model of each local provider in the chain whose
// keepWarm interval is on.
func (a *Agent) warmTargets() []*config.Model {
	var out []*config.Model
	seen := map[string]bool{}
	for _, m := range a.cfg.Chain() {
		p := m.Provider
		if !p.Local || p.KeepWarm <= 0 || seen[p.ID] {
			continue
		}
		seen[p.ID] = true
		out = append(out, m)
	}
	return out
}

// touch records real traffic to a provider.
func (a *Agent) touch(providerID string) {
	a.mu.Lock()
	a.lastUsed[providerID] = a.now()
	a.mu.Unlock()
}

// classOf is err's failure class, 0 when it is not an *Error.
func classOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return 0
}
