package main

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"waclaw/agent/agenttest"
)

// measured hides the warm-up latencies, which vary from run to run.
var measured = regexp.MustCompile(`cold [0-9.]+[µnm]?s, warm [0-9.]+[µnm]?s`)

func TestDoctor(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
	lm.SetContextSize(196608) // as the seed's contextWindow says
	cfg := seedConfig(t, lm.URL, "")
	dir := filepath.Join(t.TempDir(), "data")
	var out, errOut strings.Builder
	// Any command that opens the store creates the database.
	if err := runWithInput(t, "", &out, &errOut, "--config", cfg, "--data-dir", dir, "access", "list"); err != nil {
		t.Fatalf("access list: %v\n%s", err, errOut.String())
	}

	out.Reset()
	err := runWithInput(t, "", &out, &errOut, "--config", cfg, "--data-dir", dir, "doctor")
	if err != nil {
		t.Errorf("doctor = %v; want success (exit 0)", err)
	}
	db := filepath.Join(dir, "waclaw.db")
	want := `ok    config                               ` + cfg + `
ok    data dir                             ` + dir + ` (writable)
ok    database                             ` + db + `: integrity ok, mode 0600
ok    lmstudio: key                        set
ok    lmstudio: server                     GET ` + lm.URL + `/models: 1 model
ok    lmstudio/minimax-m2.1-gs32: listed   the server lists minimax-m2.1-gs32
ok    lmstudio: endpoint                   POST ` + lm.URL + `/responses exists
ok    lmstudio/minimax-m2.1-gs32: warm-up  cold X, warm X: "Hello from the fake."
ok    lmstudio/minimax-m2.1-gs32: context  LM Studio serves minimax-m2.1-gs32 with 196608 tokens of context; contextWindow says 196608
ok    fallback                             none: when lmstudio/minimax-m2.1-gs32 cannot answer, chats get a short apology and nothing goes to a hosted model; to add one, set ANTHROPIC_API_KEY and add agents.defaults.model.fallbacks: ["anthropic/claude-sonnet-4-5"]
warn  whatsapp                             not linked
      -> run ` + "`waclaw pair`" + ` once in a terminal, as the user waclaw runs as; then start waclaw (or its service)

ready, with 1 warning
`
	if diff := cmp.Diff(want, measured.ReplaceAllString(out.String(), "cold X, warm X")); diff != "" {
		t.Errorf("doctor screen (-want +got):\n%s", diff)
	}

	// The model server down: the line, the one thing to do, exit 1.
	down := seedConfig(t, agenttest.RefusedURL(t), "")
	out.Reset()
	err = runWithInput(t, "", &out, &errOut, "doctor", "--config", down, "--data-dir", dir)
	var ue usageError
	if err == nil || errors.As(err, &ue) {
		t.Errorf("doctor with the server down = %v; want a failure (exit 1)", err)
	}
	for _, line := range []string{
		"fail  lmstudio: server  GET http://127.0.0.1:",
		"/v1/models: connection refused\n      -> start LM Studio's server (lms server start), or fix models.providers.lmstudio.baseUrl\n",
		"\n1 required check failed: waclaw is not ready\n",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("doctor screen lacks %q:\n%s", line, out.String())
		}
	}

	// --json: the same checks.
	out.Reset()
	err = runWithInput(t, "", &out, &errOut, "--config", down, "--data-dir", dir, "doctor", "--json")
	if err == nil {
		t.Errorf("doctor --json with the server down succeeded; want exit 1")
	}
	var report struct {
		OK     bool `json:"ok"`
		Checks []struct {
			Name     string `json:"name"`
			Status   string `json:"status"`
			Detail   string `json:"detail"`
			Advice   string `json:"advice"`
			Required bool   `json:"required"`
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out.String()), &report); err != nil {
		t.Fatalf("doctor --json output does not decode: %v\n%s", err, out.String())
	}
	var names []string
	for _, c := range report.Checks {
		names = append(names, c.Status+" "+c.Name)
	}
	wantNames := []string{"ok config", "ok data dir", "ok database", "ok lmstudio: key", "fail lmstudio: server", "ok fallback", "warn whatsapp"}
	if report.OK || !cmp.Equal(names, wantNames) {
		t.Errorf("doctor --json = ok %v, checks %q; want ok false, %q", report.OK, names, wantNames)
	}
	if c := report.Checks[4]; !c.Required || c.Advice != "start LM Studio's server (lms server start), or fix models.providers.lmstudio.baseUrl" {
		t.Errorf("server check = %+v", c)
	}

	if err := runWithInput(t, "", &out, &errOut, "doctor", "now"); !errors.As(err, &ue) {
		t.Errorf("doctor now = %v; want a usage error", err)
	}
}

// A relative --data-dir (as typed in a shell, "--data-dir data") reads the
// same database; it used to fail with "invalid uri authority".
func TestDoctorWithARelativeDataDir(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "minimax-m2.1-gs32")
	cfg := seedConfig(t, lm.URL, "")
	t.Chdir(t.TempDir())
	var out, errOut strings.Builder
	if err := runWithInput(t, "", &out, &errOut, "--config", cfg, "--data-dir", "data", "access", "list"); err != nil {
		t.Fatalf("access list: %v\n%s", err, errOut.String())
	}
	out.Reset()
	if err := runWithInput(t, "", &out, &errOut, "--config", cfg, "--data-dir", "data", "doctor"); err != nil {
		t.Errorf("doctor --data-dir data = %v; want success\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "ok    database") || !strings.Contains(out.String(), "integrity ok") {
		t.Errorf("doctor with a relative data dir:\n%s", out.String())
	}
}
