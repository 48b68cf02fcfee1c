package config

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
)

func reflectValue(p any) reflect.Value { return reflect.ValueOf(p).Elem() }

// ErrUnknownModel is returned (wrapped) by Resolve when a name matches no
// alias and no model ref.
var ErrUnknownModel = errors.New("unknown model")

// Resolve finds a model by alias (case-insensitive, spaces allowed:
// "minimax local") or by "provider/model" ref. A miss lists the valid names.
func (c *Config) Resolve(name string) (*Model, error) {
	key := normalizeAlias(name)
	if m, ok := c.aliases[key]; ok {
		return m, nil
	}
	if m, ok := c.models[strings.ToLower(strings.TrimSpace(name))]; ok {
		return m, nil
	}
	var names []string
	for _, m := range c.Models() {
		if m.Alias != "" {
			names = append(names, m.Alias)
		}
	}
	names = append(names, c.refs()...)
	var hint string
	if s := Closest(name, names); s != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", s)
	}
	return nil, fmt.Errorf("%w %q%s: valid names are %s", ErrUnknownModel, strings.TrimSpace(name), hint, strings.Join(names, ", "))
}

// Model returns the model with the exact ref, case-insensitively.
func (c *Config) Model(ref string) (*Model, bool) {
	m, ok := c.models[strings.ToLower(ref)]
	return m, ok
}

// Chain is the primary followed by the fallbacks.
func (c *Config) Chain() []*Model {
	return append([]*Model{c.Primary}, c.Fallbacks...)
}

// Models lists every model, grouped by provider in provider order.
func (c *Config) Models() []*Model {
	var out []*Model
	for _, p := range c.Providers {
		out = append(out, p.Models...)
	}
	return out
}

// Aliases lists the models that have an alias, in catalog order.
func (c *Config) Aliases() []*Model {
	return slices.DeleteFunc(c.Models(), func(m *Model) bool { return m.Alias == "" })
}

// Provider returns the provider with the id, or nil.
func (c *Config) Provider(id string) *Provider { return c.provider(id) }

func (c *Config) provider(id string) *Provider {
	for _, p := range c.Providers {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func (c *Config) providerIDs() []string {
	ids := make([]string, len(c.Providers))
	for i, p := range c.Providers {
		ids[i] = p.ID
	}
	return ids
}

func (c *Config) refs() []string {
	var refs []string
	for _, m := range c.Models() {
		refs = append(refs, m.Ref())
	}
	return refs
}

// LogValue is the effective configuration for the start-up log line, with
// every secret left out: keys appear only as set or unset.
func (c *Config) LogValue() slog.Value {
	var chain []string
	for _, m := range c.Chain() {
		chain = append(chain, m.Ref())
	}
	attrs := []slog.Attr{
		slog.String("file", c.Path),
		slog.String("chain", strings.Join(chain, " > ")),
		slog.String("dmPolicy", c.WhatsApp.DMPolicy),
		slog.Bool("selfChatMode", c.WhatsApp.SelfChatMode),
		slog.String("compaction", c.Agent.Compaction.Mode),
		slog.Int("maxHistoryTokens", c.Agent.Compaction.MaxHistoryTokens),
	}
	for _, p := range c.Providers {
		key := "unset"
		if p.APIKey != "" {
			key = "set"
		}
		attrs = append(attrs, slog.Group(p.ID, "api", string(p.API), "baseUrl", p.BaseURL, "local", p.Local, "key", key))
	}
	return slog.GroupValue(attrs...)
}
