package main

import (
	"context"
	"flag"

	"waclaw/bridge"
	"waclaw/bridge/access"
	"waclaw/bridge/console"
)

// chatCommand talks to the bot from the terminal with the same config,
// store and commands as WhatsApp: one message per line of stdin, or JSON
// lines from a script with --jsonl.
func chatCommand(fs *flag.FlagSet) runFunc {
	as := fs.String("as", "", "speak as this +NUMBER instead of the owner (to try the access policy)")
	chatID := fs.String("chat", "", "the conversation id (default: the owner's self-chat, or the --as number)")
	jsonl := fs.Bool("jsonl", false, "read messages and write replies as JSON lines, many chats at once (for scripts and load tests; see the README)")
	return func(ctx context.Context, e *env) error {
		if len(e.args) > 0 {
			return usageError{"chat takes no arguments: write messages to stdin, one per line"}
		}
		var con *console.Console
		switch {
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
		return runChat(ctx, e, con)
	}
}

// runChat runs the bot over the terminal channel until stdin ends, then
// waits for the answers still due.
func runChat(ctx context.Context, e *env, con *console.Console) error {
	a, err := openApp(ctx, e.global)
	if err != nil {
		return err
	}
	defer a.Close()
	b := bridge.New(a.cfg, a.store, a.history, a.agent, con, bridge.Options{
		Owner: func() []string { return []string{console.OwnerChat} },
	})
	if err := b.Start(ctx); err != nil {
		return err
	}
	if err := con.Read(ctx, e.stdin, b); err != nil {
		return err
	}
	if err := b.Idle(ctx); err != nil {
		return err
	}
	return b.Shutdown(ctx)
}
