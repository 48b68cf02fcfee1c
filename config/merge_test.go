package config

import (
	"testing"

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
