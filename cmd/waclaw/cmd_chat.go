package main

import (
	"bufio"
	"context"
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
	return func(ctx context.Context, e *env) error { return runChat(ctx, e, *as, *chatID) }
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
	// The person at the terminal is the owner: their self-chat is admin
	// whatever selfChatMode says for WhatsApp.
	a.cfg.WhatsApp.SelfChatMode = true

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
