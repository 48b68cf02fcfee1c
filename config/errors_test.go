package config

import (
	"errors"
	"strings"
	"testing"
)

// provider is a valid provider block for building bad configs around.
const provider = `lm: { baseUrl: "http://127.0.0.1:1234/v1", api: "openai-responses", models: [{ id: "m", contextWindow: 8192, maxTokens: 1024 }] }`

func TestBadConfigs(t *testing.T) {
	tests := []struct {
		name string
		src  string
		line int
		path string
		msg  string
	}{
		{"missing comma", "{\n  models: { mode: 'merge'\n    providers: {} }\n}", 3, "", `malformed JSON5: unexpected 'p' after object value`},
		{"unclosed object", "{\n  agents: {\n", 3, "", "malformed JSON5"},
		{"unknown top-level key", "{\n  models: {},\n  gateway: { port: 1 },\n}", 3, "gateway", `unknown key "gateway" (known keys here: agents, channels, models, tools)`},
		{"typo with suggestion", "{ models: { providers: {\n  lm: { baseURL: 'http://x', api: 'openai-responses', models: [{id: 'm'}] } } } }", 2, "models.providers.lm.baseURL", `unknown key "baseURL" (did you mean "baseUrl"?)`},
		{"string for number", "{ models: { providers: { lm: { baseUrl: 'http://x/v1', api: 'openai-responses',\n  models: [{ id: 'm', contextWindow: '8192' }] } } } }", 2, "models.providers.lm.models[0].contextWindow", `expected a whole number, got a string ("8192")`},
		{"fraction for whole number", "{ models: { providers: { lm: { baseUrl: 'http://x/v1', api: 'openai-responses',\n  models: [{ id: 'm', maxTokens: 10.5 }] } } } }", 2, "models.providers.lm.models[0].maxTokens", "expected a whole number, got 10.5"},
		{"string for list", "{ agents: { defaults: {\n  model: { primary: 'lm/m', fallbacks: 'lm/m' } } },\n  models: { providers: { " + provider + " } } }", 2, "agents.defaults.model.fallbacks", `expected a list [ ... ], got a string ("lm/m")`},
		{"models.mode", "{\n  models: {\n    mode: 'mix',\n  },\n}", 3, "models.mode", `must be "merge" (keep the built-in hosted providers) or "replace" (only the providers listed here), not "mix"`},
		{"unknown api", "{ models: { providers: { lm: {\n  baseUrl: 'http://x/v1',\n  api: 'openai-chat',\n  models: [{id: 'm'}] } } } }", 3, "models.providers.lm.api", `unknown api "openai-chat": use one of openai-responses, openai-completions, anthropic-messages`},
		{"missing api", "{ models: { providers: {\n  lm: { baseUrl: 'http://x/v1', models: [{id: 'm'}] } } } }", 2, "models.providers.lm", `has no "api"`},
		{"baseUrl not http", "{ models: { providers: { lm: {\n  baseUrl: '127.0.0.1:1234/v1', api: 'openai-responses', models: [{id: 'm'}] } } } }", 2, "models.providers.lm.baseUrl", `"127.0.0.1:1234/v1" is not an http(s) URL`},
		{"primary names no model", "{\n  agents: { defaults: {\n    model: { primary: 'lm/mm' } } },\n  models: { providers: { " + provider + " } } }", 3, "agents.defaults.model.primary", `"lm/mm" names no model: provider "lm" has no model "mm"`},
		{"fallback names no provider", "{ agents: { defaults: { model: {\n  primary: 'lm/m',\n  fallbacks: ['vllm/m'] } } },\n  models: { providers: { " + provider + " } } }", 3, "agents.defaults.model.fallbacks[0]", `"vllm/m" names no model: there is no provider "vllm"`},
		{"alias names no model", "{ agents: { defaults: { models: {\n  'anthropic/claude-opus-5': { alias: 'Opus' } } } } }", 2, `agents.defaults.models["anthropic/claude-opus-5"]`, `names no model: provider "anthropic" has no model "claude-opus-5"`},
		{"duplicate alias", "{ agents: { defaults: { models: {\n  'anthropic/claude-opus-4-5': { alias: 'Claude' },\n  'anthropic/claude-sonnet-4-5': { alias: 'claude' },\n} } } }", 3, `agents.defaults.models["anthropic/claude-sonnet-4-5"].alias`, `alias "claude" is already used by anthropic/claude-opus-4-5`},
		{"maxTokens above window", "{ models: { providers: { lm: { baseUrl: 'http://x/v1', api: 'openai-responses', models: [{ id: 'm',\n  contextWindow: 4096,\n  maxTokens: 8192 }] } } } }", 3, "models.providers.lm.models[0].maxTokens", "must be more than 0 and less than contextWindow (4096), got 8192"},
		{"window below the built-in maxTokens", "{ models: { providers: { anthropic: { models: [{ id: 'claude-opus-4-5',\n  contextWindow: 32000 }] } } } }", 2, "models.providers.anthropic.models[0].contextWindow", "32000 leaves no room for replies of maxTokens 64000 (the built-in's): also set maxTokens, below contextWindow"},
		{"window below the default maxTokens", "{ models: { providers: { lm: { baseUrl: 'http://x/v1', api: 'openai-responses', models: [{ id: 'm',\n  contextWindow: 4096 }] } } } }", 2, "models.providers.lm.models[0].contextWindow", "4096 leaves no room for replies of maxTokens 4096 (the default): also set maxTokens, below contextWindow"},
		{"duplicate model id", "{ models: { providers: { lm: { baseUrl: 'http://x/v1', api: 'openai-responses', models: [\n  { id: 'm' },\n  { id: 'm' }] } } } }", 3, "models.providers.lm.models[1].id", `model "m" is listed twice`},
		{"duplicate key", "{\n  models: { mode: 'merge' },\n  models: { mode: 'replace' },\n}", 3, "models", `key "models" appears twice`},
		{"dmPolicy", "{ channels: { whatsapp: {\n  dmPolicy: 'everyone' } } }", 2, "channels.whatsapp.dmPolicy", `must be one of pairing, allowlist, open, disabled, not "everyone"`},
		{"open without star", "{ channels: { whatsapp: {\n  dmPolicy: 'open', allowFrom: ['+15551234567'] } } }", 2, "channels.whatsapp.dmPolicy", `also add "*" to allowFrom`},
		{"allowFrom not a number", "{ channels: { whatsapp: { allowFrom: [\n  '+15551234567',\n  'bob'] } } }", 3, "channels.whatsapp.allowFrom[1]", `"bob" is not a phone number`},
		{"allowFrom without country code", "{ channels: { whatsapp: {\n  allowFrom: ['555-1234'] } } }", 2, "channels.whatsapp.allowFrom[0]", `"555-1234" has no country code: write it in international form with the country code, like +15551234567`},
		{"admins too short", "{ channels: { whatsapp: { admins: [\n  '+5551234'] } } }", 2, "channels.whatsapp.admins[0]", `"+5551234" is too short for an international number`},
		{"groupAllowFrom without country code", "{ channels: { whatsapp: { groupAllowFrom: ['*',\n\n  '15550001111'] } } }", 3, "channels.whatsapp.groupAllowFrom[1]", `"15550001111" has no country code`},
		{"admin star", "{ channels: { whatsapp: {\n  admins: ['*'] } } }", 2, "channels.whatsapp.admins[0]", `"*" is not a phone number`},
		{"group id", "{ channels: { whatsapp: { groups: {\n  'family': {} } } } }", 2, "channels.whatsapp.groups.family", `"family" is not a group id`},
		{"textChunkLimit", "{ channels: { whatsapp: {\n  textChunkLimit: 70000 } } }", 2, "channels.whatsapp.textChunkLimit", "must be between 100 and 65536"},
		{"maxMessageChars too small", "{ channels: { whatsapp: {\n  maxMessageChars: 100 } } }", 2, "channels.whatsapp.maxMessageChars", "must be between 500 and 1000000 characters, got 100"},
		{"maxMessageChars too big", "{ channels: { whatsapp: {\n  maxMessageChars: 5000000 } } }", 2, "channels.whatsapp.maxMessageChars", "must be between 500 and 1000000 characters, got 5000000"},
		{"maxMessageChars typo", "{ channels: { whatsapp: {\n  maxMessageChar: 4000 } } }", 2, "channels.whatsapp.maxMessageChar", `unknown key "maxMessageChar" (did you mean "maxMessageChars"?)`},
		{"inboxRetention too short", "{ channels: { whatsapp: {\n  inboxRetention: '30m' } } }", 2, "channels.whatsapp.inboxRetention", "must be at least 1h, got 30m: a message WhatsApp delivers again after a reconnect must still be recognised"},
		{"inboxRetention under staleAfter", "{ channels: { whatsapp: { staleAfter: '6h',\n  inboxRetention: '2h' } } }", 2, "channels.whatsapp.inboxRetention", "must be at least staleAfter (6h), got 2h"},
		{"inboxRetention not a duration", "{ channels: { whatsapp: {\n  inboxRetention: 'a week' } } }", 2, "channels.whatsapp.inboxRetention", `expected a duration such as "90s"`},
		{"rejectCalls not a bool", "{ channels: { whatsapp: {\n  rejectCalls: 'yes' } } }", 2, "channels.whatsapp.rejectCalls", `expected true or false, got a string ("yes")`},
		{"callReply not a string", "{ channels: { whatsapp: {\n  callReply: false } } }", 2, "channels.whatsapp.callReply", "expected a string in quotes, got false"},
		{"compaction mode", "{ agents: { defaults: { compaction: {\n  mode: 'safeguard' } } } }", 2, "agents.defaults.compaction.mode", `must be "auto" or "off", not "safeguard"`},
		{"unknown tool", "{ agents: { defaults: {\n  tools: ['exec'] } } }", 2, "agents.defaults.tools[0]", `unknown tool "exec"`},
		{"bad duration", "{ models: { providers: { lm: { baseUrl: 'http://x/v1', api: 'openai-responses', models: [{id: 'm'}],\n  idleTimeout: 'soon' } } } }", 2, "models.providers.lm.idleTimeout", `expected a duration such as "90s"`},
		{"replace drops the catalog", "{ agents: { defaults: { models: {\n  'anthropic/claude-opus-4-5': { alias: 'Opus' } } } },\n  models: { mode: 'replace', providers: { " + provider + " } } }", 2, `agents.defaults.models["anthropic/claude-opus-4-5"]`, `there is no provider "anthropic"`},
		{"negative number", "{ channels: { whatsapp: { rateLimit: {\n  perMinute: -1 } } } }", 2, "channels.whatsapp.rateLimit.perMinute", "must not be negative"},
		{"null for object", "{ models: { providers: {\n  lm: 3 } } }", 2, "models.providers.lm", "expected an object { ... }, got a number (3)"},
		{"ref without slash", "{ agents: { defaults: {\n  model: 'Opus' } } }", 2, "agents.defaults.model.primary", `write it as "provider/model"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.json5", []byte(tt.src), noEnv)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse() error = %v; want ErrInvalid", err)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse() error = %v; want a *config.Error", err)
			}
			if e.File != "bad.json5" || e.Line != tt.line || e.Path != tt.path || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("Parse() first error = %s (line %d, path %q)\nwant line %d, path %q, message containing %q", e, e.Line, e.Path, tt.line, tt.path, tt.msg)
			}
		})
	}
}

func TestAllProblemsReportedAtOnce(t *testing.T) {
	src := "{\n  models: { mode: 'mix' },\n  channels: { whatsapp: { dmPolicy: 'x', admins: ['bob'] } },\n  agents: { defaults: { modle: {} } },\n}"
	_, err := Parse("f", []byte(src), noEnv)
	var es Errors
	if !errors.As(err, &es) || len(es) != 4 {
		t.Fatalf("Parse() error = %v; want 4 problems listed", err)
	}
	for i, line := range []int{2, 3, 3, 4} {
		if es[i].Line != line {
			t.Errorf("problem %d at line %d; want %d (file order): %s", i, es[i].Line, line, es[i])
		}
	}
}
