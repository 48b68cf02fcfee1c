package config

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// resolve builds the Config from the decoded file, recording problems.
func (d *decoder) resolve(f *fileConfig) *Config {
	cfg := &Config{models: map[string]*Model{}, aliases: map[string]*Model{}}

	var defs fileAgentDefaults
	if f.Agents != nil && f.Agents.Defaults != nil {
		defs = *f.Agents.Defaults
	}
	var fm fileModels
	if f.Models != nil {
		fm = *f.Models
	}

	mode := "merge"
	if fm.Mode != nil {
		mode = *fm.Mode
		if mode != "merge" && mode != "replace" {
			d.errPath("models.mode", `must be "merge" (keep the built-in hosted providers) or "replace" (only the providers listed here), not %q`, mode)
		}
	}

	// A file that lists no providers gets the seed's local setup, whatever
	// the mode; otherwise "replace" keeps nothing of the catalog.
	order := d.order["models.providers"]
	noneListed := len(fm.Providers) == 0
	if noneListed {
		order = []string{defaultProviderID}
	}
	builtins := map[string]builtinProvider{}
	for _, b := range builtinCatalog {
		if mode != "replace" || (noneListed && b.seed) {
			builtins[b.id] = b
		}
	}
	for _, id := range order {
		b, isBuiltin := builtins[id]
		cfg.Providers = append(cfg.Providers, d.provider(id, fm.Providers[id], b, isBuiltin))
		delete(builtins, id)
	}
	for _, b := range builtinCatalog {
		if _, ok := builtins[b.id]; ok && !b.seed {
			cfg.Providers = append(cfg.Providers, d.provider(b.id, nil, b, true))
		}
	}
	for _, p := range cfg.Providers {
		for _, m := range p.Models {
			cfg.models[strings.ToLower(m.Ref())] = m
		}
	}

	d.resolveModels(cfg, &defs, impliedPrimary(cfg, fm.Providers, order))
	d.resolveAgent(cfg, &defs)
	d.resolveWhatsApp(cfg, f.Channels)
	d.resolveMedia(cfg, f.Tools)
	for p, complain := range d.modelless {
		if !slices.ContainsFunc(cfg.Media.Audio.Transcribers, func(t *Transcriber) bool { return t.Provider == p }) {
			complain()
		}
	}

	cfg.Warnings = d.warnings(cfg)
	return cfg
}

func (d *decoder) provider(id string, fp *fileProvider, b builtinProvider, isBuiltin bool) *Provider {
	path := joinPath("models.providers", id)
	p := &Provider{ID: id, BuiltIn: isBuiltin}
	if fp == nil {
		fp = &fileProvider{}
	}
	if isBuiltin {
		p.BaseURL = b.baseURL
		p.API = b.api
		// The built-in's ${VAR} is read only when the file keeps it: a key
		// the file sets replaces it, so its variable is never missing.
		if fp.APIKey == nil {
			p.APIKey = d.expand(path+".apiKey", b.apiKey)
		}
		for _, bm := range b.models {
			p.Models = append(p.Models, &Model{
				Provider: p, ID: bm.id, Name: bm.name, Reasoning: bm.reasoning, Input: slices.Clone(bm.input),
				Cost: bm.cost, ContextWindow: bm.contextWindow, MaxTokens: bm.maxOut,
			})
		}
	}
	if fp.BaseURL != nil {
		p.BaseURL = *fp.BaseURL
	}
	if fp.APIKey != nil {
		p.APIKey = *fp.APIKey
	}
	if fp.API != nil {
		p.API = API(*fp.API)
	}
	p.Headers = fp.Headers
	// Only "replace" leaves a catalog id without its built-in: say so where
	// a field the built-in would have filled is missing.
	var replaced string
	if !isBuiltin && slices.ContainsFunc(builtinCatalog, func(b builtinProvider) bool { return b.id == id }) {
		replaced = fmt.Sprintf(` (models.mode "replace" keeps nothing of the built-in %s)`, id)
	}

	switch {
	case p.API == "" && !d.has(path+".api"):
		d.errPath(path, `has no "api": set api to one of %s%s`, strings.Join(knownAPIs, ", "), replaced)
	case !slices.Contains(knownAPIs, string(p.API)):
		msg := fmt.Sprintf("unknown api %q: use one of %s", p.API, strings.Join(knownAPIs, ", "))
		if s := Closest(string(p.API), knownAPIs); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		d.errPath(path+".api", "%s", msg)
	}
	if p.BaseURL == "" {
		d.errPath(path, `has no "baseUrl": set it to the server's API root, such as "http://127.0.0.1:1234/v1"%s`, replaced)
	} else if u, err := url.Parse(p.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		d.errPath(path+".baseUrl", `%q is not an http(s) URL: write it like "http://127.0.0.1:1234/v1"`, p.BaseURL)
	}

	p.Local = isLocalURL(p.BaseURL)
	if fp.Local != nil {
		p.Local = *fp.Local
	}
	p.IdleTimeout, p.RequestTimeout = defaultHostedIdleTimeout, defaultHostedRequestTimeout
	if p.Local {
		p.IdleTimeout, p.RequestTimeout, p.KeepWarm = defaultLocalIdleTimeout, defaultLocalRequestTimeout, defaultKeepWarm
	}
	if fp.IdleTimeout != nil {
		p.IdleTimeout = fp.IdleTimeout.Std()
	}
	if fp.RequestTimeout != nil {
		p.RequestTimeout = fp.RequestTimeout.Std()
	}
	if fp.KeepWarm != nil {
		p.KeepWarm = fp.KeepWarm.Std()
	}

	inFile := map[string]bool{}
	for i, fmod := range fp.Models {
		mpath := fmt.Sprintf("%s.models[%d]", path, i)
		if fmod.ID == "" {
			d.errPath(mpath, `has no "id": set it to the model id the server lists at /v1/models`)
			continue
		}
		if inFile[fmod.ID] {
			d.errPath(mpath+".id", "model %q is listed twice in this provider: keep one", fmod.ID)
			continue
		}
		inFile[fmod.ID] = true
		// A model with a built-in's id overrides that model's fields.
		bi := slices.IndexFunc(p.Models, func(m *Model) bool { return m.ID == fmod.ID })
		var m *Model
		if bi >= 0 {
			m = p.Models[bi]
		} else {
			m = &Model{Provider: p, ID: fmod.ID, Name: fmod.ID, Input: []string{"text"},
				ContextWindow: DefaultContextWindow, MaxTokens: DefaultMaxTokens}
			p.Models = append(p.Models, m)
		}
		if fmod.Name != nil {
			m.Name = *fmod.Name
		}
		if fmod.Reasoning != nil {
			m.Reasoning = *fmod.Reasoning
		}
		if fmod.Input != nil {
			m.Input = fmod.Input
			for j, in := range fmod.Input {
				if in != "text" && in != "image" {
					d.errPath(fmt.Sprintf("%s.input[%d]", mpath, j), `unknown input %q: use "text" or "image"`, in)
				}
			}
		}
		if c := fmod.Cost; c != nil {
			// Each price is its own field: one the file leaves out keeps
			// the built-in's.
			for _, f := range []struct {
				src *float64
				dst *float64
			}{{c.Input, &m.Cost.Input}, {c.Output, &m.Cost.Output}, {c.CacheRead, &m.Cost.CacheRead}, {c.CacheWrite, &m.Cost.CacheWrite}} {
				if f.src != nil {
					*f.dst = *f.src
				}
			}
		}
		if fmod.ContextWindow != nil {
			m.ContextWindow = *fmod.ContextWindow
		}
		if fmod.MaxTokens != nil {
			m.MaxTokens = *fmod.MaxTokens
		}
		if fmod.Params != nil {
			m.Params = fmod.Params
		}
		switch {
		case m.ContextWindow <= 0:
			d.errPath(mpath+".contextWindow", "must be more than 0: set it to the context length the server runs the model with")
		case fmod.MaxTokens == nil && m.MaxTokens >= m.ContextWindow:
			// The file set only the window, below a maxTokens it did not write.
			from := "the default"
			if bi >= 0 {
				from = "the built-in's"
			}
			d.errPath(mpath+".contextWindow", "%d leaves no room for replies of maxTokens %d (%s): also set maxTokens, below contextWindow", m.ContextWindow, m.MaxTokens, from)
		case m.MaxTokens <= 0 || m.MaxTokens >= m.ContextWindow:
			d.errPath(mpath+".maxTokens", "must be more than 0 and less than contextWindow (%d), got %d", m.ContextWindow, m.MaxTokens)
		}
	}
	if !isBuiltin && len(p.Models) == 0 {
		if d.modelless == nil {
			d.modelless = map[*Provider]func(){}
		}
		d.modelless[p] = func() {
			d.errPath(path, `lists no models: add at least one { id: "...", contextWindow: ..., maxTokens: ... }%s (a server only for transcription is fine: name it in tools.media.audio.models)`, replaced)
		}
	}

	for _, mv := range d.missing {
		if strings.HasPrefix(mv.Path, path+".") && !slices.Contains(p.MissingEnv, mv.Var) {
			p.MissingEnv = append(p.MissingEnv, mv.Var)
		}
	}
	return p
}

// warnings lists unset variables that matter: those of providers that the
// chain or an alias uses, and any outside a provider. Hosted providers
// nobody uses stay quiet; config check shows their keys as unset.
func (d *decoder) warnings(cfg *Config) []string {
	var out []string
	used := map[*Provider][]string{}
	var usedOrder []*Provider
	note := func(m *Model, as string) {
		if m == nil {
			return
		}
		if _, ok := used[m.Provider]; !ok {
			usedOrder = append(usedOrder, m.Provider)
		}
		used[m.Provider] = append(used[m.Provider], as)
	}
	note(cfg.Primary, "the primary")
	for _, m := range cfg.Fallbacks {
		note(m, "a fallback")
	}
	note(cfg.Agent.Compaction.Model, "compaction")
	for _, m := range cfg.Aliases() {
		note(m, "alias "+m.Alias)
	}
	for _, p := range usedOrder {
		if why := p.Unavailable(); why != "" {
			out = append(out, fmt.Sprintf("provider %s (%s) cannot be used: %s", p.ID, strings.Join(slices.Compact(used[p]), ", "), why))
		}
	}
	for _, mv := range d.missing {
		if !strings.HasPrefix(mv.Path, "models.providers") {
			out = append(out, fmt.Sprintf("%s refers to ${%s}, which is not set", mv.Path, mv.Var))
		}
	}
	if warn := cfg.WhatsApp.ModeWarning(); warn != "" {
		out = append(out, warn)
	}
	return out
}

// impliedPrimary is the primary of a file that names none: the seed's
// MiniMax when the catalog has it, unless the file lists lmstudio models of
// its own without it (that server runs those, not the seed's choice); else
// the first other model of the file's first provider (fixture 03).
func impliedPrimary(cfg *Config, own map[string]*fileProvider, order []string) string {
	seedModel, ok := cfg.models[strings.ToLower(defaultPrimary)]
	if lm := own[defaultProviderID]; ok && lm != nil && len(lm.Models) > 0 &&
		!slices.ContainsFunc(lm.Models, func(m fileModel) bool { return m.ID == defaultModelID }) {
		ok = false
	}
	if ok || len(order) == 0 {
		return defaultPrimary
	}
	if p := cfg.provider(order[0]); p != nil {
		for _, m := range p.Models {
			if m != seedModel {
				return m.Ref()
			}
		}
	}
	return defaultPrimary
}

// resolveModels sets the primary (primaryRef unless the file names one),
// fallbacks and aliases.
func (d *decoder) resolveModels(cfg *Config, defs *fileAgentDefaults, primaryRef string) {
	if defs.Model != nil && defs.Model.Primary != nil {
		primaryRef = *defs.Model.Primary
	}
	cfg.Primary = d.lookupModel(cfg, "agents.defaults.model.primary", primaryRef)
	if defs.Model != nil {
		for i, ref := range defs.Model.Fallbacks {
			path := fmt.Sprintf("agents.defaults.model.fallbacks[%d]", i)
			if m := d.lookupModel(cfg, path, ref); m != nil {
				if m == cfg.Primary || slices.Contains(cfg.Fallbacks, m) {
					d.errPath(path, "%q is already in the chain: list each model once", ref)
					continue
				}
				cfg.Fallbacks = append(cfg.Fallbacks, m)
			}
		}
	}

	if defs.Models == nil {
		for _, da := range defaultAliases {
			if m, ok := cfg.models[strings.ToLower(da.ref)]; ok {
				m.Alias = da.alias
				cfg.aliases[normalizeAlias(da.alias)] = m
			}
		}
		return
	}
	for _, ref := range d.order["agents.defaults.models"] {
		pref := defs.Models[ref]
		path := joinPath("agents.defaults.models", ref)
		m := d.lookupModel(cfg, path, ref)
		if m == nil || pref == nil || pref.Alias == "" {
			continue
		}
		key := normalizeAlias(pref.Alias)
		if other, dup := cfg.aliases[key]; dup {
			d.errPath(path+".alias", "alias %q is already used by %s: each alias must name one model", pref.Alias, other.Ref())
			continue
		}
		if _, isRef := cfg.models[key]; isRef && !strings.EqualFold(pref.Alias, m.Ref()) {
			d.errPath(path+".alias", "alias %q is the ref of another model: choose another alias", pref.Alias)
			continue
		}
		m.Alias = strings.Join(strings.Fields(pref.Alias), " ")
		cfg.aliases[key] = m
	}
}

// lookupModel finds the model a ref in the file names, recording an error
// (with the closest valid refs) when there is none.
func (d *decoder) lookupModel(cfg *Config, path, ref string) *Model {
	if m, ok := cfg.models[strings.ToLower(ref)]; ok {
		return m
	}
	provID, modelID, hasSlash := strings.Cut(ref, "/")
	var hint string
	switch {
	case !hasSlash || modelID == "":
		hint = `write it as "provider/model", for example "lmstudio/minimax-m2.1-gs32"`
	case cfg.provider(provID) == nil:
		hint = fmt.Sprintf("there is no provider %q (providers: %s)", provID, strings.Join(cfg.providerIDs(), ", "))
	default:
		hint = fmt.Sprintf("provider %q has no model %q: add it to models.providers.%s.models", provID, modelID, provID)
	}
	if s := Closest(ref, cfg.refs()); s != "" {
		hint += fmt.Sprintf(" (did you mean %q?)", s)
	}
	d.errPath(path, "%q names no model: %s", ref, hint)
	return nil
}

func (d *decoder) resolveAgent(cfg *Config, defs *fileAgentDefaults) {
	a := &cfg.Agent
	a.SystemPrompt = DefaultSystemPrompt
	if defs.SystemPrompt != nil {
		a.SystemPrompt = *defs.SystemPrompt
	}
	a.FallbackNotice = true
	if defs.FallbackNotice != nil {
		a.FallbackNotice = *defs.FallbackNotice
	}
	a.MaxToolSteps = DefaultMaxToolSteps
	if defs.MaxToolSteps != nil {
		a.MaxToolSteps = *defs.MaxToolSteps
	}
	a.Tools = defs.Tools
	for i, t := range defs.Tools {
		if !slices.Contains(KnownTools, t) {
			d.errPath(fmt.Sprintf("agents.defaults.tools[%d]", i), "unknown tool %q: the tools waclaw has are %s", t, strings.Join(KnownTools, ", "))
		}
	}
	a.Compaction = Compaction{Mode: "auto", MaxHistoryTokens: DefaultMaxHistoryTokens}
	if c := defs.Compaction; c != nil {
		if c.Mode != nil {
			a.Compaction.Mode = *c.Mode
			if *c.Mode != "auto" && *c.Mode != "off" {
				d.errPath("agents.defaults.compaction.mode", `must be "auto" or "off", not %q`, *c.Mode)
			}
		}
		if c.MaxHistoryTokens != nil {
			a.Compaction.MaxHistoryTokens = *c.MaxHistoryTokens
			if *c.MaxHistoryTokens < 1000 {
				d.errPath("agents.defaults.compaction.maxHistoryTokens", "must be at least 1000 so a few turns fit, got %d", *c.MaxHistoryTokens)
			}
		}
		if c.Model != nil && *c.Model != "" {
			a.Compaction.Model = d.lookupModel(cfg, "agents.defaults.compaction.model", *c.Model)
		}
	}
}

var (
	dmPolicies    = []string{"pairing", "allowlist", "open", "disabled"}
	groupPolicies = []string{"allowlist", "open", "disabled"}
	groupJID      = regexp.MustCompile(`^[0-9]+(-[0-9]+)?@g\.us$`)
)

func (d *decoder) resolveWhatsApp(cfg *Config, ch *fileChannels) {
	w := &cfg.WhatsApp
	*w = WhatsApp{
		GroupPolicy: "allowlist", TextChunkLimit: DefaultTextChunkLimit, StreamReplies: true,
		SendReadReceipts: true, SelfChatMode: true, StaleAfter: defaultStaleAfter,
		RateLimit:       RateLimit{PerMinute: 6, Burst: 3, OutboundPerMinute: 30, OutboundBurst: 5},
		MaxMessageChars: DefaultMaxMessageChars, CallReply: DefaultCallReply,
	}
	fw := &fileWhatsApp{}
	if ch != nil && ch.WhatsApp != nil {
		fw = ch.WhatsApp
	}
	const p = "channels.whatsapp"
	if fw.SelfChatMode != nil {
		w.SelfChatMode = *fw.SelfChatMode
	}
	// What a stranger meets follows what the number is. On a personal
	// number every contact of the owner is a stranger to the bot, so they
	// must see no sign of it, and the owner takes their own calls; a
	// dedicated bot number offers pairing and turns calls away.
	if w.SelfChatMode {
		w.DMPolicy, w.RejectCalls = "allowlist", false
	} else {
		w.DMPolicy, w.RejectCalls = "pairing", true
	}
	if fw.DMPolicy != nil {
		w.DMPolicy, w.DMPolicySet = *fw.DMPolicy, true
		if !slices.Contains(dmPolicies, w.DMPolicy) {
			d.errPath(p+".dmPolicy", "must be one of %s, not %q", strings.Join(dmPolicies, ", "), w.DMPolicy)
		}
	}
	w.AllowFrom = d.numbers(p+".allowFrom", fw.AllowFrom, true)
	w.Admins = d.numbers(p+".admins", fw.Admins, false)
	w.GroupAllowFrom = d.numbers(p+".groupAllowFrom", fw.GroupAllowFrom, true)
	if w.DMPolicy == "open" && !slices.Contains(w.AllowFrom, "*") {
		d.errPath(p+".dmPolicy", `"open" lets anyone on WhatsApp use your models: also add "*" to allowFrom to confirm, or use "pairing"`)
	}
	if fw.GroupPolicy != nil {
		w.GroupPolicy = *fw.GroupPolicy
		if !slices.Contains(groupPolicies, w.GroupPolicy) {
			d.errPath(p+".groupPolicy", "must be one of %s, not %q", strings.Join(groupPolicies, ", "), w.GroupPolicy)
		}
	}
	if fw.Groups != nil {
		w.Groups = map[string]Group{}
		for _, id := range slices.Sorted(maps.Keys(fw.Groups)) {
			if id != "*" && !groupJID.MatchString(id) {
				d.errPath(joinPath(p+".groups", id), `%q is not a group id: use the group's JID, like "120363012345678901@g.us", or "*" for every group`, id)
				continue
			}
			g := Group{RequireMention: true}
			if fg := fw.Groups[id]; fg != nil && fg.RequireMention != nil {
				g.RequireMention = *fg.RequireMention
			}
			w.Groups[id] = g
		}
	}
	if fw.TextChunkLimit != nil {
		w.TextChunkLimit = *fw.TextChunkLimit
		if w.TextChunkLimit < 100 || w.TextChunkLimit > 65536 {
			d.errPath(p+".textChunkLimit", "must be between 100 and 65536 characters, got %d", w.TextChunkLimit)
		}
	}
	if fw.StreamReplies != nil {
		w.StreamReplies = *fw.StreamReplies
	}
	if fw.SendReadReceipts != nil {
		w.SendReadReceipts = *fw.SendReadReceipts
	}
	if fw.StaleAfter != nil {
		w.StaleAfter = fw.StaleAfter.Std()
	}
	if fw.MaxMessageChars != nil {
		w.MaxMessageChars = *fw.MaxMessageChars
		if w.MaxMessageChars < 500 || w.MaxMessageChars > 1_000_000 {
			d.errPath(p+".maxMessageChars", "must be between 500 and 1000000 characters, got %d", w.MaxMessageChars)
		}
	}
	// A finished message must be remembered at least as long as it would
	// still be answered: one WhatsApp delivers again after its row is
	// gone is then skipped as stale rather than answered twice.
	w.InboxRetention = max(defaultInboxRetention, w.StaleAfter)
	if fw.InboxRetention != nil {
		w.InboxRetention = fw.InboxRetention.Std()
		switch {
		case w.InboxRetention < minInboxRetention:
			d.errPath(p+".inboxRetention", "must be at least %s, got %s: a message WhatsApp delivers again after a reconnect must still be recognised", Duration(minInboxRetention), Duration(w.InboxRetention))
		case w.InboxRetention < w.StaleAfter:
			d.errPath(p+".inboxRetention", "must be at least staleAfter (%s), got %s: a message WhatsApp delivers again after %s but within %s would be answered twice",
				Duration(w.StaleAfter), Duration(w.InboxRetention), Duration(w.InboxRetention), Duration(w.StaleAfter))
		}
	}
	if fw.RejectCalls != nil {
		w.RejectCalls = *fw.RejectCalls
	}
	if fw.CallReply != nil {
		w.CallReply = *fw.CallReply
	}
	if rl := fw.RateLimit; rl != nil {
		for _, f := range []struct {
			key string
			src *int
			dst *int
		}{
			{"perMinute", rl.PerMinute, &w.RateLimit.PerMinute},
			{"burst", rl.Burst, &w.RateLimit.Burst},
			{"outboundPerMinute", rl.OutboundPerMinute, &w.RateLimit.OutboundPerMinute},
			{"outboundBurst", rl.OutboundBurst, &w.RateLimit.OutboundBurst},
		} {
			if f.src == nil {
				continue
			}
			*f.dst = *f.src
			if *f.src < 1 {
				d.errPath(p+".rateLimit."+f.key, "must be at least 1, got %d", *f.src)
			}
		}
	}
}

// numbers normalises a list of phone numbers, recording an error for each
// entry that is not one.
func (d *decoder) numbers(path string, in []string, allowStar bool) []string {
	var out []string
	for i, s := range in {
		if allowStar && s == "*" {
			out = append(out, s)
			continue
		}
		n, err := NormalizePhone(s)
		if err != nil {
			d.errPath(fmt.Sprintf("%s[%d]", path, i), "%v", err)
			continue
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
