package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"waclaw/bridge"
	"waclaw/bridge/access"
	"waclaw/bridge/console"
)

// chatCommand talks to the bot from the terminal with the same config,
// store and commands as WhatsApp: one message per line of stdin, or JSON
// lines from a script with --jsonl.
func chatCommand(fs *flag.FlagSet) runFunc {
	as := fs.String("as", "", "speak as this +NUMBER instead of the owner (to try the access policy)")
	chatID := fs.String("chat", "", "with --as: the conversation, e.g. a group id (...@g.us) where the line is addressed to the bot (default: the --as number's DM)")
	jsonl := fs.Bool("jsonl", false, "read messages and write replies as JSON lines, many chats at once (for scripts and load tests; \"audio\", \"image\" or \"document\" sends a file by path; see the README)")
	return func(ctx context.Context, e *env) error {
		if len(e.args) > 0 {
			return usageError{"chat takes no arguments: write messages to stdin, one per line"}
		}
		var con *console.Console
		switch {
		case *chatID != "" && *as == "":
			// The owner's own messages count only in their self-chat;
			// elsewhere they are the owner talking to people, and the bot
			// stays out of it (as it does on WhatsApp).
			return usageError{"--chat needs --as +NUMBER: the owner talks to the bot only in their self-chat; to try another chat, speak as someone in it"}
		case *jsonl && (*as != "" || *chatID != ""):
			return usageError{"--jsonl takes the chat and sender from each line: leave out --as and --chat"}
		case *jsonl:
			con = console.NewJSON(e.stdout)
		default:
			who := console.Person{Chat: *chatID}
			if *as != "" {
				n, err := access.Number(*as)
				if err != nil {
					return usageError{"--as: " + err.Error()}
				}
				who.Phone = n
			}
			con = console.New(e.stdout, who)
		}
		interactive := !*jsonl && isTerminal(e.stdin)
		if interactive {
			con.Prompt("> ")
			if !e.global.logLevelSet {
				// The log would mix into the conversation: only warnings,
				// unless a level was chosen.
				logger, err := newLogger(e.stderr, "warn", e.global.logFormat)
				if err != nil {
					return err
				}
				slog.SetDefault(logger)
			}
		}
		return runChat(ctx, e, con, interactive)
	}
}

// runChat runs the bot over the terminal channel until stdin ends, then
// waits for the answers still due.
func runChat(ctx context.Context, e *env, con *console.Console, interactive bool) error {
	a, err := openApp(ctx, e.global)
	if err != nil {
		return err
	}
	defer a.Close()
	// The terminal is not WhatsApp: its replies need no pacing. A --jsonl
	// script stands in for WhatsApp (load tests), so it keeps the limit.
	jsonl := con.JSON()
	b := bridge.New(a.cfg, a.store, a.history, a.agent, con, bridge.Options{
		Owner:   func() []string { return []string{console.OwnerChat} },
		Unpaced: !jsonl,
	})
	if interactive {
		fmt.Fprintln(e.stdout, banner(a))
	}
	if err := b.Start(ctx); err != nil {
		return err
	}
	err = con.Read(ctx, e.stdin, b)
	if ctx.Err() != nil {
		// Ctrl-C or SIGTERM: quit now; a message still being answered
		// stays pending and is answered on the next start.
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		b.Shutdown(stop)
		return nil
	}
	if err != nil {
		return err
	}
	if err := b.Idle(ctx); err != nil {
		return err
	}
	return b.Shutdown(ctx)
}

// isTerminal says whether r is a terminal (a person typing), as opposed
// to a pipe or a file; a variable so tests can stand in for a person.
var isTerminal = func(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// banner is the one line a person at the terminal sees first.
func banner(a *app) string {
	chain := make([]string, 0, 1+len(a.cfg.Fallbacks))
	for _, m := range a.agent.Chain(a.cfg.Primary) {
		chain = append(chain, m.Label())
	}
	return fmt.Sprintf("waclaw chat: %s (chain: %s). One message per line; /help for commands, /attach PATH to send a file; Ctrl-D or Ctrl-C to quit.",
		a.cfg.Primary.Label(), strings.Join(chain, " > "))
}
