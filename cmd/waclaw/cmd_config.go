package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"waclaw/config"
)

// runConfigCheck loads a config file and prints what it resolves to, or
// every problem in it.
func runConfigCheck(ctx context.Context, e *env) error {
	if len(e.args) > 1 {
		return usageError{"config check takes at most one FILE"}
	}
	var arg string
	if len(e.args) == 1 {
		arg = e.args[0]
	}
	cfg, path, err := e.global.loadConfig(arg)
	var problems config.Errors
	if errors.As(err, &problems) {
		for _, p := range problems {
			fmt.Fprintln(e.stderr, p)
		}
		return fmt.Errorf("%s has %d problem(s): fix them and run waclaw config check again", path, len(problems))
	}
	if err != nil {
		return err
	}
	printSetup(e.stdout, cfg, path, e.global.databasePath())
	return nil
}

func printSetup(w io.Writer, cfg *config.Config, path, database string) {
	if cfg.Path == "" {
		fmt.Fprintf(w, "config:    built-in defaults (no file at %s)\n", path)
	} else {
		fmt.Fprintf(w, "config:    %s\n", cfg.Path)
	}
	fmt.Fprintf(w, "database:  %s\n", database)
	fmt.Fprintf(w, "primary:   %s\n", describeModel(cfg.Primary))
	if len(cfg.Fallbacks) == 0 {
		fmt.Fprintf(w, "fallbacks: none\n")
	}
	for i, m := range cfg.Fallbacks {
		fmt.Fprintf(w, "fallback %d: %s\n", i+1, describeModel(m))
	}
	var aliases []string
	for _, m := range cfg.Aliases() {
		aliases = append(aliases, fmt.Sprintf("%s = %s", m.Alias, m.Ref()))
	}
	if len(aliases) == 0 {
		aliases = []string{"none"}
	}
	fmt.Fprintf(w, "aliases:   %s\n", strings.Join(aliases, ", "))

	fmt.Fprintf(w, "\nproviders:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range cfg.Providers {
		where := "hosted"
		if p.Local {
			where = "local"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\tkey %s\n", p.ID, p.API, p.BaseURL, where, keyState(p))
	}
	tw.Flush()

	wa := cfg.WhatsApp
	admins := strings.Join(wa.Admins, " ")
	if admins == "" {
		admins = "none (the linked account's self-chat is always admin)"
	}
	fmt.Fprintf(w, "\nwhatsapp:  dmPolicy %s, groupPolicy %s, admins %s\n", wa.DMPolicy, wa.GroupPolicy, admins)
	fmt.Fprintf(w, "history:   compaction %s, at most %d tokens of history\n", cfg.Agent.Compaction.Mode, cfg.Agent.Compaction.MaxHistoryTokens)

	if len(cfg.Warnings) > 0 {
		fmt.Fprintf(w, "\nwarnings:\n")
		for _, warn := range cfg.Warnings {
			fmt.Fprintf(w, "  - %s\n", warn)
		}
	}
	fmt.Fprintf(w, "\nok\n")
}

func describeModel(m *config.Model) string {
	s := m.Ref()
	if m.Alias != "" {
		s += " (" + m.Alias + ")"
	}
	if why := m.Provider.Unavailable(); why != "" {
		s += ": unavailable, " + why
	}
	return s
}

// keyState says whether a provider's key is set, never what it is.
func keyState(p *config.Provider) string {
	switch {
	case p.Unavailable() != "":
		return "unset (" + strings.Join(p.MissingEnv, ", ") + ")"
	case p.APIKey != "":
		return "set"
	default:
		return "none"
	}
}
