package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

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
	fmt.Fprintf(w, "\nwhatsapp:  %s\n", wa.Mode())
	fmt.Fprintf(w, "admins:    %s\n", admins)
	fmt.Fprintf(w, "groups:    %s\n", describeGroups(wa))
	fmt.Fprintf(w, "calls:     %s\n", describeCalls(wa))
	fmt.Fprintf(w, "messages:  at most %d characters in; finished ones kept %s\n", wa.MaxMessageChars, config.Duration(wa.InboxRetention))
	fmt.Fprintf(w, "history:   compaction %s, at most %d tokens of history\n", cfg.Agent.Compaction.Mode, cfg.Agent.Compaction.MaxHistoryTokens)
	fmt.Fprintf(w, "voice:     %s\n", describeVoice(cfg.Media.Audio))
	fmt.Fprintf(w, "pictures:  %s\n", describePictures(cfg))

	if len(cfg.Warnings) > 0 {
		fmt.Fprintf(w, "\nwarnings:\n")
		for _, warn := range cfg.Warnings {
			fmt.Fprintf(w, "  - %s\n", warn)
		}
	}
	fmt.Fprintf(w, "\nok\n")
}

// describeGroups says which groups the bot answers in and who in them.
func describeGroups(wa config.WhatsApp) string {
	_, everyGroup := wa.Groups["*"]
	var where string
	switch {
	case wa.GroupPolicy == "disabled":
		return "off (groupPolicy disabled)"
	case wa.GroupPolicy == "open":
		where = "every group the number is in (groupPolicy open)"
	case len(wa.Groups) == 0:
		return "off: none listed in groups (groupPolicy allowlist)"
	case everyGroup:
		where = `every group the number is in (groups "*")`
	default:
		where = fmt.Sprintf("%d listed (groupPolicy allowlist)", len(wa.Groups))
	}
	switch {
	case slices.Contains(wa.GroupAllowFrom, "*"):
		return where + `; any member may talk to it (groupAllowFrom "*")`
	case len(wa.GroupAllowFrom) > 0:
		return where + fmt.Sprintf("; members allowed in DMs or listed in groupAllowFrom (%d) may talk to it", len(wa.GroupAllowFrom))
	}
	return where + "; only members allowed in DMs may talk to it (no groupAllowFrom)"
}

// describeCalls says what happens to a WhatsApp call.
func describeCalls(wa config.WhatsApp) string {
	switch {
	case !wa.RejectCalls:
		return "not rejected (rejectCalls false): they ring as usual"
	case wa.CallReply == "":
		return "rejected, with no text"
	}
	return fmt.Sprintf("rejected, and the caller is sent %q", wa.CallReply)
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

// describeVoice says how voice notes are transcribed, in the order tried.
func describeVoice(a config.Audio) string {
	if !a.Enabled {
		if len(a.Transcribers) > 0 {
			return "off (tools.media.audio.enabled false): voice notes get a notice"
		}
		return "off: no transcriber in tools.media.audio, so voice notes get a notice"
	}
	names := make([]string, len(a.Transcribers))
	for i, t := range a.Transcribers {
		where := "local"
		if t.Hosted() {
			where = "hosted"
		}
		names[i] = fmt.Sprintf("%s (%s)", t.Name(), where)
	}
	return fmt.Sprintf("transcribed by %s; at most %s and %s", strings.Join(names, " > "),
		config.SizeText(int64(a.MaxBytes)), config.LengthText(time.Duration(a.MaxSeconds)*time.Second))
}

// describePictures says which models see pictures.
func describePictures(cfg *config.Config) string {
	if !cfg.Media.Image.Enabled {
		return "off (tools.media.image.enabled false): pictures get a notice"
	}
	var seeing []string
	for _, m := range cfg.Models() {
		if m.CanSee() && m.Provider.Unavailable() == "" {
			seeing = append(seeing, m.Label())
		}
	}
	if len(seeing) == 0 {
		return `no model can see: pictures get a notice (a model sees when its input lists "image")`
	}
	if len(seeing) > 3 {
		seeing = append(seeing[:3], fmt.Sprintf("%d more", len(seeing)-3))
	}
	return fmt.Sprintf("shown to models that can see (%s), scaled to %d pixels at most", strings.Join(seeing, ", "), cfg.Media.Image.LongSide)
}
