package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Issue 14: a built-in provider configured with its own id and an apiKey
// of the user's was reported as missing the built-in's variable, so it
// could not be used.
func TestBuiltinWithOwnKeyIsUsable(t *testing.T) {
	src := `{ models: { providers: { anthropic: {
	  baseUrl: "https://api.anthropic.com",
	  apiKey: "sk-ant-from-the-file",
	  api: "anthropic-messages",
	} } } }`
	cfg, err := Parse("t", []byte(src), noEnv)
	if err != nil {
		t.Fatalf("Parse() error = %v", err)
	}
	p := cfg.Provider("anthropic")
	if p.APIKey != "sk-ant-from-the-file" {
		t.Errorf("anthropic APIKey = %q; want the file's key", p.APIKey)
	}
	if why := p.Unavailable(); why != "" {
		t.Errorf("anthropic Unavailable() = %q; want usable with the file's key", why)
	}
	if len(p.MissingEnv) != 0 {
		t.Errorf("anthropic MissingEnv = %q; want none: the file replaced ${ANTHROPIC_API_KEY}", p.MissingEnv)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings = %q; want none (no %q)", cfg.Warnings, "ANTHROPIC_API_KEY is not set")
	}
	// The other built-ins still say which key they lack.
	if why := cfg.Provider("openai").Unavailable(); why != "OPENAI_API_KEY is not set" {
		t.Errorf("openai Unavailable() = %q; want OPENAI_API_KEY named", why)
	}
}

// A variable the file names itself is still read and reported when unset;
// the built-in's, which it replaced, is not.
func TestBuiltinKeyFromOwnVariable(t *testing.T) {
	src := `{ models: { providers: { anthropic: { apiKey: "${TEAM_ANTHROPIC_KEY}" } } } }`
	cfg, err := Parse("t", []byte(src), env("ANTHROPIC_API_KEY", "sk-ant-built-in"))
	if err != nil {
		t.Fatalf("Parse() error = %v", err)
	}
	p := cfg.Provider("anthropic")
	if p.APIKey != "" || p.Unavailable() != "TEAM_ANTHROPIC_KEY is not set" {
		t.Errorf("anthropic APIKey %q, Unavailable() %q; want no key and TEAM_ANTHROPIC_KEY named", p.APIKey, p.Unavailable())
	}
	want := "provider anthropic (the primary, alias Opus) cannot be used: TEAM_ANTHROPIC_KEY is not set"
	if len(cfg.Warnings) != 1 || cfg.Warnings[0] != want {
		t.Errorf("warnings = %q; want [%q]", cfg.Warnings, want)
	}

	cfg, err = Parse("t", []byte(src), env("TEAM_ANTHROPIC_KEY", "sk-ant-team"))
	if err != nil {
		t.Fatalf("Parse() error = %v", err)
	}
	if p := cfg.Provider("anthropic"); p.APIKey != "sk-ant-team" || p.Unavailable() != "" || len(cfg.Warnings) != 0 {
		t.Errorf("anthropic APIKey %q, Unavailable() %q, warnings %q; want the team key and no warning", p.APIKey, p.Unavailable(), cfg.Warnings)
	}
}

// Issue 14: moving LM Studio to another machine is one baseUrl; the rest of
// the built-in lmstudio (api, model, limits) and the default primary stay.
func TestLMStudioMovedByBaseURLAlone(t *testing.T) {
	src := `{ models: { providers: { lmstudio: { baseUrl: "http://192.168.1.50:1234/v1" } } } }`
	cfg, err := Parse("t", []byte(src), env("ANTHROPIC_API_KEY", "k"))
	if err != nil {
		t.Fatalf("Parse() error = %v; want the built-in lmstudio moved", err)
	}
	if got := cfg.Primary.Ref(); got != "lmstudio/minimax-m2.1-gs32" {
		t.Errorf("primary = %s; want the default lmstudio/minimax-m2.1-gs32", got)
	}
	p := cfg.Provider("lmstudio")
	want := Provider{ID: "lmstudio", BaseURL: "http://192.168.1.50:1234/v1", API: APIOpenAIResponses, Local: true, BuiltIn: true,
		IdleTimeout: defaultLocalIdleTimeout, RequestTimeout: defaultLocalRequestTimeout, KeepWarm: defaultKeepWarm}
	if diff := cmp.Diff(want, *p, cmpopts.IgnoreFields(Provider{}, "Models")); diff != "" {
		t.Errorf("lmstudio (-want +got):\n%s", diff)
	}
	if len(p.Models) != 1 {
		t.Fatalf("lmstudio models = %v; want the built-in minimax-m2.1-gs32 only", refs(p.Models))
	}
	m := *p.Models[0]
	m.Provider = nil
	wantModel := Model{ID: "minimax-m2.1-gs32", Name: "MiniMax M2.1 GS32", Alias: "Minimax", Input: []string{"text"}, ContextWindow: 196608, MaxTokens: 8192}
	if diff := cmp.Diff(wantModel, m); diff != "" {
		t.Errorf("lmstudio model (-want +got):\n%s", diff)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings = %q; want none", cfg.Warnings)
	}
}

// cloneProvider copies p deeply enough for a test to change the copy.
func cloneProvider(p *Provider) *Provider {
	c := *p
	c.Headers = maps.Clone(p.Headers)
	c.MissingEnv = slices.Clone(p.MissingEnv)
	c.Models = nil
	for _, m := range p.Models {
		mc := *m
		mc.Provider = &c
		c.Models = append(c.Models, &mc)
	}
	return &c
}

// Under "merge" a built-in configured with its id keeps every field the
// file sets and, for every field it leaves out, what the built-in alone
// resolves to. Each case sets one field of one built-in.
func TestBuiltinMergesFieldByField(t *testing.T) {
	plain, err := Parse("t", []byte(`{}`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		// set returns what the file writes inside models.providers.<id>,
		// and inside agents.defaults.models (may be "").
		set  func(base *Provider) (provider, prefs string)
		want func(p *Provider)
	}{
		{"baseUrl", func(b *Provider) (string, string) {
			if b.Local {
				return `baseUrl: "http://192.168.1.50:1234/v1"`, ""
			}
			return `baseUrl: "https://proxy.example/v1"`, ""
		}, func(p *Provider) {
			p.BaseURL = map[bool]string{true: "http://192.168.1.50:1234/v1", false: "https://proxy.example/v1"}[p.Local]
		}},
		{"apiKey", func(*Provider) (string, string) { return `apiKey: "sk-from-the-file"`, "" },
			func(p *Provider) { p.APIKey, p.MissingEnv = "sk-from-the-file", nil }},
		{"api", func(b *Provider) (string, string) { return fmt.Sprintf("api: %q", otherAPI(b.API)), "" },
			func(p *Provider) { p.API = otherAPI(p.API) }},
		{"headers", func(*Provider) (string, string) { return `headers: { "X-Client": "waclaw" }`, "" },
			func(p *Provider) { p.Headers = map[string]string{"X-Client": "waclaw"} }},
		{"local", func(b *Provider) (string, string) { return fmt.Sprintf("local: %t", !b.Local), "" },
			func(p *Provider) {
				// The timeouts that follow from locality follow the file's.
				p.Local = !p.Local
				p.IdleTimeout, p.RequestTimeout, p.KeepWarm = defaultHostedIdleTimeout, defaultHostedRequestTimeout, 0
				if p.Local {
					p.IdleTimeout, p.RequestTimeout, p.KeepWarm = defaultLocalIdleTimeout, defaultLocalRequestTimeout, defaultKeepWarm
				}
			}},
		{"idleTimeout", func(*Provider) (string, string) { return `idleTimeout: "7s"`, "" },
			func(p *Provider) { p.IdleTimeout = 7 * time.Second }},
		{"requestTimeout", func(*Provider) (string, string) { return `requestTimeout: "3m"`, "" },
			func(p *Provider) { p.RequestTimeout = 3 * time.Minute }},
		{"keepWarm", func(*Provider) (string, string) { return `keepWarm: "5m"`, "" },
			func(p *Provider) { p.KeepWarm = 5 * time.Minute }},
		{"models adds one", func(*Provider) (string, string) { return `models: [{ id: "extra" }]`, "" },
			func(p *Provider) {
				p.Models = append(p.Models, &Model{Provider: p, ID: "extra", Name: "extra", Input: []string{"text"},
					ContextWindow: DefaultContextWindow, MaxTokens: DefaultMaxTokens})
			}},
		{"model name", func(b *Provider) (string, string) { return modelField(b, `name: "Mine"`), "" },
			func(p *Provider) { p.Models[0].Name = "Mine" }},
		{"model reasoning", func(b *Provider) (string, string) {
			return modelField(b, fmt.Sprintf("reasoning: %t", !b.Models[0].Reasoning)), ""
		}, func(p *Provider) { p.Models[0].Reasoning = !p.Models[0].Reasoning }},
		{"model input", func(b *Provider) (string, string) { return modelField(b, `input: ["image"]`), "" },
			func(p *Provider) { p.Models[0].Input = []string{"image"} }},
		{"model cost", func(b *Provider) (string, string) { return modelField(b, `cost: { output: 99 }`), "" },
			func(p *Provider) { p.Models[0].Cost.Output = 99 }},
		{"model contextWindow", func(b *Provider) (string, string) { return modelField(b, `contextWindow: 1000000`), "" },
			func(p *Provider) { p.Models[0].ContextWindow = 1000000 }},
		{"model maxTokens", func(b *Provider) (string, string) { return modelField(b, `maxTokens: 1000`), "" },
			func(p *Provider) { p.Models[0].MaxTokens = 1000 }},
		{"model params", func(b *Provider) (string, string) { return modelField(b, `params: { temperature: 0.2 }`), "" },
			func(p *Provider) { p.Models[0].Params = map[string]any{"temperature": json.Number("0.2")} }},
		{"model alias", func(b *Provider) (string, string) {
			return "", fmt.Sprintf(`%q: { alias: "Mine" }`, b.Models[0].Ref())
		}, func(p *Provider) {
			// Setting agents.defaults.models replaces the default aliases.
			for _, m := range p.Models {
				m.Alias = ""
			}
			p.Models[0].Alias = "Mine"
		}},
	}
	for _, b := range plain.Providers {
		for _, tt := range tests {
			t.Run(b.ID+"/"+tt.name, func(t *testing.T) {
				provider, prefs := tt.set(b)
				src := fmt.Sprintf("{ agents: { defaults: { models: { %s } } },\n  models: { providers: { %q: { %s } } } }", prefs, b.ID, provider)
				if prefs == "" {
					src = fmt.Sprintf("{ models: { providers: { %q: { %s } } } }", b.ID, provider)
				}
				cfg, err := Parse("t", []byte(src), noEnv)
				if err != nil {
					t.Fatalf("Parse(%s) error = %v", src, err)
				}
				want := cloneProvider(b)
				tt.want(want)
				if diff := cmp.Diff(want, cfg.Provider(b.ID), cmpopts.IgnoreFields(Model{}, "Provider")); diff != "" {
					t.Errorf("%s (-want +got):\n%s", src, diff)
				}
			})
		}
	}
}

func otherAPI(a API) API {
	if a == APIOpenAICompletions {
		return APIOpenAIResponses
	}
	return APIOpenAICompletions
}

// modelField is a models list that sets one field of the built-in's first
// model.
func modelField(b *Provider, field string) string {
	return fmt.Sprintf("models: [{ id: %q, %s }]", b.Models[0].ID, field)
}

// Under "replace" nothing of a built-in is kept, not even under its id;
// a file that lists no providers still gets the seed's local setup.
func TestReplaceKeepsNothingOfTheBuiltins(t *testing.T) {
	_, err := Parse("t", []byte(`{ models: { mode: "replace", providers: {
  lmstudio: { baseUrl: "http://192.168.1.50:1234/v1" } } } }`), noEnv)
	want := `t:2:13: models.providers.lmstudio: has no "api": set api to one of openai-responses, openai-completions, anthropic-messages (models.mode "replace" keeps nothing of the built-in lmstudio)
t:2:13: models.providers.lmstudio: lists no models: add at least one { id: "...", contextWindow: ..., maxTokens: ... } (models.mode "replace" keeps nothing of the built-in lmstudio) (a server only for transcription is fine: name it in tools.media.audio.models)
t: agents.defaults.model.primary: "lmstudio/minimax-m2.1-gs32" names no model: provider "lmstudio" has no model "minimax-m2.1-gs32": add it to models.providers.lmstudio.models`
	if err == nil || err.Error() != want {
		t.Errorf("replace with lmstudio's baseUrl alone: error =\n%v\nwant\n%s", err, want)
	}

	cfg, err := Parse("t", []byte(`{ models: { mode: "replace", providers: {
  anthropic: { baseUrl: "https://api.anthropic.com", api: "anthropic-messages", models: [{ id: "claude-opus-4-5" }] } } } }`), noEnv)
	if err != nil {
		t.Fatalf("Parse() error = %v", err)
	}
	if ids := cfg.providerIDs(); !slices.Equal(ids, []string{"anthropic"}) {
		t.Errorf("providers = %v; want only the file's anthropic", ids)
	}
	p := cfg.Provider("anthropic")
	if p.BuiltIn || p.APIKey != "" || len(p.MissingEnv) != 0 || p.Unavailable() != "" {
		t.Errorf("anthropic = builtin %v, key %q, MissingEnv %q; want none of the built-in's (no ${ANTHROPIC_API_KEY})", p.BuiltIn, p.APIKey, p.MissingEnv)
	}
	m := *p.Models[0]
	m.Provider, m.Alias = nil, ""
	wantModel := Model{ID: "claude-opus-4-5", Name: "claude-opus-4-5", Input: []string{"text"}, ContextWindow: DefaultContextWindow, MaxTokens: DefaultMaxTokens}
	if diff := cmp.Diff(wantModel, m); len(p.Models) != 1 || diff != "" {
		t.Errorf("anthropic models %v; want only the file's, with no built-in field (-want +got):\n%s", refs(p.Models), diff)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings = %q; want none", cfg.Warnings)
	}

	cfg, err = Parse("t", []byte(`{ models: { mode: "replace" } }`), noEnv)
	if err != nil {
		t.Fatalf("Parse() error = %v", err)
	}
	if ids := cfg.providerIDs(); !slices.Equal(ids, []string{"lmstudio"}) || cfg.Primary.Ref() != defaultPrimary {
		t.Errorf("replace with no providers: providers %v, primary %s; want the seed's lmstudio alone", ids, cfg.Primary.Ref())
	}
}

// A file that names no primary: the seed's MiniMax while the file leaves
// it in lmstudio's hands, else the first model of the file's first provider.
func TestPrimaryWhenNoneIsNamed(t *testing.T) {
	tests := []struct {
		name, providers, want string
	}{
		{"no providers", ``, "lmstudio/minimax-m2.1-gs32"},
		{"lmstudio moved", `lmstudio: { baseUrl: "http://192.168.1.50:1234/v1" }`, "lmstudio/minimax-m2.1-gs32"},
		{"lmstudio listing the seed's model among others", `lmstudio: { models: [{ id: "qwen3" }, { id: "minimax-m2.1-gs32" }] }`, "lmstudio/minimax-m2.1-gs32"},
		{"lmstudio serving other models", `lmstudio: { models: [{ id: "qwen3" }] }`, "lmstudio/qwen3"},
		{"a hosted key only", `anthropic: { apiKey: "sk-ant-x" }`, "anthropic/claude-sonnet-4-5"},
		{"a hosted key, then lmstudio", `anthropic: { apiKey: "sk-ant-x" }, lmstudio: {}`, "lmstudio/minimax-m2.1-gs32"},
		{"a provider of the file's own", `local: { baseUrl: "http://127.0.0.1:8000/v1", api: "openai-completions", models: [{ id: "m" }] }`, "local/m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := `{ models: { providers: { ` + tt.providers + ` } } }`
			cfg, err := Parse("t", []byte(src), noEnv)
			if err != nil {
				t.Fatalf("Parse(%s) error = %v", src, err)
			}
			if got := cfg.Primary.Ref(); got != tt.want {
				t.Errorf("Parse(%s) primary = %s; want %s", src, got, tt.want)
			}
		})
	}
}
