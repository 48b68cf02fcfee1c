package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"time"

	"waclaw/bridge"
	"waclaw/bridge/console"
	"waclaw/config"
)

// chatCommand talks to the bot from the terminal with the same config,
// store and commands as WhatsApp: one message per line of stdin.
func chatCommand(fs *flag.FlagSet) runFunc {
	as := fs.String("as", "", "speak as this +NUMBER instead of the owner (to try the access policy)")
	chatID := fs.String("chat", "", "the conversation id (default: the owner's self-chat, or the --as number)")
	jsonl := fs.Bool("jsonl", false, "read messages and write replies as JSON lines, many chats at once (for scripts and load tests; see the README)")
	return func(ctx context.Context, e *env) error {
		if *jsonl {
			if *as != "" || *chatID != "" {
				return usageError{"--jsonl takes the chat and sender from each line: leave out --as and --chat"}
			}
			return runChatJSON(ctx, e)
		}
		return runChat(ctx, e, *as, *chatID)
	}
}

func runChat(ctx context.Context, e *env, as, chatID string) error {
	if len(e.args) > 0 {
		return usageError{"chat takes no arguments: type messages, one per line"}
	}
	var number string
	if as != "" {
		n, err := config.NormalizePhone(as)
		if err != nil {
			return usageError{"--as: " + err.Error()}
		}
		number = n
	}
	a, err := openApp(ctx, e.global)
	if err != nil {
		return err
	}
	defer a.Close()
	b := bridge.New(a.cfg, a.store, a.history, a.agent, console.New(e.stdout), bridge.Options{})
	if err := b.Start(ctx); err != nil {
		return err
	}
	if err := b.Idle(ctx); err != nil {
		return err
	}

	in := bridge.Inbound{ChatID: "console", SenderID: "console", FromSelf: true, SelfChat: true}
	if number != "" {
		in = bridge.Inbound{ChatID: number, SenderID: number, SenderPhone: number}
	}
	if chatID != "" {
		in.ChatID = chatID
		in.SelfChat = in.SelfChat && chatID == in.SenderID
		in.IsGroup = strings.HasSuffix(chatID, "@g.us")
		in.MentionsMe = in.IsGroup // a line typed into a group is addressed to the bot
	}
	scanner := bufio.NewScanner(e.stdin)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" {
			continue
		}
		msg := in
		msg.Text = line
		msg.Time = time.Now()
		msg.MessageID = fmt.Sprintf("console-%d", msg.Time.UnixNano())
		if err := b.Handle(ctx, msg); err != nil {
			return err
		}
		if err := b.Idle(ctx); err != nil {
			return err
		}
	}
	if err := scanner.Err(); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	return b.Shutdown(ctx)
}

// runChatJSON is `waclaw chat --jsonl`: each line of stdin is a message
// from any chat, as bridge.Inbound's JSON ({"chat", "sender", "phone",
// "id", "text", "group", "mention", ...}), answered with an ack line once
// the message is safely stored (or an error saying why it was not), and
// each reply is a line {"chat", "id", "text", "quote"}. Chats are answered
// in parallel, in order within each; at the end of input it waits for the
// answers still due.
func runChatJSON(ctx context.Context, e *env) error {
	if len(e.args) > 0 {
		return usageError{"chat takes no arguments: write messages to stdin, one JSON object per line"}
	}
	a, err := openApp(ctx, e.global)
	if err != nil {
		return err
	}
	defer a.Close()
	con := console.NewJSON(e.stdout)
	b := bridge.New(a.cfg, a.store, a.history, a.agent, con, bridge.Options{})
	if err := b.Start(ctx); err != nil {
		return err
	}
	scanner := bufio.NewScanner(e.stdin)
	scanner.Buffer(make([]byte, 64<<10), 4<<20)
	for n := 1; scanner.Scan(); n++ {
		if strings.TrimSpace(scanner.Text()) == "" {
			continue
		}
		var in bridge.Inbound
		if err := json.Unmarshal(scanner.Bytes(), &in); err != nil {
			con.Ack("", fmt.Errorf("line %d is not a message: %v", n, err))
			continue
		}
		if in.ChatID == "" || in.SenderID == "" || in.MessageID == "" {
			con.Ack(in.MessageID, fmt.Errorf("line %d: a message needs \"chat\", \"sender\" and \"id\"", n))
			continue
		}
		if err := con.Ack(in.MessageID, b.Handle(ctx, in)); err != nil {
			return err
		}
	}
	if err := scanner.Err(); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	if err := b.Idle(ctx); err != nil {
		return err
	}
	return b.Shutdown(ctx)
}
