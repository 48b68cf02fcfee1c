package doctor

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/types"

	"waclaw/agent/agenttest"
	"waclaw/bridge/whatsapp"
	"waclaw/config"
	"waclaw/store"
)

// now is the doctor's clock in these tests.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// lmConfig is a config whose primary is LM Studio's MiniMax at lmURL and,
// when anthropicURL is set, whose fallback is Sonnet at anthropicURL.
func lmConfig(t *testing.T, lmURL, anthropicURL string) string {
	t.Helper()
	fallbacks, anthropic := "", ""
	if anthropicURL != "" {
		fallbacks = `"anthropic/claude-sonnet-4-5"`
		anthropic = `anthropic: { baseUrl: "` + anthropicURL + `" },`
	}
	return writeConfig(t, `{
  agents: { defaults: { model: { primary: "lmstudio/minimax-m2.1-gs32", fallbacks: [`+fallbacks+`] } } },
  models: {
    providers: {
      lmstudio: {
        baseUrl: "`+lmURL+`",
        api: "openai-responses",
        models: [{ id: "minimax-m2.1-gs32", contextWindow: 196608, maxTokens: 8192 }],
      },
      `+anthropic+`
    },
  },
}`)
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json5")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// linkedDataDir is a data dir whose database has a linked WhatsApp
// account and one received message.
func linkedDataDir(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "data")
	st, err := store.Open(ctx, filepath.Join(dir, "waclaw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.SetClock(func() time.Time { return now.Add(-3 * time.Hour) })
	if _, _, err := st.InboxAdd(ctx, store.InboxItem{ChatID: "c", SenderID: "s", MsgID: "m1", Payload: []byte(`{}`), ReceivedAt: now.Add(-3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	_, dev, err := whatsapp.OpenDevice(ctx, st.DB(), nil)
	if err != nil {
		t.Fatal(err)
	}
	jid := types.JID{User: "15550001111", Device: 7, Server: types.DefaultUserServer}
	dev.ID = &jid
	dev.Account = &waAdv.ADVSignedDeviceIdentity{
		Details: []byte{1}, AccountSignature: make([]byte, 64), AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64),
	}
	if err := dev.Save(ctx); err != nil {
		t.Fatal(err)
	}
	return dir
}

// withLMStudioAPI puts LM Studio's GET /api/v0/models in front of a fake
// (which serves only the OpenAI-style API) and returns the new /v1 URL.
func withLMStudioAPI(t *testing.T, s *agenttest.Server, models string) string {
	t.Helper()
	target, err := url.Parse(strings.TrimSuffix(s.URL, "/v1"))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v0/models" {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"object":"list","data":` + models + `}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return hs.URL + "/v1"
}

func runDoctor(t *testing.T, cfg, dataDir string) *Report {
	t.Helper()
	return runDoctorWithin(t, cfg, dataDir, 30*time.Second)
}

func runDoctorWithin(t *testing.T, cfg, dataDir string, warmup time.Duration) *Report {
	t.Helper()
	r := Run(t.Context(), Options{
		ConfigPath: cfg, ConfigExplicit: true, DataDir: dataDir,
		Timeout: 5 * time.Second, WarmupTimeout: warmup,
		Now: func() time.Time { return now },
	})
	t.Logf("doctor:\n%s", screen(r))
	return r
}

func find(t *testing.T, r *Report, name string) Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in:\n%s", name, screen(r))
	return Check{}
}

func screen(r *Report) string {
	var b strings.Builder
	r.Write(&b)
	return b.String()
}

func names(r *Report) []string {
	var out []string
	for _, c := range r.Checks {
		out = append(out, c.Name)
	}
	return out
}

// latencies hides the measured latencies, which vary from run to run.
var latencies = regexp.MustCompile(`cold [0-9.]+[µnm]?s, warm [0-9.]+[µnm]?s`)

func TestAllOK(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32", "qwen3-8b")
	lmURL := withLMStudioAPI(t, lm, `[{"id":"minimax-m2.1-gs32","state":"loaded","max_context_length":196608,"loaded_context_length":196608}]`)
	sonnet := agenttest.New(t, agenttest.Anthropic, "claude-sonnet-4-5")
	sonnet.SetDefault(agenttest.Reply{Text: "Hello from Sonnet.", Reasoning: "SECRET"})
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-test")
	cfg := lmConfig(t, lmURL, sonnet.URL)
	dir := linkedDataDir(t)

	r := runDoctor(t, cfg, dir)
	out := screen(r)
	if !r.OK {
		t.Errorf("report not OK:\n%s", out)
	}
	for _, c := range r.Checks {
		if c.Status != OK || c.Advice != "" {
			t.Errorf("check %q = %s %q (advice %q); want ok with no advice", c.Name, c.Status, c.Detail, c.Advice)
		}
	}
	want := []string{
		"config", "data dir", "database",
		"lmstudio: key", "lmstudio: server", "lmstudio/minimax-m2.1-gs32: listed", "lmstudio: endpoint",
		"lmstudio/minimax-m2.1-gs32: warm-up", "lmstudio/minimax-m2.1-gs32: context",
		"anthropic: key", "anthropic: server", "anthropic/claude-sonnet-4-5: listed", "anthropic: endpoint",
		"anthropic/claude-sonnet-4-5: warm-up",
		"whatsapp",
	}
	if diff := cmp.Diff(want, names(r)); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
	db := filepath.Join(dir, "waclaw.db")
	wantScreen := `ok    config                                ` + cfg + `
ok    data dir                              ` + dir + ` (writable)
ok    database                              ` + db + `: integrity ok, mode 0600
ok    lmstudio: key                         none needed (local server)
ok    lmstudio: server                      GET ` + lmURL + `/models: 2 models
ok    lmstudio/minimax-m2.1-gs32: listed    the server lists minimax-m2.1-gs32
ok    lmstudio: endpoint                    POST ` + lmURL + `/responses exists
ok    lmstudio/minimax-m2.1-gs32: warm-up   cold X, warm X: "Hello from the fake."
ok    lmstudio/minimax-m2.1-gs32: context   LM Studio serves minimax-m2.1-gs32 with 196608 tokens of context; contextWindow says 196608
ok    anthropic: key                        set
ok    anthropic: server                     GET ` + sonnet.URL + `/v1/models?limit=1000: 1 model
ok    anthropic/claude-sonnet-4-5: listed   the server lists claude-sonnet-4-5
ok    anthropic: endpoint                   POST ` + sonnet.URL + `/v1/messages exists
ok    anthropic/claude-sonnet-4-5: warm-up  cold X, warm X: "Hello from Sonnet."
ok    whatsapp                              linked as +15550001111, last message received 2026-03-01 09:00 (3h0m0s ago)

ready
`
	got := latencies.ReplaceAllString(out, "cold X, warm X")
	got = strings.ReplaceAll(got, now.Add(-3*time.Hour).Local().Format("2006-01-02 15:04"), "2026-03-01 09:00")
	if diff := cmp.Diff(wantScreen, got); diff != "" {
		t.Errorf("screen (-want +got):\n%s", diff)
	}
	if c := find(t, r, "lmstudio/minimax-m2.1-gs32: warm-up"); len(c.LatencyMS) != 2 {
		t.Errorf("warm-up latencies = %v; want cold and warm", c.LatencyMS)
	}

	// The warm-up is a small stateless request, and the key goes only to
	// the provider it belongs to.
	var posts int
	for _, req := range lm.Requests() {
		if req.Method != http.MethodPost {
			continue
		}
		posts++
		body := req.JSON()
		if body["store"] != false || body["model"] != "minimax-m2.1-gs32" || body["max_output_tokens"] != float64(warmupMaxTokens) {
			t.Errorf("warm-up body = %s", req.Body)
		}
		if strings.Contains(req.Header.Get("Authorization"), "sk-ant") {
			t.Errorf("the Anthropic key reached LM Studio")
		}
	}
	if posts != 2 {
		t.Errorf("LM Studio got %d model requests; want 2 (cold, warm)", posts)
	}
	for _, req := range sonnet.Requests() {
		if req.Header.Get("x-api-key") != "sk-ant-test" {
			t.Errorf("%s %s without the key", req.Method, req.Path)
		}
	}
}

// TestFailures: each failing setup gives its line and the exact advice.
func TestFailures(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(t *testing.T) (cfg, dataDir string)
		check      string
		status     Status
		detail     string // a part of the detail
		advice     string // exactly
		ok         bool   // the report's OK
		wantAbsent []string
		warmup     time.Duration // the warm-up timeout; default 30 s
	}{
		{
			name: "model not listed",
			setup: func(t *testing.T) (string, string) {
				lm := agenttest.New(t, agenttest.LMStudio, "qwen3-8b", "minimax-m2.1", "minimax-m2.1-gs32-q4")
				return lmConfig(t, lm.URL, ""), linkedDataDir(t)
			},
			check:      "lmstudio/minimax-m2.1-gs32: listed",
			status:     Fail,
			detail:     "minimax-m2.1-gs32 is not listed; the server lists minimax-m2.1-gs32-q4, minimax-m2.1, qwen3-8b",
			advice:     `set the model id in models.providers.lmstudio.models to one the server lists (closest: "minimax-m2.1-gs32-q4"), or get it: lms get minimax-m2.1-gs32, then lms load minimax-m2.1-gs32`,
			wantAbsent: []string{"lmstudio/minimax-m2.1-gs32: warm-up"},
		},
		{
			name: "disk nearly full",
			setup: func(t *testing.T) (string, string) {
				lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
				real := freeBytes
				freeBytes = func(string) (uint64, error) { return 42 << 20, nil }
				t.Cleanup(func() { freeBytes = real })
				return lmConfig(t, lm.URL, ""), linkedDataDir(t)
			},
			check:  "data dir",
			status: Warn,
			detail: "is writable, but only 42 MB are free on its disk",
			advice: "free some space there: on a full disk waclaw takes no new messages (WhatsApp delivers them again later) and waits to answer the ones it has; nothing stored is lost",
			ok:     true,
		},
		{
			name: "server down",
			setup: func(t *testing.T) (string, string) {
				return lmConfig(t, agenttest.RefusedURL(t), ""), linkedDataDir(t)
			},
			check:      "lmstudio: server",
			status:     Fail,
			detail:     "/v1/models: connection refused",
			advice:     "start LM Studio's server (lms server start), or fix models.providers.lmstudio.baseUrl",
			wantAbsent: []string{"lmstudio: endpoint", "lmstudio/minimax-m2.1-gs32: warm-up"},
		},
		{
			name: "responses endpoint missing",
			setup: func(t *testing.T) (string, string) {
				lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
				lm.SetDefault(agenttest.Reply{Fault: agenttest.EndpointMissing})
				return lmConfig(t, lm.URL, ""), linkedDataDir(t)
			},
			check:      "lmstudio: endpoint",
			status:     Fail,
			detail:     "/v1/responses: HTTP 404, the server has no such endpoint",
			advice:     `set models.providers.lmstudio.api to "openai-completions", or update the server (LM Studio 0.3.29 or newer serves /v1/responses)`,
			wantAbsent: []string{"lmstudio/minimax-m2.1-gs32: warm-up"},
		},
		{
			name: "key missing",
			setup: func(t *testing.T) (string, string) {
				lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
				sonnet := agenttest.New(t, agenttest.Anthropic, "claude-sonnet-4-5")
				t.Setenv("ANTHROPIC_API_KEY", "")
				return lmConfig(t, lm.URL, sonnet.URL), linkedDataDir(t)
			},
			check:      "anthropic: key",
			status:     Fail,
			detail:     "ANTHROPIC_API_KEY is not set",
			advice:     "set ANTHROPIC_API_KEY in waclaw's environment (under systemd: in the EnvironmentFile)",
			wantAbsent: []string{"anthropic: server", "anthropic/claude-sonnet-4-5: warm-up"},
		},
		{
			name: "database unreadable",
			setup: func(t *testing.T) (string, string) {
				lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
				dir := t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, "waclaw.db"), []byte("these are my notes, not a database\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				return lmConfig(t, lm.URL, ""), dir
			},
			check:  "database",
			status: Fail,
			detail: "waclaw.db is not a SQLite database (file is not a database)",
			advice: "move it away and run `waclaw pair` to start a new one (or point --data-dir at the right directory)",
		},
		{
			name: "database not created yet",
			setup: func(t *testing.T) (string, string) {
				lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
				return lmConfig(t, lm.URL, ""), filepath.Join(t.TempDir(), "new")
			},
			check:  "database",
			status: Warn,
			detail: "waclaw.db: not created yet, it is created on first run",
			advice: "run `waclaw pair` once (it creates the database and links WhatsApp)",
			ok:     true,
		},
		{
			name: "database readable by others",
			setup: func(t *testing.T) (string, string) {
				lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
				dir := linkedDataDir(t)
				if err := os.Chmod(filepath.Join(dir, "waclaw.db"), 0o644); err != nil {
					t.Fatal(err)
				}
				return lmConfig(t, lm.URL, ""), dir
			},
			check:  "database",
			status: Warn,
			detail: "waclaw.db: integrity ok, mode 0644: other users can read your chats",
			advice: "chmod 600 DB (waclaw also tightens it on its next start)",
			ok:     true,
		},
		{
			name: "empty answer",
			setup: func(t *testing.T) (string, string) {
				lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
				lm.SetDefault(agenttest.Reply{Reasoning: "only thinking", Fault: agenttest.EmptyOutput})
				return lmConfig(t, lm.URL, ""), linkedDataDir(t)
			},
			check:  "lmstudio/minimax-m2.1-gs32: warm-up",
			status: Fail,
			detail: "empty reply: ",
			advice: "check the model's chat template on the server, or raise maxTokens of lmstudio/minimax-m2.1-gs32",
		},
		{
			name: "warm-up hangs",
			setup: func(t *testing.T) (string, string) {
				lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
				lm.SetDefault(agenttest.Reply{Fault: agenttest.Hang})
				return lmConfig(t, lm.URL, ""), linkedDataDir(t)
			},
			check:  "lmstudio/minimax-m2.1-gs32: warm-up",
			status: Fail,
			warmup: 300 * time.Millisecond,
			detail: "no answer within 300ms",
			advice: "the model may still be loading: watch the server's log, then run waclaw doctor again",
		},
		{
			name: "context smaller than configured",
			setup: func(t *testing.T) (string, string) {
				lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
				u := withLMStudioAPI(t, lm, `[{"id":"minimax-m2.1-gs32","state":"loaded","max_context_length":196608,"loaded_context_length":4096}]`)
				return lmConfig(t, u, ""), linkedDataDir(t)
			},
			check:  "lmstudio/minimax-m2.1-gs32: context",
			status: Warn,
			detail: "LM Studio serves minimax-m2.1-gs32 with 4096 tokens of context; contextWindow says 196608: waclaw keeps conversations within 4096 (the model allows up to 196608)",
			advice: "load it with a longer context (lms load minimax-m2.1-gs32 --context-length 196608, or the context length setting when loading it in LM Studio), or set contextWindow of lmstudio/minimax-m2.1-gs32 to 4096",
			ok:     true,
		},
		{
			name: "whatsapp not linked",
			setup: func(t *testing.T) (string, string) {
				lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
				dir := t.TempDir()
				st, err := store.Open(t.Context(), filepath.Join(dir, "waclaw.db"))
				if err != nil {
					t.Fatal(err)
				}
				st.Close()
				return lmConfig(t, lm.URL, ""), dir
			},
			check:  "whatsapp",
			status: Warn,
			detail: "not linked",
			advice: "run `waclaw pair` once in a terminal, as the user waclaw runs as; then start waclaw (or its service)",
			ok:     true,
		},
		{
			name: "config invalid",
			setup: func(t *testing.T) (string, string) {
				return writeConfig(t, `{ agents: { defaults: { modle: {} } } }`), linkedDataDir(t)
			},
			check:      "config",
			status:     Fail,
			detail:     `1 problem(s); the first: CFG:1:25: agents.defaults.modle: unknown key "modle" (did you mean "model"?)`,
			advice:     "run `waclaw config check CFG` and fix every line it prints",
			wantAbsent: []string{"lmstudio: key"},
		},
		{
			name: "config named but missing",
			setup: func(t *testing.T) (string, string) {
				return filepath.Join(t.TempDir(), "nope.json5"), linkedDataDir(t)
			},
			check:  "config",
			status: Fail,
			detail: "nope.json5 does not exist",
			advice: "create it (see the README's Configuration section), or leave --config and $WACLAW_CONFIG unset to use the built-in defaults",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, dir := tt.setup(t)
			warmup := tt.warmup
			if warmup == 0 {
				warmup = 30 * time.Second
			}
			r := runDoctorWithin(t, cfg, dir, warmup)
			c := find(t, r, tt.check)
			paths := strings.NewReplacer("DB", filepath.Join(dir, "waclaw.db"), "CFG", cfg)
			advice, detail := paths.Replace(tt.advice), paths.Replace(tt.detail)
			if c.Status != tt.status || !strings.Contains(c.Detail, detail) || c.Advice != advice {
				t.Errorf("%s = %s %q\nadvice %q\nwant %s %q\nadvice %q", tt.check, c.Status, c.Detail, c.Advice, tt.status, detail, advice)
			}
			if r.OK != tt.ok {
				t.Errorf("report OK = %v; want %v:\n%s", r.OK, tt.ok, screen(r))
			}
			for _, name := range tt.wantAbsent {
				if slices.Contains(names(r), name) {
					t.Errorf("check %q ran; want it skipped:\n%s", name, screen(r))
				}
			}
			if out := screen(r); !strings.Contains(out, "      -> "+advice+"\n") {
				t.Errorf("screen lacks the advice line:\n%s", out)
			}
		})
	}
}

func TestDefaultsWithoutAFile(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	r := Run(t.Context(), Options{
		ConfigPath: filepath.Join(t.TempDir(), "config.json5"), DataDir: data,
		Timeout: 5 * time.Second,
	})
	c := find(t, r, "config")
	if c.Status != OK || !strings.Contains(c.Detail, "the built-in defaults (LM Studio at http://127.0.0.1:1234/v1)") {
		t.Errorf("config = %s %q; want ok, the built-in defaults", c.Status, c.Detail)
	}
	if c := find(t, r, "data dir"); c.Status != OK || !strings.HasSuffix(c.Detail, "not created yet, it is created on first run") {
		t.Errorf("data dir = %s %q", c.Status, c.Detail)
	}
	if _, err := os.Stat(data); err == nil {
		t.Errorf("doctor created the data dir")
	}
}

func TestDatabaseIsNeverCreated(t *testing.T) {
	dir := t.TempDir()
	lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
	runDoctor(t, lmConfig(t, lm.URL, ""), dir)
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Errorf("data dir after doctor = %v, %v; want it left empty", entries, err)
	}
}

func TestJSON(t *testing.T) {
	cfg := lmConfig(t, agenttest.RefusedURL(t), "")
	r := runDoctor(t, cfg, linkedDataDir(t))
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		OK     bool `json:"ok"`
		Checks []struct {
			Name, Status, Detail, Advice string
			Required                     bool
		} `json:"checks"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.OK || len(back.Checks) != len(r.Checks) || back.Checks[4].Name != "lmstudio: server" || back.Checks[4].Status != "fail" || !back.Checks[4].Required {
		t.Errorf("JSON = %s", b)
	}
}

func TestFindListed(t *testing.T) {
	tests := []struct {
		api, id string
		ids     []string
		as      string
		ok      bool
	}{
		{"anthropic-messages", "claude-sonnet-4-5", []string{"claude-opus-4-5-20251101", "claude-sonnet-4-5-20250929"}, "claude-sonnet-4-5-20250929", true},
		{"anthropic-messages", "claude-sonnet-4", []string{"claude-sonnet-4-5-20250929"}, "", false},
		{"openai-completions", "llama3", []string{"llama3:latest"}, "llama3:latest", true},
		{"openai-responses", "gpt-5", []string{"gpt-5-mini"}, "", false},
	}
	for _, tt := range tests {
		as, ok := findListed(&config.Provider{API: config.API(tt.api)}, tt.id, tt.ids)
		if as != tt.as || ok != tt.ok {
			t.Errorf("findListed(%s, %q, %v) = %q, %v; want %q, %v", tt.api, tt.id, tt.ids, as, ok, tt.as, tt.ok)
		}
	}
}

// TestDatabaseInUse: the bot may be running; its open database (with its
// -wal and -shm files) is checked read-only, and a closed one gains no
// files.
func TestDatabaseInUse(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
	cfg := lmConfig(t, lm.URL, "")
	dir := linkedDataDir(t)
	db := filepath.Join(dir, "waclaw.db")

	r := runDoctor(t, cfg, dir)
	if c := find(t, r, "database"); c.Status != OK {
		t.Errorf("database = %s %q; want ok", c.Status, c.Detail)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(db + suffix); err == nil {
			t.Errorf("doctor left %s behind", db+suffix)
		}
	}

	st, err := store.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.ActiveSession(t.Context(), "chat"); err != nil {
		t.Fatal(err)
	}
	r = runDoctor(t, cfg, dir)
	if c := find(t, r, "database"); c.Status != OK {
		t.Errorf("database while open = %s %q; want ok", c.Status, c.Detail)
	}
	if c := find(t, r, "whatsapp"); c.Status != OK || !strings.HasPrefix(c.Detail, "linked as +15550001111") {
		t.Errorf("whatsapp while open = %s %q", c.Status, c.Detail)
	}
	// `waclaw run` records each connection; doctor reports the last one.
	if err := st.SetLastConnected(t.Context(), time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	r = runDoctor(t, cfg, dir)
	if c := find(t, r, "whatsapp"); !strings.Contains(c.Detail, ", last connected ") || !strings.Contains(c.Detail, "(2h0m0s ago)") {
		t.Errorf("whatsapp = %q; want the last connection time", c.Detail)
	}
}
