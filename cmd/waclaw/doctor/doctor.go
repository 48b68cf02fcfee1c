// Package doctor checks that waclaw can run where it is: the config file,
// the data dir and database, every provider of the model chain (key,
// server, model listed, API endpoint, a warm-up answer and its latency,
// context length) and the WhatsApp link. Each check that is not ok says the
// one thing to do about it. Nothing is created or changed: the database is
// only ever opened read-only.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"waclaw/config"
)

// Status is how a check went.
type Status string

// The statuses of a check.
const (
	OK   Status = "ok"
	Warn Status = "warn" // works, but worth a look
	Fail Status = "fail" // does not work
)

// Check is one line of the report.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	// Advice is the one thing to do; empty when Status is OK.
	Advice string `json:"advice,omitempty"`
	// Required checks are what the config, the database and the model
	// chain (primary and fallbacks) need; one that fails fails the report.
	Required bool `json:"required"`
	// LatencyMS is a warm-up's latency in milliseconds: the first (cold)
	// request, then the second (warm) one.
	LatencyMS []int64 `json:"latencyMs,omitempty"`
}

// Report is every check, in the order they ran.
type Report struct {
	// OK is true when no required check failed.
	OK     bool    `json:"ok"`
	Checks []Check `json:"checks"`
}

// Defaults for Options.
const (
	DefaultTimeout       = 10 * time.Second
	DefaultWarmupTimeout = 2 * time.Minute
)

// Options say what to check and how long to wait.
type Options struct {
	// ConfigPath is the config file; ConfigExplicit says it was named
	// (--config, $WACLAW_CONFIG), so that a missing file is an error
	// rather than the built-in defaults.
	ConfigPath     string
	ConfigExplicit bool
	DataDir        string
	Database       string // default DataDir/waclaw.db

	HTTPClient *http.Client // nil: http.DefaultClient
	// Timeout caps each probe (a models list, the database check);
	// default DefaultTimeout.
	Timeout time.Duration
	// WarmupTimeout caps each warm-up request, which may have to wait for
	// a local model to load; default DefaultWarmupTimeout.
	WarmupTimeout time.Duration
	Now           func() time.Time // default time.Now
}

type doctor struct {
	Options
	checks []Check
}

// Run runs every check. It never fails as a whole: what could not be
// checked is a check of its own.
func Run(ctx context.Context, opts Options) *Report {
	d := &doctor{Options: opts}
	if d.Database == "" {
		d.Database = filepath.Join(d.DataDir, "waclaw.db")
	}
	if d.HTTPClient == nil {
		d.HTTPClient = http.DefaultClient
	}
	if d.Timeout <= 0 {
		d.Timeout = DefaultTimeout
	}
	if d.WarmupTimeout <= 0 {
		d.WarmupTimeout = DefaultWarmupTimeout
	}
	if d.Now == nil {
		d.Now = time.Now
	}

	cfg := d.checkConfig()
	d.checkDataDir()
	db := d.checkDatabase(ctx)
	if cfg != nil {
		d.checkChain(ctx, cfg)
		d.checkVoice(ctx, cfg)
	}
	d.checkWhatsApp(ctx, db)
	if db != nil {
		db.Close()
	}

	r := &Report{OK: true, Checks: d.checks}
	for _, c := range r.Checks {
		if c.Required && c.Status == Fail {
			r.OK = false
		}
	}
	return r
}

func (d *doctor) add(c Check) { d.checks = append(d.checks, c) }

// checkConfig loads the config the way waclaw does: a missing default
// file means the built-in defaults.
func (d *doctor) checkConfig() *config.Config {
	c := Check{Name: "config", Required: true}
	cfg, err := config.Load(d.ConfigPath)
	var problems config.Errors
	switch {
	case errors.Is(err, config.ErrNotFound) && !d.ConfigExplicit:
		cfg = config.Default()
		c.Status, c.Detail = OK, fmt.Sprintf("no file at %s: the built-in defaults (LM Studio at %s)", d.ConfigPath, cfg.Primary.Provider.BaseURL)
	case errors.Is(err, config.ErrNotFound):
		c.Status, c.Detail = Fail, fmt.Sprintf("%s does not exist", d.ConfigPath)
		c.Advice = "create it (see the README's Configuration section), or leave --config and $WACLAW_CONFIG unset to use the built-in defaults"
	case errors.As(err, &problems):
		c.Status, c.Detail = Fail, fmt.Sprintf("%d problem(s); the first: %s", len(problems), problems[0].Error())
		c.Advice = "run `waclaw config check " + d.ConfigPath + "` and fix every line it prints"
	case err != nil:
		c.Status, c.Detail = Fail, err.Error()
		c.Advice = "make the file readable by the user waclaw runs as"
	default:
		c.Status, c.Detail = OK, cfg.Path
	}
	d.add(c)
	return cfg
}

// Write prints the report as one screen: a line per check and, under a
// check that is not ok, the one thing to do; then a summary line.
func (r *Report) Write(w io.Writer) error {
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	var b strings.Builder
	warns, fails := 0, 0
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%-5s %-*s  %s\n", c.Status, width, c.Name, c.Detail)
		if c.Status != OK && c.Advice != "" {
			fmt.Fprintf(&b, "      -> %s\n", c.Advice)
		}
		switch {
		case c.Status == Warn || (c.Status == Fail && !c.Required):
			warns++
		case c.Status == Fail:
			fails++
		}
	}
	switch {
	case fails > 0:
		fmt.Fprintf(&b, "\n%s: waclaw is not ready\n", plural(fails, "required check failed", "required checks failed"))
	case warns > 0:
		fmt.Fprintf(&b, "\nready, with %s\n", plural(warns, "warning", "warnings"))
	default:
		fmt.Fprintf(&b, "\nready\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
