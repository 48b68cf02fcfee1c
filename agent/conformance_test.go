package agent

// Conformance of the request bodies our adapters build against the
// providers' published OpenAPI descriptions. Prism (@stoplight/prism-cli)
// serves testdata/openapi/{openai,anthropic}.yaml as validating mocks: a
// request that fits the spec gets 200 and the spec's example, one that does
// not gets 422 with the list of violations. The requests are the
// real ones (responsesParams, completionsParams, anthropicParams) sent
// through the real SDK services, non-streamed, because Prism cannot mock
// streaming.
//
// Prism is installed by the test itself into the user cache directory
// (os.UserCacheDir()/waclaw/prism-5.16.0) when it is not there yet, started
// once per test binary on first use, and stopped by TestMain. The test
// skips only when node (or, for a first install, npm) is not on PATH.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"

	"waclaw/agent/agenttest"
	"waclaw/config"
)

const (
	prismPackage      = "@stoplight/prism-cli"
	prismVersion      = "5.16.0"
	prismStartTimeout = 120 * time.Second
	openapiDir        = "testdata/openapi"
)

func TestMain(m *testing.M) {
	code := m.Run()
	prismInstance.stop()
	os.Exit(code)
}

// prismInstance is the one pair of mock servers of this test binary.
var prismInstance prismServers

type prismServers struct {
	once  sync.Once
	skip  string // why the tests cannot run here
	err   error
	procs []*prismProc

	openAIURL, anthropicURL string
}

type prismProc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{} // closed when the process has exited
}

// prism returns the base URLs of the OpenAI and Anthropic mocks, starting
// them on first use.
func prism(t *testing.T) (openAIURL, anthropicURL string) {
	t.Helper()
	s := &prismInstance
	s.once.Do(s.start)
	if s.skip != "" {
		t.Skip(s.skip)
	}
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.openAIURL, s.anthropicURL
}

func (s *prismServers) start() {
	node, err := exec.LookPath("node")
	if err != nil {
		s.skip = "node is not on PATH: the OpenAPI conformance test needs Node.js to run " + prismPackage
		return
	}
	bin, err := installPrism()
	if err != nil {
		var skip skipError
		if errors.As(err, &skip) {
			s.skip = string(skip)
		} else {
			s.err = err
		}
		return
	}

	specs := []struct{ name, file string }{{"openai", "openai.yaml"}, {"anthropic", "anthropic.yaml"}}
	urls := make([]string, len(specs))
	began := time.Now()
	for i, spec := range specs {
		path, err := filepath.Abs(filepath.Join(openapiDir, spec.file))
		if err == nil {
			_, err = os.Stat(path)
		}
		if err != nil {
			s.err = fmt.Errorf("OpenAPI fixture for %s: %v", spec.name, err)
			return
		}
		port, err := freePort()
		if err != nil {
			s.err = fmt.Errorf("find a free port: %v", err)
			return
		}
		p := &prismProc{name: spec.name, out: &syncBuffer{}, done: make(chan struct{})}
		p.cmd = exec.Command(node, bin, "mock", "-h", "127.0.0.1", "-p", fmt.Sprint(port), path)
		p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
		// Its own process group, so stop can kill its children too; and killed
		// with the test binary should that die first (a -timeout panic).
		p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := p.cmd.Start(); err != nil {
			s.err = fmt.Errorf("start prism for %s: %v", spec.name, err)
			return
		}
		go func() { p.cmd.Wait(); close(p.done) }()
		s.procs = append(s.procs, p)
		urls[i] = fmt.Sprintf("http://127.0.0.1:%d", port)
	}
	// Both load their spec at once; wait for each to answer on its port.
	deadline := time.Now().Add(prismStartTimeout)
	for i, p := range s.procs {
		if err := waitForPort(strings.TrimPrefix(urls[i], "http://"), deadline, p.done); err != nil {
			s.err = fmt.Errorf("prism mock of %s.yaml did not start: %v\n--- prism output ---\n%s", p.name, err, p.out.String())
			return
		}
	}
	fmt.Fprintf(os.Stderr, "conformance: prism %s mocks of openai.yaml (%s) and anthropic.yaml (%s) answered after %s\n",
		prismVersion, urls[0], urls[1], time.Since(began).Round(100*time.Millisecond))
	s.openAIURL, s.anthropicURL = urls[0], urls[1]
}

// stop kills the Prism processes and their children.
func (s *prismServers) stop() {
	for _, p := range s.procs {
		if p.cmd.Process == nil {
			continue
		}
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	s.procs = nil
}

type skipError string

func (e skipError) Error() string { return string(e) }

// installPrism returns the path of Prism's CLI script, installing the pinned
// version into the user cache directory when it is not there yet.
func installPrism() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "waclaw", "prism-"+prismVersion)
	bin := filepath.Join(dir, "node_modules", "@stoplight", "prism-cli", "dist", "index.js")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", skipError(fmt.Sprintf("npm is not on PATH and %s@%s is not installed in %s: the OpenAPI conformance test needs it", prismPackage, prismVersion, dir))
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	// Install beside the final directory and rename it into place, so that a
	// failed or concurrent install never leaves a half-filled directory that
	// a later run would take for a complete one.
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "prism-install-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	began := time.Now()
	cmd := exec.Command(npm, "install", "--prefix", tmp, prismPackage+"@"+prismVersion, "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("npm install %s@%s: %v\n%s", prismPackage, prismVersion, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(bin); statErr != nil { // not a concurrent install that won
			return "", fmt.Errorf("install prism into %s: %v", dir, err)
		}
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("npm installed %s@%s but %s is missing: %v\n%s", prismPackage, prismVersion, bin, err, out)
	}
	fmt.Fprintf(os.Stderr, "conformance: installed %s@%s into %s in %s\n", prismPackage, prismVersion, dir, time.Since(began).Round(100*time.Millisecond))
	return bin, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitForPort(addr string, deadline time.Time, exited <-chan struct{}) error {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return errors.New("the process exited")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing answered on %s within %s", addr, prismStartTimeout)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// syncBuffer collects a process's output while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// recorder is an http.RoundTripper that keeps the last exchange, so that a
// failure can show what was sent and what Prism said about it.
type recorder struct {
	mu               sync.Mutex
	method, url      string
	reqBody, resBody []byte
	status           int
	violations       string // Prism's sl-violations header
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.method, r.url, r.reqBody, r.resBody, r.status, r.violations = req.Method, req.URL.String(), body, nil, 0, ""
	if err != nil {
		return nil, err
	}
	r.violations = res.Header.Get("sl-violations")
	resBody, err := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	r.status, r.resBody = res.StatusCode, resBody
	return res, err
}

// check fails t unless the last exchange was a 200, listing Prism's
// violations and the request body when it was not.
func (r *recorder) check(t *testing.T, callErr error) []byte {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.status == http.StatusOK {
		if callErr != nil {
			// The request conformed; the SDK could not read the spec's
			// example answer. Not what this test checks, but worth seeing.
			t.Logf("request accepted; the SDK's reading of Prism's example failed: %v", callErr)
		}
		return r.reqBody
	}
	var b strings.Builder
	if r.status == 0 {
		fmt.Fprintf(&b, "%s %s: no answer: %v\n", r.method, r.url, callErr)
	} else {
		fmt.Fprintf(&b, "%s %s: HTTP %d, want 200\n", r.method, r.url, r.status)
		b.WriteString(prismViolations(r.resBody, r.violations))
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, r.reqBody, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(r.reqBody)
	}
	fmt.Fprintf(&b, "request body:\n%s", pretty.String())
	t.Error(b.String())
	return r.reqBody
}

// prismViolations renders what Prism said about a rejected request. Its
// own answer is problem+json with a "validation" list; when the spec defines
// an error response (the Anthropic one does), Prism answers with the spec's
// example instead and lists the violations only in the sl-violations header.
func prismViolations(body []byte, header string) string {
	type violation struct {
		Location []any
		Severity string
		Code     any
		Message  string
	}
	var p struct {
		Title, Detail string
		Validation    []violation
	}
	var b strings.Builder
	if json.Unmarshal(body, &p) == nil && (p.Title != "" || len(p.Validation) > 0) {
		fmt.Fprintf(&b, "prism: %s", p.Title)
		if p.Detail != "" {
			fmt.Fprintf(&b, ": %s", p.Detail)
		}
		b.WriteString("\n")
	} else {
		fmt.Fprintf(&b, "response body: %s\n", bytes.TrimSpace(body))
	}
	if len(p.Validation) == 0 && header != "" {
		if err := json.Unmarshal([]byte(header), &p.Validation); err != nil {
			fmt.Fprintf(&b, "sl-violations: %s\n", header)
		}
	}
	if len(p.Validation) > 0 {
		b.WriteString("violations:\n")
	}
	for _, v := range p.Validation {
		loc := make([]string, len(v.Location))
		for i, l := range v.Location {
			loc[i] = fmt.Sprint(l)
		}
		fmt.Fprintf(&b, "  - [%s] %s: %s\n", v.Severity, strings.Join(loc, "."), v.Message)
	}
	return b.String()
}

// conformanceCase is one request, sent to every API.
type conformanceCase struct {
	name string
	req  Request
	// notOnResponses says why the Responses description cannot judge the
	// case ("" when it can).
	notOnResponses string
}

func conformanceCases() []conformanceCase {
	timeTool := builtinTools(time.Now)["current_time"]
	const callID = "call_0001"
	return []conformanceCase{
		{name: "plain question", req: Request{
			Input:           []Item{{Kind: ItemMessage, Role: RoleUser, Text: "What is the capital of France?"}},
			MaxOutputTokens: 256,
		}},
		{name: "history with instructions", req: Request{
			Instructions: "You are waclaw, a helpful assistant on WhatsApp. Answer briefly.",
			Input: []Item{
				{Kind: ItemMessage, Role: RoleUser, Text: "Hi, who are you?"},
				{Kind: ItemMessage, Role: RoleAssistant, Text: "I'm waclaw, an assistant. How can I help?"},
				{Kind: ItemMessage, Role: RoleUser, Text: "Tell me a fact about octopuses."},
			},
			MaxOutputTokens: 512,
		}},
		{name: "question with a picture", req: Request{
			Input: []Item{{Kind: ItemMessage, Role: RoleUser, Text: "What is in this picture?",
				Images: []Image{{MIME: "image/png", Data: agenttest.PNG()}}}},
			MaxOutputTokens: 256,
		}, notOnResponses: "the description's input item is a oneOf in which a user message with a list of content parts " +
			"matches both EasyInputMessage and InputMessage (neither needs a type), so no such message can pass; " +
			"the shape is tested against the fake server (TestEachAPISendsPicturesInItsWireShape)"},
		{name: "tool offered", req: Request{
			Instructions: "Use tools when they help.",
			Input:        []Item{{Kind: ItemMessage, Role: RoleUser, Text: "What time is it?"}},
			Tools:        []Tool{timeTool},
		}},
		{name: "tool result", req: Request{
			Instructions: "Use tools when they help.",
			Input: []Item{
				{Kind: ItemMessage, Role: RoleUser, Text: "What time is it?"},
				{Kind: ItemFunctionCall, CallID: callID, Name: timeTool.Name, Arguments: "{}"},
				{Kind: ItemFunctionOutput, CallID: callID, Text: "UTC: Mon, 02 Jan 2006 15:04:05 UTC\nLocal: Mon, 02 Jan 2006 16:04:05 CET"},
			},
			Tools: []Tool{timeTool},
		}},
	}
}

// conformanceConfig is one provider per API, all pointing at the mocks.
func conformanceConfig(t *testing.T, openAIURL, anthropicURL string) *config.Config {
	t.Helper()
	src := fmt.Sprintf(`{
  agents: { defaults: { model: "resp/gpt-4.1" } },
  models: {
    mode: "replace",
    providers: {
      // Prism serves the spec's paths without the server's /v1 prefix:
      // /responses, /chat/completions.
      resp: { baseUrl: %[1]q, apiKey: "sk-conformance", api: "openai-responses",
        models: [{ id: "gpt-4.1", contextWindow: 128000, maxTokens: 4096 }] },
      chat: { baseUrl: %[1]q, apiKey: "sk-conformance", api: "openai-completions",
        models: [{ id: "gpt-4.1", contextWindow: 128000, maxTokens: 4096 }] },
      // The Anthropic spec's paths carry /v1 themselves, as the SDK's do.
      claude: { baseUrl: %[2]q, apiKey: "sk-ant-conformance", api: "anthropic-messages",
        models: [{ id: "claude-sonnet-4-5", contextWindow: 200000, maxTokens: 8192 }] },
    },
  },
}`, openAIURL, anthropicURL)
	cfg, err := config.Parse("conformance.json5", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

func TestConformance(t *testing.T) {
	openAIURL, anthropicURL := prism(t)
	cfg := conformanceConfig(t, openAIURL, anthropicURL)
	model := func(ref string) *config.Model {
		m, ok := cfg.Model(ref)
		if !ok {
			t.Fatalf("no model %s in the test config", ref)
		}
		return m
	}

	t.Run("responses", func(t *testing.T) {
		m := model("resp/gpt-4.1")
		rec := &recorder{}
		svc := responses.NewResponseService(openAIOptions(m.Provider, &http.Client{Transport: rec})...)
		for _, c := range conformanceCases() {
			t.Run(c.name, func(t *testing.T) {
				if c.notOnResponses != "" {
					t.Skip(c.notOnResponses)
				}
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				_, err := svc.New(ctx, responsesParams(m, &c.req))
				body := rec.check(t, err)
				var sent struct {
					Store *bool `json:"store"`
				}
				if json.Unmarshal(body, &sent) != nil || sent.Store == nil || *sent.Store {
					t.Errorf("request does not carry store:false: %s", body)
				}
			})
		}
	})

	t.Run("completions", func(t *testing.T) {
		m := model("chat/gpt-4.1")
		rec := &recorder{}
		svc := openai.NewChatCompletionService(openAIOptions(m.Provider, &http.Client{Transport: rec})...)
		for _, c := range conformanceCases() {
			t.Run(c.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				_, err := svc.New(ctx, completionsParams(m, &c.req))
				rec.check(t, err)
			})
		}
	})

	t.Run("anthropic", func(t *testing.T) {
		m := model("claude/claude-sonnet-4-5")
		rec := &recorder{}
		client := newAnthropicProvider(m.Provider, &http.Client{Transport: rec}).client
		for _, c := range conformanceCases() {
			t.Run(c.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				_, err := client.Messages.New(ctx, anthropicParams(m, &c.req))
				rec.check(t, err)
			})
		}
	})
}
