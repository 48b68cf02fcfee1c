package config

import "testing"

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
