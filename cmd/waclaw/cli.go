package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"waclaw/config"
)

// version is stamped at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

// usageError is a mistake in the command line; main exits 2 for it.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// env is what a subcommand gets: its arguments, the global settings and
// the standard streams.
type env struct {
	args   []string
	global *globals
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// globals are the flags every command accepts, before or after its name.
type globals struct {
	configPath string
	dataDir    string
	logLevel   string
	logFormat  string
	// logLevelSet is whether --log-level was given: a command may quiet
	// the default level (chat at a terminal), never a chosen one.
	logLevelSet bool
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.configPath, "config", g.configPath, "config file (default $WACLAW_CONFIG, else $XDG_CONFIG_HOME/waclaw/config.json5)")
	fs.StringVar(&g.dataDir, "data-dir", g.dataDir, "where the database lives (default $XDG_DATA_HOME/waclaw)")
	fs.StringVar(&g.logLevel, "log-level", g.logLevel, "debug, info, warn or error")
	fs.StringVar(&g.logFormat, "log-format", g.logFormat, "text or json")
}

type command struct {
	name, args, summary string
	run                 runFunc
	// withFlags, for a command with flags of its own, registers them and
	// returns the run function that reads them.
	withFlags func(fs *flag.FlagSet) runFunc
}

type runFunc func(ctx context.Context, e *env) error

// commands lists what exists, in the order help shows it.
func commands() []*command {
	return []*command{
		{name: "run", args: "[--qr-png FILE]", summary: "run the bot on WhatsApp (the default command); pairs by QR code on first start", withFlags: runCommand},
		{name: "pair", args: "[--phone +NUMBER] [--qr-png FILE]", summary: "link a WhatsApp account by QR code, or by an 8-character code with --phone", withFlags: pairCommand},
		{name: "logout", summary: "unlink the WhatsApp account and clear its session", run: runLogout},
		{name: "ask", args: "[--model NAME] TEXT", summary: "ask one question through the model chain (TEXT or stdin); the answering model on stderr", withFlags: askCommand},
		{name: "chat", args: "[--as +NUMBER] [--chat ID]", summary: "talk to the bot in the terminal as its owner, or as +NUMBER in chat ID (one message per line, /attach PATH [caption] for a voice note, picture or text file; reads stdin, so it can be scripted)", withFlags: chatCommand},
		{name: "access", args: "list|allow|deny|approve", summary: "who may talk to the bot: list, allow +NUMBER [--admin], deny +NUMBER, approve CODE [--admin]", withFlags: accessCommand},
		{name: "init", args: "[--url URL]... [--model ID] [--fallback REF] [--bot-number] [--force]", summary: "find local model servers, write a config for the best model, and check it as doctor does", withFlags: initCommand},
		{name: "config check", args: "[FILE]", summary: "check a config file and print the setup it resolves to", run: runConfigCheck},
		{name: "doctor", args: "[--json]", summary: "check the config, database, each model of the chain (with a warm-up) and the WhatsApp link; exit 1 if the chain cannot work", withFlags: doctorCommand},
		{name: "models", summary: "list every model waclaw can use, with its alias and role", run: runModels},
		{name: "version", summary: "print waclaw's version", run: runVersion},
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	g := &globals{logLevel: "info", logFormat: "text"}
	root := flag.NewFlagSet("waclaw", flag.ContinueOnError)
	root.SetOutput(io.Discard)
	g.register(root)
	showVersion := root.Bool("version", false, "print the version and exit")
	if err := root.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(stdout, root)
			return nil
		}
		return usageError{fmt.Sprintf("%v (see waclaw --help)", err)}
	}
	if *showVersion {
		return runVersion(ctx, &env{stdout: stdout})
	}
	rest := root.Args()
	if len(rest) == 0 {
		rest = []string{"run"} // waclaw = waclaw run
	}
	if rest[0] == "help" {
		printHelp(stdout, root)
		return nil
	}
	cmd, cmdArgs := findCommand(rest)
	if cmd == nil && len(rest) > 1 && isHelp(rest[1]) && printGroupHelp(stdout, rest[0]) {
		return nil // "config --help": the commands under "config"
	}
	if cmd == nil {
		msg := fmt.Sprintf("unknown command %q", strings.Join(rest[:min(len(rest), 2)], " "))
		if s := suggest(rest[0]); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return usageError{msg + ": see waclaw --help"}
	}

	fs := flag.NewFlagSet("waclaw "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.register(fs)
	run := cmd.run
	if cmd.withFlags != nil {
		run = cmd.withFlags(fs)
	}
	positional, err := parseInterspersed(fs, cmdArgs)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandHelp(stdout, cmd, fs)
			return nil
		}
		return usageError{fmt.Sprintf("%v (see waclaw %s --help)", err, cmd.name)}
	}
	for _, f := range []*flag.FlagSet{root, fs} {
		f.Visit(func(f *flag.Flag) { g.logLevelSet = g.logLevelSet || f.Name == "log-level" })
	}
	logger, err := newLogger(stderr, g.logLevel, g.logFormat)
	if err != nil {
		return err
	}
	slog.SetDefault(logger)
	return run(ctx, &env{args: positional, global: g, stdin: stdin, stdout: stdout, stderr: stderr})
}

// parseInterspersed parses flags wherever they are among the arguments
// ("access approve CODE --admin"), as people type them; "--" ends flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if rest[0] == "--" {
			return append(positional, rest[1:]...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// findCommand matches the longest command name ("config check") at the
// start of args.
func findCommand(args []string) (*command, []string) {
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			return c, args[len(words):]
		}
	}
	return nil, nil
}

func suggest(word string) string {
	var names []string
	for _, c := range commands() {
		first, _, _ := strings.Cut(c.name, " ")
		if first == word {
			return c.name // "config" alone: the full name
		}
		names = append(names, first)
	}
	if s := config.Closest(word, names); s != "" {
		c, _ := findCommand([]string{s})
		if c == nil {
			return suggest(s)
		}
		return c.name
	}
	return ""
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// printGroupHelp lists the commands whose name starts with the word group
// ("config" for "config check"), and reports whether there were any.
func printGroupHelp(w io.Writer, group string) bool {
	var cs []*command
	for _, c := range commands() {
		if strings.HasPrefix(c.name, group+" ") {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return false
	}
	fmt.Fprintf(w, "Usage: waclaw %s COMMAND [args]\n\nCommands:\n", group)
	printCommands(w, cs)
	fmt.Fprintf(w, "\nRun 'waclaw %s COMMAND --help' for a command's own flags.\n", group)
	return true
}

// printCommands lists commands with their arguments in one aligned column
// and their summaries in the next.
func printCommands(w io.Writer, cs []*command) {
	width := 0
	for _, c := range cs {
		width = max(width, len(strings.TrimSpace(c.name+" "+c.args)))
	}
	for _, c := range cs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
}

func printHelp(w io.Writer, root *flag.FlagSet) {
	fmt.Fprintf(w, "waclaw: a WhatsApp assistant on your own model, with hosted fallbacks.\n\nUsage: waclaw [global flags] COMMAND [args]\n\nCommands:\n")
	printCommands(w, commands())
	fmt.Fprintf(w, "\nGlobal flags (also accepted after the command):\n")
	printFlags(w, root)
	fmt.Fprintf(w, "\nRun 'waclaw COMMAND --help' for a command's own flags.\n")
}

func printCommandHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: waclaw %s [flags]\n\n%s.\n\nFlags:\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	printFlags(w, fs)
}

func printFlags(w io.Writer, fs *flag.FlagSet) {
	width := 0
	fs.VisitAll(func(f *flag.Flag) { width = max(width, len(f.Name)) })
	fs.VisitAll(func(f *flag.Flag) {
		fmt.Fprintf(w, "  --%-*s  %s\n", width, f.Name, f.Usage)
	})
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Sprintf("--log-level %q: use debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Sprintf("--log-format %q: use text or json", format)}
}

// configFile picks the config file: the argument, --config, $WACLAW_CONFIG,
// then the XDG default. It reports whether the choice was explicit; a
// missing default file means the built-in defaults, a missing explicit one
// is an error.
func (g *globals) configFile(arg string) (path string, explicit bool) {
	switch {
	case arg != "":
		return arg, true
	case g.configPath != "":
		return g.configPath, true
	case os.Getenv("WACLAW_CONFIG") != "":
		return os.Getenv("WACLAW_CONFIG"), true
	}
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "waclaw", "config.json5"), false
}

// loadConfig loads the chosen config file, or the built-in defaults when
// no file was named and the default one does not exist.
func (g *globals) loadConfig(arg string) (*config.Config, string, error) {
	path, explicit := g.configFile(arg)
	cfg, err := config.Load(path)
	if errors.Is(err, config.ErrNotFound) && !explicit {
		return config.Default(), path, nil
	}
	return cfg, path, err
}

// dataDirPath is --data-dir, else $XDG_DATA_HOME/waclaw (~/.local/share/waclaw).
func (g *globals) dataDirPath() string {
	if g.dataDir != "" {
		return g.dataDir
	}
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "waclaw")
}

// databasePath is the SQLite file inside the data dir.
func (g *globals) databasePath() string { return filepath.Join(g.dataDirPath(), "waclaw.db") }
