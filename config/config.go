// Package config loads waclaw's configuration: a JSON5 file in the OpenClaw
// format (the seed's examples load verbatim), merged with the built-in model
// catalog and defaults, validated with file:line errors, and resolved into a
// typed Config that the rest of waclaw reads.
package config

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tailscale/hujson"
)

// API names the wire protocol a provider speaks.
type API string

// The wire protocols waclaw can speak.
const (
	APIOpenAIResponses   API = "openai-responses"
	APIOpenAICompletions API = "openai-completions"
	APIAnthropicMessages API = "anthropic-messages"
)

var knownAPIs = []string{string(APIOpenAIResponses), string(APIOpenAICompletions), string(APIAnthropicMessages)}

// Config is the resolved, validated configuration.
type Config struct {
	Path      string      // file it was loaded from; "" for the built-in defaults
	Primary   *Model      // agents.defaults.model.primary
	Fallbacks []*Model    // agents.defaults.model.fallbacks, in order
	Providers []*Provider // configured providers in file order, then built-ins
	Agent     Agent
	WhatsApp  WhatsApp
	// Warnings are problems that do not stop waclaw from starting, such as
	// an environment variable that a provider's key refers to but is unset.
	Warnings []string

	models  map[string]*Model // by lower-cased ref
	aliases map[string]*Model // by normalised alias
}

// Agent holds agents.defaults settings.
type Agent struct {
	SystemPrompt   string
	Compaction     Compaction
	Tools          []string
	MaxToolSteps   int
	FallbackNotice bool // tell the user when a fallback model answered
}

// Compaction holds agents.defaults.compaction.
type Compaction struct {
	Mode             string // "auto" or "off"
	MaxHistoryTokens int
	Model            *Model // nil: the chat's active model summarises
}

// Provider is one model server.
type Provider struct {
	ID      string
	BaseURL string
	APIKey  string // "" when none is configured or its variable is unset
	API     API
	Headers map[string]string
	Local   bool // runs on this machine or network (baseUrl or "local")
	BuiltIn bool // comes from the built-in catalog (possibly overridden)
	// IdleTimeout is how long a stream may be silent before it counts as
	// hung; RequestTimeout caps a whole request; KeepWarm is the idle
	// interval between keep-alive pings (0: off).
	IdleTimeout, RequestTimeout, KeepWarm time.Duration
	Models                                []*Model
	// MissingEnv lists environment variables this provider's settings
	// refer to that are not set.
	MissingEnv []string
}

// Unavailable returns why the provider cannot be used, or "" when it can.
func (p *Provider) Unavailable() string {
	if len(p.MissingEnv) == 0 {
		return ""
	}
	if len(p.MissingEnv) == 1 {
		return p.MissingEnv[0] + " is not set"
	}
	return strings.Join(p.MissingEnv, ", ") + " are not set"
}

// Model is one model of a provider.
type Model struct {
	Provider      *Provider
	ID            string
	Name          string
	Alias         string // "" when none
	Reasoning     bool
	Input         []string
	Cost          Cost
	ContextWindow int
	MaxTokens     int
	Params        map[string]any // extra request-body fields
}

// Ref is the model's "provider/model" reference.
func (m *Model) Ref() string { return m.Provider.ID + "/" + m.ID }

// Label is the alias when there is one, else the ref.
func (m *Model) Label() string {
	if m.Alias != "" {
		return m.Alias
	}
	return m.Ref()
}

// Cost is the price in US dollars per million tokens.
type Cost struct {
	Input      float64
	Output     float64
	CacheRead  float64
	CacheWrite float64
}

// WhatsApp holds channels.whatsapp.
type WhatsApp struct {
	DMPolicy         string   // pairing | allowlist | open | disabled
	AllowFrom        []string // E.164 numbers, or "*"
	Admins           []string // E.164 numbers
	GroupPolicy      string   // allowlist | open | disabled
	Groups           map[string]Group
	GroupAllowFrom   []string // E.164 numbers, or "*"
	TextChunkLimit   int
	SendReadReceipts bool
	SelfChatMode     bool
	RateLimit        RateLimit
	StaleAfter       time.Duration // pending messages older than this are skipped
}

// Group is the setting for one group id (or "*").
type Group struct {
	RequireMention bool
}

// RateLimit is the per-sender and outbound message budget.
type RateLimit struct {
	PerMinute, Burst                 int // per sender
	OutboundPerMinute, OutboundBurst int // all replies together
}

// Load reads and resolves the config file at path. An empty path means no
// file: the built-in defaults. A missing file is ErrNotFound; a file that
// cannot be used is ErrInvalid, with every problem listed.
func Load(path string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &notFoundError{path: path}
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, src, os.LookupEnv)
}

// Default returns the configuration used when there is no file: the seed's
// recommended LM Studio + MiniMax M2.1 setup plus the built-in catalog.
func Default() *Config {
	cfg, err := Parse("", []byte("{}"), os.LookupEnv)
	if err != nil {
		panic("config: built-in defaults are invalid: " + err.Error()) // a programming error
	}
	return cfg
}

// Parse resolves config text; name is used in error messages, lookup reads
// environment variables.
func Parse(name string, src []byte, lookup func(string) (string, bool)) (*Config, error) {
	rewritten, offs := json5ToJWCC(src)
	d := newDecoder(name, src, offs, lookup)
	root, err := hujson.Parse(rewritten)
	if err != nil {
		return nil, Errors{d.syntaxError(err, rewritten)}
	}
	var f fileConfig
	d.decode(&root, "", reflectValue(&f))
	// Resolve even after decode errors so that one run reports every
	// problem; values that failed to decode are simply left unset.
	cfg := d.resolve(&f)
	if len(d.errs) > 0 {
		// File order; problems with no place in the file last. Within a
		// line, decode errors (recorded first) stay ahead of the
		// follow-on problems they cause.
		slices.SortStableFunc(d.errs, func(a, b *Error) int {
			la, lb := a.Line, b.Line
			if la == 0 {
				la = math.MaxInt
			}
			if lb == 0 {
				lb = math.MaxInt
			}
			return cmp.Compare(la, lb)
		})
		return nil, d.errs
	}
	cfg.Path = name
	return cfg, nil
}

var (
	hujsonPos   = regexp.MustCompile(`^hujson: line (\d+), column (\d+): (.*)$`)
	invalidChar = regexp.MustCompile(`^invalid character \S+`)
)

// syntaxError turns a hujson parse error (positions in the rewritten text)
// into an Error at the same place in the original text.
func (d *decoder) syntaxError(err error, rewritten []byte) *Error {
	msg := err.Error()
	m := hujsonPos.FindStringSubmatch(msg)
	if m == nil {
		return &Error{File: d.file, Msg: "malformed JSON5: " + msg}
	}
	var line, col int
	fmt.Sscan(m[1], &line)
	fmt.Sscan(m[2], &col)
	off := 0
	for l := 1; l < line && off < len(rewritten); l++ {
		i := strings.IndexByte(string(rewritten[off:]), '\n')
		if i < 0 {
			break
		}
		off += i + 1
	}
	off = min(off+col-1, len(rewritten))
	orig := d.offs.original(off)
	line, col = d.lineCol(orig)
	detail := m[3]
	if strings.HasPrefix(detail, "invalid character") && orig < len(d.orig) {
		// The rewritten text may have a quote where the file has a bare
		// key: name the character the user actually wrote.
		r, _ := utf8.DecodeRune(d.orig[orig:])
		detail = invalidChar.ReplaceAllLiteralString(detail, fmt.Sprintf("unexpected %q", r))
	}
	return &Error{File: d.file, Line: line, Column: col, Msg: "malformed JSON5: " + detail + " (check for a missing comma, quote or bracket just before here)"}
}

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

	configured := fm.Providers
	order := d.order["models.providers"]
	if len(configured) == 0 {
		// No provider of the user's own: the seed's recommended local setup.
		configured = map[string]*fileProvider{defaultProviderID: defaultLocalProvider()}
		order = []string{defaultProviderID}
	}
	builtins := map[string]builtinProvider{}
	if mode != "replace" {
		for _, b := range builtinCatalog {
			builtins[b.id] = b
		}
	}
	for _, id := range order {
		b, isBuiltin := builtins[id]
		cfg.Providers = append(cfg.Providers, d.provider(id, configured[id], b, isBuiltin))
		delete(builtins, id)
	}
	for _, b := range builtinCatalog {
		if _, ok := builtins[b.id]; ok {
			cfg.Providers = append(cfg.Providers, d.provider(b.id, nil, b, true))
		}
	}
	for _, p := range cfg.Providers {
		for _, m := range p.Models {
			cfg.models[strings.ToLower(m.Ref())] = m
		}
	}

	d.resolveModels(cfg, &defs, order)
	d.resolveAgent(cfg, &defs)
	d.resolveWhatsApp(cfg, f.Channels)

	cfg.Warnings = d.warnings(cfg)
	return cfg
}

func (d *decoder) provider(id string, fp *fileProvider, b builtinProvider, isBuiltin bool) *Provider {
	path := joinPath("models.providers", id)
	p := &Provider{ID: id, BuiltIn: isBuiltin}
	if isBuiltin {
		p.BaseURL = b.baseURL
		p.API = b.api
		p.APIKey = d.expand(path+".apiKey", b.apiKey)
		for _, bm := range b.models {
			p.Models = append(p.Models, &Model{
				Provider: p, ID: bm.id, Name: bm.name, Reasoning: bm.reasoning, Input: []string{"text", "image"},
				Cost: bm.cost, ContextWindow: bm.contextWindow, MaxTokens: bm.maxOut,
			})
		}
	}
	if fp == nil {
		fp = &fileProvider{}
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

	switch {
	case p.API == "" && !d.has(path+".api"):
		d.errPath(path, `has no "api": set api to one of %s`, strings.Join(knownAPIs, ", "))
	case !slices.Contains(knownAPIs, string(p.API)):
		msg := fmt.Sprintf("unknown api %q: use one of %s", p.API, strings.Join(knownAPIs, ", "))
		if s := Closest(string(p.API), knownAPIs); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		d.errPath(path+".api", "%s", msg)
	}
	if p.BaseURL == "" {
		d.errPath(path, `has no "baseUrl": set it to the server's API root, such as "http://127.0.0.1:1234/v1"`)
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
		i := slices.IndexFunc(p.Models, func(m *Model) bool { return m.ID == fmod.ID })
		var m *Model
		if i >= 0 {
			m = p.Models[i]
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
		if fmod.Cost != nil {
			m.Cost = Cost(*fmod.Cost)
		}
		if fmod.ContextWindow != nil {
			m.ContextWindow = *fmod.ContextWindow
		}
		if fmod.MaxTokens != nil {
			m.MaxTokens = *fmod.MaxTokens
		}
		m.Params = fmod.Params
		if m.ContextWindow <= 0 {
			d.errPath(mpath+".contextWindow", "must be more than 0: set it to the context length the server runs the model with")
		} else if m.MaxTokens <= 0 || m.MaxTokens >= m.ContextWindow {
			d.errPath(mpath+".maxTokens", "must be more than 0 and less than contextWindow (%d), got %d", m.ContextWindow, m.MaxTokens)
		}
	}
	if !isBuiltin && len(p.Models) == 0 {
		d.errPath(path, `lists no models: add at least one { id: "...", contextWindow: ..., maxTokens: ... }`)
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
	return out
}

// resolveModels sets the primary, fallbacks and aliases.
func (d *decoder) resolveModels(cfg *Config, defs *fileAgentDefaults, order []string) {
	primaryRef := defaultPrimary
	if _, ok := cfg.models[strings.ToLower(defaultPrimary)]; !ok && len(order) > 0 {
		// The file brings its own provider (fixture 03): its first model is
		// the primary unless one is named.
		for _, p := range cfg.Providers {
			if p.ID == order[0] && len(p.Models) > 0 {
				primaryRef = p.Models[0].Ref()
			}
		}
	}
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
		DMPolicy: "pairing", GroupPolicy: "allowlist", TextChunkLimit: DefaultTextChunkLimit,
		SendReadReceipts: true, SelfChatMode: true, StaleAfter: defaultStaleAfter,
		RateLimit: RateLimit{PerMinute: 6, Burst: 3, OutboundPerMinute: 30, OutboundBurst: 5},
	}
	if ch == nil || ch.WhatsApp == nil {
		return
	}
	fw := ch.WhatsApp
	const p = "channels.whatsapp"
	if fw.DMPolicy != nil {
		w.DMPolicy = *fw.DMPolicy
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
	if fw.SendReadReceipts != nil {
		w.SendReadReceipts = *fw.SendReadReceipts
	}
	if fw.SelfChatMode != nil {
		w.SelfChatMode = *fw.SelfChatMode
	}
	if fw.StaleAfter != nil {
		w.StaleAfter = fw.StaleAfter.Std()
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

// NormalizePhone returns s as an E.164 number ("+15551234567"). Spaces,
// dots, dashes and brackets are dropped and a leading "00" counts as "+".
func NormalizePhone(s string) (string, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "00") {
		t = "+" + t[2:]
	}
	var b strings.Builder
	b.WriteByte('+')
	for i, r := range t {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("%q is not a phone number: write it in international form, like \"+15551234567\"", s)
		}
	}
	n := b.String()
	if len(n) < 8 || len(n) > 16 || n[1] == '0' {
		return "", fmt.Errorf("%q is not a phone number: international numbers have a country code and 7 to 15 digits, like \"+15551234567\"", s)
	}
	return n, nil
}

// isLocalURL reports whether a baseUrl points at this machine or a private
// network.
func isLocalURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || strings.HasSuffix(host, ".local") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast())
}

func normalizeAlias(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}
