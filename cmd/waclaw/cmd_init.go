package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"waclaw/agent"
	"waclaw/bridge/whatsapp"
	"waclaw/cmd/waclaw/doctor"
	"waclaw/config"
)

// defaultServers are where local model servers listen unless told
// otherwise, in the order init prefers them.
var defaultServers = []struct{ id, url string }{
	{"lmstudio", "http://127.0.0.1:1234/v1"},
	{"ollama", "http://127.0.0.1:11434/v1"},
	{"llamacpp", "http://127.0.0.1:8080/v1"},
	{"vllm", "http://127.0.0.1:8000/v1"},
	{"litellm", "http://127.0.0.1:4000/v1"},
}

// hostedFallbacks are the fallbacks init offers, each with the key it needs.
var hostedFallbacks = []struct{ ref, env string }{
	{"anthropic/claude-sonnet-4-5", "ANTHROPIC_API_KEY"},
	{"openai/gpt-5-mini", "OPENAI_API_KEY"},
	{"openrouter/minimax/minimax-m2.1", "OPENROUTER_API_KEY"},
}

// initProbeTimeout bounds each request to a server: a local one answers
// at once, and nothing listening refuses at once.
const initProbeTimeout = 3 * time.Second

// repeated is a flag that may be given more than once.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(s string) error { *r = append(*r, s); return nil }

// initOptions are init's flags, and what the user chose in a terminal.
type initOptions struct {
	urls      repeated
	model     string
	fallback  string
	botNumber bool
	force     bool
}

// initCommand finds local model servers, writes a config for the best
// model (or the one chosen) and checks it as doctor does.
func initCommand(fs *flag.FlagSet) runFunc {
	o := &initOptions{}
	fs.Var(&o.urls, "url", "a model server's base URL to look at, e.g. http://127.0.0.1:1234/v1 (repeatable); when given, the default ports are not scanned")
	fs.StringVar(&o.model, "model", "", "the model to use as primary (its id, or provider/id); default the best one found")
	fs.StringVar(&o.fallback, "fallback", "", "a hosted fallback, e.g. anthropic/claude-sonnet-4-5 (used only when its key is set)")
	fs.BoolVar(&o.botNumber, "bot-number", false, "the WhatsApp number is the bot's own, not yours (selfChatMode false)")
	fs.BoolVar(&o.force, "force", false, "replace an existing config file")
	return func(ctx context.Context, e *env) error {
		if len(e.args) > 0 {
			return usageError{"init takes no arguments (servers are given with --url)"}
		}
		// A person at a terminal chooses; otherwise the flags and the best
		// model decide.
		var in *bufio.Reader
		if f, ok := e.stdin.(*os.File); ok && whatsapp.IsTerminal(f) && whatsapp.IsTerminal(e.stdout) {
			in = bufio.NewReader(e.stdin)
		}
		return runInit(ctx, e, o, in)
	}
}

// found is one model server that answered.
type found struct {
	id, url string
	kind    agent.ServerKind
	version string
	api     config.API
	models  []foundModel
}

type foundModel struct {
	id      string
	context int // what the server gives it, else its maximum; 0 unknown
	loaded  bool
	// maxOnly: context is the model's maximum, not what it is loaded with
	// (it is not loaded now).
	maxOnly bool
}

func (m foundModel) usable() bool {
	id := strings.ToLower(m.id)
	return !strings.Contains(id, "embed") && !strings.Contains(id, "rerank")
}

// runInit asks its questions on in, or on nothing when in is nil.
func runInit(ctx context.Context, e *env, o *initOptions, in *bufio.Reader) error {
	path, _ := e.global.configFile("")
	if _, err := os.Stat(path); err == nil && !o.force {
		return fmt.Errorf("%s already exists: waclaw init does not overwrite it; run waclaw init --force to replace it, or waclaw --config NEW.json5 init to write another", path)
	}
	targets := defaultServers
	if len(o.urls) > 0 {
		targets = nil
		for _, u := range o.urls {
			targets = append(targets, struct{ id, url string }{"", normalizeURL(u)})
		}
	}
	fmt.Fprintln(e.stdout, "Looking for model servers on this machine:")
	var servers []*found
	taken := map[string]int{}
	n := 0
	for _, t := range targets {
		s, err := probeServer(ctx, t.id, t.url)
		if err != nil {
			fmt.Fprintf(e.stdout, "  %-28s nothing there (%s)\n", t.url, shortErr(err))
			continue
		}
		taken[s.id]++
		if taken[s.id] > 1 {
			s.id += strconv.Itoa(taken[s.id])
		}
		servers = append(servers, s)
		name := kindName(s.kind)
		if s.version != "" {
			name += " " + s.version
		}
		fmt.Fprintf(e.stdout, "  %-28s %s, speaks %s\n", s.url, name, apiName(s.api))
		if len(s.models) == 0 {
			fmt.Fprintf(e.stdout, "      (serves no model yet)\n")
		}
		for _, m := range s.models {
			n++
			fmt.Fprintf(e.stdout, "    %2d. %s/%s%s\n", n, s.id, m.id, describeFound(m))
		}
	}

	primary, err := choosePrimary(e, in, servers, o.model)
	if err != nil {
		return err
	}
	if primary == nil {
		fmt.Fprint(e.stdout, installAdvice)
	}
	if in != nil {
		o.botNumber = ask(e, in, "Is the WhatsApp number you will link your own (1) or a number just for the bot (2)?", 1, 2) == 2
		if o.fallback == "" {
			fmt.Fprintln(e.stdout, "Add a hosted fallback, used when the local model cannot answer (only while its key is set)?")
			fmt.Fprintln(e.stdout, "   1. none")
			for i, f := range hostedFallbacks {
				fmt.Fprintf(e.stdout, "  %2d. %s (needs %s)\n", i+2, f.ref, f.env)
			}
			if c := ask(e, in, "Fallback", 1, len(hostedFallbacks)+1); c > 1 {
				o.fallback = hostedFallbacks[c-2].ref
			}
		}
	}

	text := initConfigText(servers, primary, o)
	if _, err := config.Parse(path, []byte(text), os.LookupEnv); err != nil {
		if o.fallback != "" {
			return fmt.Errorf("--fallback %q: the config would not load: %w", o.fallback, err)
		}
		return fmt.Errorf("the config init made does not load (a bug in waclaw init): %w", err)
	}
	if err := writeNewFile(path, text, o.force); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nPrimary:  %s\n", refOf(servers, primary))
	if o.botNumber {
		fmt.Fprintln(e.stdout, "WhatsApp: a number just for the bot (selfChatMode false)")
	} else {
		fmt.Fprintln(e.stdout, "WhatsApp: your own number, the bot answers in your self-chat (selfChatMode true; --bot-number for a bot's own number)")
	}
	if o.fallback != "" {
		fmt.Fprintf(e.stdout, "Fallback: %s\n", o.fallback)
		if env := keyEnv(o.fallback); strings.HasSuffix(env, "_API_KEY") && os.Getenv(env) == "" {
			fmt.Fprintf(e.stdout, "          %s is not set: until it is, the fallback is skipped and doctor fails its key check\n", env)
		}
	} else {
		fmt.Fprintln(e.stdout, "Fallback: none (a commented-out line in the file says how to add one)")
	}
	fmt.Fprintf(e.stdout, "Wrote %s\n\nChecking it as waclaw doctor does:\n", path)

	r := doctor.Run(ctx, doctor.Options{
		ConfigPath: path, ConfigExplicit: true,
		DataDir: e.global.dataDirPath(), Database: e.global.databasePath(),
	})
	if err := r.Write(e.stdout); err != nil {
		return err
	}
	if primary == nil {
		fmt.Fprintln(e.stdout, "\nNext: start a model server, run waclaw init --force, then waclaw ask hello.")
	} else {
		fmt.Fprintln(e.stdout, "\nNext: waclaw ask hello, then waclaw run to link WhatsApp.")
	}
	return nil
}

const installAdvice = `
No local model server answered. Install one, then run waclaw init --force:
  - LM Studio (https://lmstudio.ai): download a model, then lms server start
  - or Ollama (https://ollama.com): ollama serve, then ollama pull qwen3:4b
Writing a config for LM Studio's default address (http://127.0.0.1:1234/v1) anyway.
`

// primaryChoice is the model init makes primary: a server and one of its
// models; nil means none was found.
type primaryChoice struct {
	server *found
	model  foundModel
}

// choosePrimary is the model named by --model, the one picked from the
// list in a terminal, or the best one: the first loaded, else the first.
func choosePrimary(e *env, in *bufio.Reader, servers []*found, want string) (*primaryChoice, error) {
	var all []primaryChoice
	for _, s := range servers {
		for _, m := range s.models {
			all = append(all, primaryChoice{s, m})
		}
	}
	if want != "" {
		var refs []string
		for _, c := range all {
			ref := c.server.id + "/" + c.model.id
			if strings.EqualFold(want, c.model.id) || strings.EqualFold(want, ref) {
				return &c, nil
			}
			refs = append(refs, ref)
		}
		if len(refs) == 0 {
			refs = []string{"none"}
		}
		return nil, fmt.Errorf("--model %q: no server found serves it (found: %s)", want, strings.Join(refs, ", "))
	}
	if len(all) == 0 {
		return nil, nil
	}
	best := -1
	for i, c := range all {
		if c.model.usable() && (best < 0 || (c.model.loaded && !all[best].model.loaded)) {
			best = i
		}
	}
	if best < 0 {
		best = 0
	}
	if in != nil {
		best = ask(e, in, "Which model should answer?", best+1, len(all)) - 1
	}
	return &all[best], nil
}

// ask reads a number from 1 to n, def on an empty line or end of input.
func ask(e *env, in *bufio.Reader, question string, def, n int) int {
	for {
		fmt.Fprintf(e.stdout, "%s [%d]: ", question, def)
		line, err := in.ReadString('\n')
		line = strings.TrimSpace(line)
		if line == "" {
			return def
		}
		if c, convErr := strconv.Atoi(line); convErr == nil && c >= 1 && c <= n {
			return c
		}
		if err != nil {
			return def
		}
		fmt.Fprintf(e.stdout, "Type a number from 1 to %d.\n", n)
	}
}

// probeServer lists what the server at url serves and identifies it with
// agent.Probe; id names its provider (empty: from the server kind).
func probeServer(ctx context.Context, id, url string) (*found, error) {
	ctx, cancel := context.WithTimeout(ctx, initProbeTimeout)
	defer cancel()
	ids, err := listModels(ctx, url)
	if err != nil {
		return nil, err
	}
	p := &config.Provider{ID: id, BaseURL: url, Local: true}
	info, _ := agent.Probe(ctx, http.DefaultClient, p, "")
	s := &found{id: id, url: url, kind: info.Kind, version: info.Version, api: config.APIOpenAICompletions}
	// LM Studio and Ollama serve the Responses API; the others are known
	// for Chat Completions.
	if info.Kind == agent.ServerLMStudio || info.Kind == agent.ServerOllama {
		s.api = config.APIOpenAIResponses
	}
	if s.id == "" {
		s.id = map[agent.ServerKind]string{agent.ServerLMStudio: "lmstudio", agent.ServerOllama: "ollama",
			agent.ServerLlamaCpp: "llamacpp", agent.ServerVLLM: "vllm"}[info.Kind]
		if s.id == "" {
			s.id = "local"
		}
	}
	for _, mid := range ids {
		mi, _ := agent.Probe(ctx, http.DefaultClient, p, mid)
		fm := foundModel{id: mid, context: mi.Context, loaded: mi.Loaded}
		if fm.context == 0 {
			fm.context, fm.maxOnly = mi.MaxContext, mi.MaxContext > 0
		}
		s.models = append(s.models, fm)
	}
	return s, nil
}

// listModels reads GET /models under the base URL.
func listModels(ctx context.Context, base string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/models", nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /v1/models: HTTP %d", res.StatusCode)
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 4<<20)).Decode(&list); err != nil {
		return nil, fmt.Errorf("GET /v1/models: not a model list: %w", err)
	}
	var ids []string
	for _, d := range list.Data {
		ids = append(ids, d.ID)
	}
	return ids, nil
}

// normalizeURL adds http:// and /v1 where the user left them out.
func normalizeURL(u string) string {
	u = strings.TrimSuffix(strings.TrimSpace(u), "/")
	if !strings.Contains(u, "://") {
		u = "http://" + u
	}
	if !strings.HasSuffix(u, "/v1") {
		u += "/v1"
	}
	return u
}

func shortErr(err error) string {
	switch s := err.Error(); {
	case strings.Contains(s, "connection refused"):
		return "connection refused"
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer"
	default:
		return s
	}
}

func apiName(a config.API) string {
	if a == config.APIOpenAIResponses {
		return "the Responses API"
	}
	return "Chat Completions"
}

func describeFound(m foundModel) string {
	var parts []string
	switch {
	case m.context > 0 && m.maxOnly:
		parts = append(parts, fmt.Sprintf("up to %d tokens of context", m.context))
	case m.context > 0:
		parts = append(parts, fmt.Sprintf("%d tokens of context", m.context))
	}
	if m.loaded {
		parts = append(parts, "loaded")
	}
	if !m.usable() {
		parts = append(parts, "not a chat model")
	}
	if len(parts) == 0 {
		return ""
	}
	return "  (" + strings.Join(parts, ", ") + ")"
}

func refOf(servers []*found, c *primaryChoice) string {
	if c == nil {
		return "lmstudio/minimax-m2.1-gs32 (LM Studio's default address; nothing answered there yet)"
	}
	return c.server.id + "/" + c.model.id
}

// initConfigText is the config file: the seed's shape, with the servers
// found as providers and the chosen model as primary.
func initConfigText(servers []*found, c *primaryChoice, o *initOptions) string {
	if c == nil {
		s := &found{id: "lmstudio", url: "http://127.0.0.1:1234/v1", kind: agent.ServerLMStudio, api: config.APIOpenAIResponses,
			models: []foundModel{{id: "minimax-m2.1-gs32", context: 196608}}}
		servers = []*found{s}
		c = &primaryChoice{s, s.models[0]}
	}
	primary := c.server.id + "/" + c.model.id
	alias := "Local"
	if strings.Contains(strings.ToLower(c.model.id), "minimax") {
		alias = "Minimax"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "// waclaw config, written by waclaw init. Check it with: waclaw config check\n")
	fmt.Fprintf(&b, "// The hosted providers (anthropic, openai, openrouter) are built in\n// (models.mode \"merge\"); each is used only while its key is set.\n{\n")
	fmt.Fprintf(&b, "  agents: {\n    defaults: {\n      model: {\n")
	fmt.Fprintf(&b, "        primary: %q,\n", primary)
	if o.fallback != "" {
		fmt.Fprintf(&b, "        fallbacks: [%q], // used only while %s is set\n", o.fallback, keyEnv(o.fallback))
	} else {
		f := hostedFallbacks[0]
		fmt.Fprintf(&b, "        // fallbacks: [%q], // set %s, then uncomment\n", f.ref, f.env)
	}
	fmt.Fprintf(&b, "      },\n      models: {\n")
	fmt.Fprintf(&b, "        %q: { alias: %q },\n", primary, alias)
	for _, a := range []struct{ ref, alias string }{{"anthropic/claude-sonnet-4-5", "Sonnet"}, {"anthropic/claude-opus-4-5", "Opus"}} {
		if a.ref != primary {
			fmt.Fprintf(&b, "        %q: { alias: %q },\n", a.ref, a.alias)
		}
	}
	fmt.Fprintf(&b, "      },\n    },\n  },\n")
	fmt.Fprintf(&b, "  models: {\n    mode: \"merge\",\n    providers: {\n")
	for _, s := range servers {
		if len(s.models) == 0 {
			continue
		}
		fmt.Fprintf(&b, "      // %s\n      %s: {\n", describeKind(s), s.id)
		fmt.Fprintf(&b, "        baseUrl: %q,\n", s.url)
		switch s.kind {
		case agent.ServerLMStudio:
			fmt.Fprintf(&b, "        apiKey: \"lmstudio\",\n")
		case agent.ServerOllama:
			fmt.Fprintf(&b, "        apiKey: \"ollama\",\n")
		}
		fmt.Fprintf(&b, "        api: %q,\n        models: [\n", s.api)
		for _, m := range s.models {
			window, note := m.context, "loaded with this context now"
			switch {
			case window <= 0:
				window, note = config.DefaultContextWindow, "the server did not say; waclaw's default"
			case m.maxOnly:
				note = "the model's maximum; waclaw keeps within what the server loads it with"
			}
			// Replies need room in the window: a quarter of it, at most
			// the default.
			fmt.Fprintf(&b, "          { id: %q, contextWindow: %d, maxTokens: %d }, // %s\n", m.id, window, min(config.DefaultMaxTokens, window/4), note)
		}
		fmt.Fprintf(&b, "        ],\n      },\n")
	}
	fmt.Fprintf(&b, "    },\n  },\n")
	fmt.Fprintf(&b, "  channels: {\n    whatsapp: {\n")
	if o.botNumber {
		fmt.Fprintf(&b, "      // The linked number is the bot's own: people write to it.\n      selfChatMode: false,\n")
	} else {
		fmt.Fprintf(&b, "      // The linked number is yours: the bot answers in your chat with yourself.\n      selfChatMode: true,\n")
	}
	fmt.Fprintf(&b, "    },\n  },\n}\n")
	return b.String()
}

func describeKind(s *found) string { return kindName(s.kind) + " at " + s.url }

func kindName(k agent.ServerKind) string {
	switch k {
	case agent.ServerOllama:
		return "Ollama"
	case agent.ServerUnknown:
		return "an OpenAI-compatible server"
	}
	return k.String()
}

func keyEnv(ref string) string {
	for _, f := range hostedFallbacks {
		if p, _, _ := strings.Cut(f.ref, "/"); strings.HasPrefix(ref, p+"/") {
			return f.env
		}
	}
	return "its provider's key"
}

// writeNewFile writes text to path, creating its directory; it never
// replaces a file unless force.
func writeNewFile(path, text string, force bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("failed to create %s: %w", filepath.Dir(path), err)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists: waclaw init does not overwrite it; run waclaw init --force to replace it", path)
	}
	if err != nil {
		return fmt.Errorf("failed to write config: %w", err)
	}
	if _, err := io.WriteString(f, text); err != nil {
		f.Close()
		return fmt.Errorf("failed to write config: %w", err)
	}
	return f.Close()
}
