package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"waclaw/config"
)

// How long each server keeps an idle model, as documented: Ollama 5
// minutes after the last request (OLLAMA_KEEP_ALIVE; its /v1 requests take
// no keep_alive, so every real question resets it to this), LM Studio 60
// minutes (the just-in-time idle TTL). llama.cpp and vLLM never unload.
const (
	ollamaUnload   = 5 * time.Minute
	lmStudioUnload = 60 * time.Minute
	// warmMargin is how long before a server would unload its model the
	// ping goes: more than one tick of the keep-warm clock (a minute).
	warmMargin = 2 * time.Minute
)

// KeepWarm keeps local models loaded so that nobody waits for a cold start.
// It learns which server each local provider of the chain is (Server) and
// keeps it warm that server's way:
//   - Ollama: a native load request (POST /api/generate, no prompt) whose
//     keep_alive is the provider's keepWarm plus 5 minutes, sent when the
//     model has been idle for keepWarm and within 5 minutes of any real
//     question (which resets Ollama's expiry to its 5-minute default);
//   - LM Studio: a one-line question inside its 60-minute idle TTL (every
//     keepWarm, at most every 58 minutes idle);
//   - llama.cpp, vLLM: nothing; they never unload.
//   - a server it cannot tell: a one-line question every keepWarm idle.
//
// Real traffic counts as activity, so a busy provider is not pinged. It
// runs until ctx ends; tick drives the checks (a time.Ticker's channel of
// one minute in production).
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
		kind, known := a.serverKind(ctx, m)
		if known && (kind == ServerLlamaCpp || kind == ServerVLLM) {
			continue
		}
		now := a.now()
		a.mu.Lock()
		due := warmDue(kind, m.Provider.KeepWarm, now, a.lastUsed[m.Provider.ID], a.warmed[m.Provider.ID])
		if due {
			a.warmed[m.Provider.ID] = now
		}
		a.mu.Unlock()
		if !due {
			continue
		}
		start := a.now()
		var err error
		if kind == ServerOllama {
			err = a.ollamaLoad(ctx, m, m.Provider.KeepWarm+ollamaUnload)
		} else {
			a.touch(m.Provider.ID)
			_, err = a.providers[m.Provider.ID].Complete(ctx, m, &Request{
				Input:           []Item{{Kind: ItemMessage, Role: RoleUser, Text: "hi"}},
				MaxOutputTokens: 8,
			})
		}
		if err != nil && classOf(err) != EmptyReply {
			a.log.Warn("keep-warm ping failed", "model", m.Ref(), "server", kind.String(), "err", err)
			continue
		}
		a.log.Info("keep-warm ping", "model", m.Ref(), "server", kind.String(), "latency", a.now().Sub(start))
		if known {
			a.Server(ctx, m) // loaded now: read the context it was loaded with
		}
	}
}

// warmDue reports whether a provider of the given kind needs a ping now,
// given its last real request and its last ping (zero when none).
func warmDue(kind ServerKind, every time.Duration, now, used, pinged time.Time) bool {
	last := used
	if pinged.After(last) {
		last = pinged
	}
	if last.IsZero() {
		return true
	}
	switch kind {
	case ServerOllama:
		if used.After(pinged) || used.Equal(pinged) {
			// A real question reset the expiry to Ollama's default.
			return now.Sub(used) >= min(every, ollamaUnload-warmMargin)
		}
		return now.Sub(pinged) >= every
	case ServerLMStudio:
		return now.Sub(last) >= min(every, lmStudioUnload-warmMargin)
	}
	return now.Sub(last) >= every
}

// serverKind is the kind of m's server, read once and then cached; known
// is false while the server has not answered.
func (a *Agent) serverKind(ctx context.Context, m *config.Model) (ServerKind, bool) {
	a.servers.mu.Lock()
	k, ok := a.servers.kinds[m.Provider.ID]
	a.servers.mu.Unlock()
	if ok {
		return k, true
	}
	a.Server(ctx, m)
	a.servers.mu.Lock()
	k, ok = a.servers.kinds[m.Provider.ID]
	a.servers.mu.Unlock()
	return k, ok
}

// ollamaLoad asks Ollama to load m (if it is not) and keep it for
// keepAlive: a native generate request with no prompt, which runs no
// model and so costs nothing but the load.
func (a *Agent) ollamaLoad(ctx context.Context, m *config.Model, keepAlive time.Duration) error {
	body, _ := json.Marshal(map[string]any{"model": m.ID, "keep_alive": keepAlive.String()})
	ctx, cancel := context.WithTimeout(ctx, max(m.Provider.IdleTimeout, time.Minute))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, serverRoot(m.Provider)+"/api/generate", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range m.Provider.Headers {
		req.Header.Set(k, v)
	}
	client := a.servers.client
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /api/generate: HTTP %d: %s", res.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
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
