package config

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fixtures holds the seed document's three config blocks, byte for byte.
const fixtures = "testdata/seed/"

// noEnv is an environment with nothing set.
func noEnv(string) (string, bool) { return "", false }

func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func refs(ms []*Model) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Ref())
	}
	return out
}

func aliasMap(cfg *Config) map[string]string {
	out := map[string]string{}
	for _, m := range cfg.Aliases() {
		out[m.Alias] = m.Ref()
	}
	return out
}

func TestSeedFixturesLoadVerbatim(t *testing.T) {
	for _, v := range []string{"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY"} {
		t.Setenv(v, "")
	}
	lmstudio := Model{ID: "minimax-m2.1-gs32", Name: "MiniMax M2.1 GS32", Input: []string{"text"}, ContextWindow: 196608, MaxTokens: 8192}
	tests := []struct {
		file      string
		primary   string
		fallbacks []string
		aliases   map[string]string
		local     string // the file's own provider
		builtIn   bool   // it has a built-in's id
		baseURL   string
		apiKey    string
		model     Model
	}{
		{
			file: "01-local-primary.json5", primary: "lmstudio/minimax-m2.1-gs32", fallbacks: []string{},
			aliases: map[string]string{"Opus": "anthropic/claude-opus-4-5", "Minimax": "lmstudio/minimax-m2.1-gs32"},
			local:   "lmstudio", builtIn: true, baseURL: "http://127.0.0.1:1234/v1", apiKey: "lmstudio", model: lmstudio,
		},
		{
			file: "02-hybrid-hosted-primary.json5", primary: "anthropic/claude-sonnet-4-5",
			fallbacks: []string{"lmstudio/minimax-m2.1-gs32", "anthropic/claude-opus-4-5"},
			aliases: map[string]string{"Sonnet": "anthropic/claude-sonnet-4-5", "MiniMax Local": "lmstudio/minimax-m2.1-gs32",
				"Opus": "anthropic/claude-opus-4-5"},
			local: "lmstudio", builtIn: true, baseURL: "http://127.0.0.1:1234/v1", apiKey: "lmstudio", model: lmstudio,
		},
		{
			// Only a models block: the file's own provider is the primary and
			// the default aliases that still name a model stay.
			file: "03-other-proxy.json5", primary: "local/my-local-model", fallbacks: []string{},
			aliases: map[string]string{"Opus": "anthropic/claude-opus-4-5"},
			local:   "local", baseURL: "http://127.0.0.1:8000/v1", apiKey: "sk-local",
			model: Model{ID: "my-local-model", Name: "Local Model", Input: []string{"text"}, ContextWindow: 120000, MaxTokens: 8192},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			cfg, err := Load(fixtures + tt.file)
			if err != nil {
				t.Fatalf("Load(%s) error = %v", tt.file, err)
			}
			if got := cfg.Primary.Ref(); got != tt.primary {
				t.Errorf("primary = %q; want %q", got, tt.primary)
			}
			if diff := cmp.Diff(tt.fallbacks, refs(cfg.Fallbacks)); diff != "" {
				t.Errorf("fallbacks (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.aliases, aliasMap(cfg)); diff != "" {
				t.Errorf("aliases (-want +got):\n%s", diff)
			}
			p := cfg.Provider(tt.local)
			if p == nil {
				t.Fatalf("provider %q missing; have %v", tt.local, cfg.providerIDs())
			}
			if p.BaseURL != tt.baseURL || p.APIKey != tt.apiKey || p.API != APIOpenAIResponses || !p.Local || p.BuiltIn != tt.builtIn {
				t.Errorf("provider %s = {%s %s %s local=%v builtin=%v}", p.ID, p.BaseURL, p.APIKey, p.API, p.Local, p.BuiltIn)
			}
			if len(p.Models) != 1 {
				t.Fatalf("provider %s has %d models; want 1", p.ID, len(p.Models))
			}
			got := *p.Models[0]
			got.Provider, got.Alias = nil, ""
			if diff := cmp.Diff(tt.model, got); diff != "" {
				t.Errorf("model (-want +got):\n%s", diff)
			}
			// merge keeps the hosted catalog reachable, e.g. by /model Opus.
			opus, err := cfg.Resolve("opus")
			if err != nil || opus.Ref() != "anthropic/claude-opus-4-5" || opus.Provider.API != APIAnthropicMessages {
				t.Errorf("Resolve(opus) = %v, %v; want the built-in anthropic/claude-opus-4-5", opus, err)
			}
			if why := opus.Provider.Unavailable(); why != "ANTHROPIC_API_KEY is not set" {
				t.Errorf("anthropic Unavailable() = %q; want the missing key named", why)
			}
		})
	}
}

func TestDefaultsAreTheSeedsRecommendedSetup(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-test")
	cfg, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	m := cfg.Primary
	if m.Ref() != "lmstudio/minimax-m2.1-gs32" || m.ContextWindow != 196608 || m.MaxTokens != 8192 {
		t.Errorf("primary = %s ctx=%d max=%d", m.Ref(), m.ContextWindow, m.MaxTokens)
	}
	p := m.Provider
	if p.BaseURL != "http://127.0.0.1:1234/v1" || p.API != APIOpenAIResponses || p.APIKey != "" || !p.Local {
		t.Errorf("provider = %+v", p)
	}
	want := map[string]string{"Minimax": "lmstudio/minimax-m2.1-gs32", "Opus": "anthropic/claude-opus-4-5"}
	if diff := cmp.Diff(want, aliasMap(cfg)); diff != "" {
		t.Errorf("aliases (-want +got):\n%s", diff)
	}
	if got := cfg.Provider("anthropic").APIKey; got != "sk-ant-test" {
		t.Errorf("anthropic key = %q; want it read from ANTHROPIC_API_KEY", got)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings = %q; want none with the key set", cfg.Warnings)
	}
	w := cfg.WhatsApp
	if w.DMPolicy != "allowlist" || w.DMPolicySet || !w.SelfChatMode || w.GroupPolicy != "allowlist" || w.TextChunkLimit != 4000 || !w.StreamReplies {
		t.Errorf("whatsapp defaults = %+v", w)
	}
	if cfg.Agent.Compaction.Mode != "auto" || cfg.Agent.Compaction.MaxHistoryTokens != DefaultMaxHistoryTokens {
		t.Errorf("compaction defaults = %+v", cfg.Agent.Compaction)
	}
	if n := len(cfg.Agent.SystemPrompt); n == 0 || n > 1024 {
		t.Errorf("default system prompt is %d bytes; want some, under 1 KB", n)
	}
}

func TestBuiltinCatalog(t *testing.T) {
	cfg, err := Parse("t", []byte("{}"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref    string
		api    API
		ctx    int
		maxOut int
		in     float64
		out    float64
	}{
		{"anthropic/claude-sonnet-4-5", APIAnthropicMessages, 200000, 64000, 3, 15},
		{"anthropic/claude-opus-4-5", APIAnthropicMessages, 200000, 64000, 5, 25},
		{"anthropic/claude-haiku-4-5", APIAnthropicMessages, 200000, 64000, 1, 5},
		{"openrouter/minimax/minimax-m2.1", APIOpenAICompletions, 196608, 65536, 0.30, 1.20},
		{"openrouter/moonshotai/kimi-k2", APIOpenAICompletions, 131072, 16384, 0.50, 2.40},
		{"openrouter/z-ai/glm-4.6", APIOpenAICompletions, 202752, 65536, 0.40, 1.75},
		{"openai/gpt-5", APIOpenAIResponses, 400000, 128000, 1.25, 10},
	}
	for _, tt := range tests {
		m, ok := cfg.Model(tt.ref)
		if !ok {
			t.Errorf("built-in %s missing", tt.ref)
			continue
		}
		if m.Provider.API != tt.api || m.ContextWindow != tt.ctx || m.MaxTokens != tt.maxOut || m.Cost.Input != tt.in || m.Cost.Output != tt.out {
			t.Errorf("%s = api %s ctx %d max %d cost %+v", tt.ref, m.Provider.API, m.ContextWindow, m.MaxTokens, m.Cost)
		}
		if m.Provider.Local {
			t.Errorf("%s: hosted provider marked local", tt.ref)
		}
	}
	// A model ref splits on the first "/": the provider is openrouter.
	if m, _ := cfg.Model("openrouter/minimax/minimax-m2.1"); m.Provider.ID != "openrouter" || m.ID != "minimax/minimax-m2.1" {
		t.Errorf("openrouter ref split wrong: provider %q id %q", m.Provider.ID, m.ID)
	}
	if why := cfg.Provider("openrouter").Unavailable(); why != "OPENROUTER_API_KEY is not set" {
		t.Errorf("openrouter Unavailable() = %q", why)
	}
}

func TestMergeAndReplace(t *testing.T) {
	src := `{
  agents: { defaults: { model: "anthropic/claude-opus-4-5" } },
  models: {
    providers: {
      // Same id as a built-in: these fields override it, models merge by id.
      anthropic: {
        baseUrl: "https://proxy.example/anthropic",
        headers: { "anthropic-beta": "x" },
        models: [
          { id: "claude-opus-4-5", contextWindow: 100000, maxTokens: 4000 },
          { id: "claude-new", contextWindow: 300000, maxTokens: 30000 },
        ],
      },
      openrouter: { models: [ { id: "qwen/qwen3", params: { provider: { only: ["us"], data_collection: "deny" } } } ] },
    },
  },
}`
	cfg, err := Parse("t", []byte(src), env("ANTHROPIC_API_KEY", "k"))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Provider("anthropic")
	if p.BaseURL != "https://proxy.example/anthropic" || p.API != APIAnthropicMessages || p.APIKey != "k" || p.Headers["anthropic-beta"] != "x" {
		t.Errorf("overridden anthropic = %+v", p)
	}
	opus, _ := cfg.Model("anthropic/claude-opus-4-5")
	if opus.ContextWindow != 100000 || opus.MaxTokens != 4000 || opus.Cost.Output != 25 || opus.Name != "Claude Opus 4.5" {
		t.Errorf("merged opus = %+v; want overridden limits, built-in price and name", opus)
	}
	if got := refs(p.Models); !cmp.Equal(got, []string{"anthropic/claude-sonnet-4-5", "anthropic/claude-opus-4-5", "anthropic/claude-haiku-4-5", "anthropic/claude-new"}) {
		t.Errorf("anthropic models = %v", got)
	}
	if cfg.Primary != opus {
		t.Errorf("string form of agents.defaults.model: primary = %s", cfg.Primary.Ref())
	}
	q, _ := cfg.Model("openrouter/qwen/qwen3")
	want := map[string]any{"provider": map[string]any{"only": []any{"us"}, "data_collection": "deny"}}
	if diff := cmp.Diff(want, q.Params); diff != "" {
		t.Errorf("params (-want +got):\n%s", diff)
	}

	replaced, err := Parse("t", []byte(`{models: {mode: "replace", providers: {
	  vllm: {baseUrl: "http://10.0.0.5:8000/v1", api: "openai-completions", models: [{id: "m"}]}}}}`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if ids := replaced.providerIDs(); !cmp.Equal(ids, []string{"vllm"}) {
		t.Errorf("replace: providers = %v; want only vllm", ids)
	}
	if !replaced.Provider("vllm").Local {
		t.Errorf("private-range baseUrl should be local")
	}
	if len(replaced.Aliases()) != 0 {
		t.Errorf("replace: default aliases to dropped models should go, got %v", aliasMap(replaced))
	}
}

func TestEnvSubstitution(t *testing.T) {
	src := `{
  agents: { defaults: { systemPrompt: "costs $${PRICE} here; host ${HOST}" } },
  models: { providers: {
    gw: { baseUrl: "http://${HOST}:8000/v1", apiKey: "${GW_KEY}", api: "openai-completions", models: [{id: "m"}] },
  } },
}`
	cfg, err := Parse("t", []byte(src), env("HOST", "127.0.0.1", "ANTHROPIC_API_KEY", "k"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Agent.SystemPrompt; got != "costs ${PRICE} here; host 127.0.0.1" {
		t.Errorf("systemPrompt = %q", got)
	}
	gw := cfg.Provider("gw")
	if gw.BaseURL != "http://127.0.0.1:8000/v1" {
		t.Errorf("baseUrl = %q", gw.BaseURL)
	}
	if gw.APIKey != "" || gw.Unavailable() != "GW_KEY is not set" {
		t.Errorf("missing key: APIKey %q, Unavailable() %q", gw.APIKey, gw.Unavailable())
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "GW_KEY is not set") {
		t.Errorf("warnings = %q; want the primary's missing GW_KEY", cfg.Warnings)
	}
}

func TestResolve(t *testing.T) {
	cfg, err := Load(fixtures + "02-hybrid-hosted-primary.json5")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"MiniMax Local":                   "lmstudio/minimax-m2.1-gs32",
		"  minimax   LOCAL ":              "lmstudio/minimax-m2.1-gs32",
		"opus":                            "anthropic/claude-opus-4-5",
		"Anthropic/Claude-Haiku-4-5":      "anthropic/claude-haiku-4-5",
		"openrouter/moonshotai/kimi-k2":   "openrouter/moonshotai/kimi-k2",
		"lmstudio/minimax-m2.1-gs32":      "lmstudio/minimax-m2.1-gs32",
		"anthropic/claude-sonnet-4-5":     "anthropic/claude-sonnet-4-5",
		"sonnet":                          "anthropic/claude-sonnet-4-5",
		"openrouter/minimax/minimax-m2.1": "openrouter/minimax/minimax-m2.1",
		"OPENROUTER/Z-AI/GLM-4.6":         "openrouter/z-ai/glm-4.6",
		"MiniMax\tLocal":                  "lmstudio/minimax-m2.1-gs32",
		"anthropic/claude-opus-4-5 ":      "anthropic/claude-opus-4-5",
		"Opus":                            "anthropic/claude-opus-4-5",
		"minimax local":                   "lmstudio/minimax-m2.1-gs32",
		"openai/gpt-5-mini":               "openai/gpt-5-mini",
		"anthropic/claude-haiku-4-5":      "anthropic/claude-haiku-4-5",
		"openrouter/moonshotai/KIMI-K2":   "openrouter/moonshotai/kimi-k2",
		"SONNET":                          "anthropic/claude-sonnet-4-5",
	} {
		m, err := cfg.Resolve(name)
		if err != nil || m.Ref() != want {
			t.Errorf("Resolve(%q) = %v, %v; want %s", name, m, err, want)
		}
	}
	_, err = cfg.Resolve("Opsu")
	if !errors.Is(err, ErrUnknownModel) {
		t.Fatalf("Resolve(Opsu) error = %v; want ErrUnknownModel", err)
	}
	for _, want := range []string{`did you mean "Opus"`, "MiniMax Local, Sonnet, Opus", "anthropic/claude-haiku-4-5"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Resolve(Opsu) error = %q; want it to contain %q", err, want)
		}
	}
}

func TestWhatsAppSettings(t *testing.T) {
	src := `{channels: {whatsapp: {
  dmPolicy: "allowlist",
  allowFrom: ["+1 (555) 123-4567", "0044 20 7946 0958", "+15551234567"],
  admins: ["+1 555 123 4567"],
  groupPolicy: "allowlist",
  groups: { "120363012345678901@g.us": {}, "*": { requireMention: false } },
  textChunkLimit: 2000, streamReplies: false, sendReadReceipts: false, selfChatMode: false,
  rateLimit: { perMinute: 10, burst: 2 }, staleAfter: "30m",
  maxMessageChars: 4000, inboxRetention: "48h", rejectCalls: false, callReply: "",
}}}`
	cfg, err := Parse("t", []byte(src), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.WhatsApp
	want := WhatsApp{
		DMPolicy: "allowlist", DMPolicySet: true, AllowFrom: []string{"+15551234567", "+442079460958"}, Admins: []string{"+15551234567"},
		GroupPolicy: "allowlist", Groups: map[string]Group{"120363012345678901@g.us": {RequireMention: true}, "*": {RequireMention: false}},
		TextChunkLimit: 2000, SendReadReceipts: false, SelfChatMode: false,
		RateLimit:  RateLimit{PerMinute: 10, Burst: 2, OutboundPerMinute: 30, OutboundBurst: 5},
		StaleAfter: 30 * time.Minute, MaxMessageChars: 4000, InboxRetention: 48 * time.Hour,
		RejectCalls: false, CallReply: "",
	}
	if diff := cmp.Diff(want, w); diff != "" {
		t.Errorf("whatsapp (-want +got):\n%s", diff)
	}
}

// What a stranger meets, and whether calls are turned away, follows what
// the number is unless the file says otherwise.
func TestWhatsAppDefaultsFollowTheNumber(t *testing.T) {
	type settings struct {
		DMPolicy       string
		DMPolicySet    bool
		RejectCalls    bool
		InboxRetention time.Duration
	}
	tests := []struct {
		name     string
		whatsapp string
		want     settings
	}{
		{"personal number by default", `{}`, settings{"allowlist", false, false, 72 * time.Hour}},
		{"bot number", `{ selfChatMode: false }`, settings{"pairing", false, true, 72 * time.Hour}},
		{"pairing on a personal number, as asked", `{ dmPolicy: "pairing" }`, settings{"pairing", true, false, 72 * time.Hour}},
		{"allowlist on a bot number, as asked", `{ selfChatMode: false, dmPolicy: "allowlist" }`, settings{"allowlist", true, true, 72 * time.Hour}},
		{"calls rejected on a personal number, as asked", `{ rejectCalls: true }`, settings{"allowlist", false, true, 72 * time.Hour}},
		{"retention covers a long staleAfter", `{ staleAfter: "100h" }`, settings{"allowlist", false, false, 100 * time.Hour}},
		{"retention in seconds", `{ inboxRetention: 7200 }`, settings{"allowlist", false, false, 2 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("t", []byte(`{ channels: { whatsapp: `+tt.whatsapp+` } }`), noEnv)
			if err != nil {
				t.Fatal(err)
			}
			w := cfg.WhatsApp
			got := settings{w.DMPolicy, w.DMPolicySet, w.RejectCalls, w.InboxRetention}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("channels.whatsapp %s (-want +got):\n%s", tt.whatsapp, diff)
			}
			if w.MaxMessageChars != DefaultMaxMessageChars || w.CallReply != DefaultCallReply {
				t.Errorf("maxMessageChars %d, callReply %q; want the defaults", w.MaxMessageChars, w.CallReply)
			}
		})
	}
}

func TestLoadMissingAndInvalidAreDifferent(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(filepath.Join(dir, "nope.json5"))
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrInvalid) {
		t.Errorf("Load(missing) error = %v; want ErrNotFound only", err)
	}
	bad := filepath.Join(dir, "bad.json5")
	if err := os.WriteFile(bad, []byte("{ models: { mode: 'x' } }"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) {
		t.Errorf("Load(invalid) error = %v; want ErrInvalid only", err)
	}
	if !strings.HasPrefix(err.Error(), bad+":1:") {
		t.Errorf("Load(invalid) error = %q; want it to start with the file and line", err)
	}
}

func TestLogValueHidesSecrets(t *testing.T) {
	cfg, err := Parse("t", []byte(`{models: {providers: {lm: {baseUrl: "http://127.0.0.1:1/v1", apiKey: "sk-very-secret", api: "openai-responses", models: [{id: "m"}]}}}}`), env("ANTHROPIC_API_KEY", "sk-ant-secret"))
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	slog.New(slog.NewTextHandler(&buf, nil)).Info("configuration", "config", cfg)
	out := buf.String()
	if strings.Contains(out, "secret") {
		t.Errorf("a key reached the log: %s", out)
	}
	for _, want := range []string{"config.chain=lm/m", "config.lm.key=set", "config.anthropic.key=set", "config.openai.key=unset"} {
		if !strings.Contains(out, want) {
			t.Errorf("log line lacks %q: %s", want, out)
		}
	}
}

// config check and /status say which mode is in force and why, and warn
// when a personal number would show the bot to the owner's contacts.
func TestWhatsAppMode(t *testing.T) {
	tests := []struct {
		whatsapp string
		mode     string
		warning  string // "" for none
	}{
		{`{}`, "personal number (selfChatMode true): strangers get no answer and no read receipt (dmPolicy allowlist, the default for a personal number)", ""},
		{`{ selfChatMode: false }`, "bot number (selfChatMode false): strangers get a pairing code for an admin to approve (dmPolicy pairing, the default for a bot number)", ""},
		{`{ dmPolicy: "pairing" }`, "personal number (selfChatMode true): strangers get a pairing code for an admin to approve (dmPolicy pairing, set in the config)",
			"every contact who writes to you will get a pairing reply from your own number"},
		{`{ dmPolicy: "open", allowFrom: ["*"] }`, "personal number (selfChatMode true): anyone who writes gets an answer from the model (dmPolicy open, set in the config)",
			"every contact who writes to you will get an answer from the model"},
		{`{ dmPolicy: "allowlist" }`, "personal number (selfChatMode true): strangers get no answer and no read receipt (dmPolicy allowlist, set in the config)", ""},
		{`{ selfChatMode: false, dmPolicy: "allowlist" }`, "bot number (selfChatMode false): strangers get no answer and no read receipt (dmPolicy allowlist, set in the config)", ""},
		{`{ selfChatMode: false, dmPolicy: "open", allowFrom: ["*"] }`, "bot number (selfChatMode false): anyone who writes gets an answer from the model (dmPolicy open, set in the config)", ""},
		{`{ dmPolicy: "disabled" }`, "personal number (selfChatMode true): no direct message is answered, only the self-chat (dmPolicy disabled, set in the config)", ""},
	}
	for _, tt := range tests {
		cfg, err := Parse("t", []byte(`{ channels: { whatsapp: `+tt.whatsapp+` } }`), env("ANTHROPIC_API_KEY", "k"))
		if err != nil {
			t.Fatalf("Parse(%s): %v", tt.whatsapp, err)
		}
		if got := cfg.WhatsApp.Mode(); got != tt.mode {
			t.Errorf("Mode() of %s = %q; want %q", tt.whatsapp, got, tt.mode)
		}
		warnings := strings.Join(cfg.Warnings, "\n")
		if (tt.warning == "") != (warnings == "") || !strings.Contains(warnings, tt.warning) {
			t.Errorf("warnings of %s = %q; want %q", tt.whatsapp, warnings, tt.warning)
		}
	}
}
