package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"waclaw/bridge"
	"waclaw/bridge/whatsapp"
	"waclaw/store"
)

// runCommand runs the bot on WhatsApp until SIGINT or SIGTERM, pairing
// first when no account is linked and stdout is a terminal.
func runCommand(fs *flag.FlagSet) runFunc {
	qrPNG := fs.String("qr-png", "", "when pairing, also write each QR code to this PNG file")
	return func(ctx context.Context, e *env) error { return runBot(ctx, e, *qrPNG) }
}

// errPairNeedsPerson stops `run` from pairing with nobody there: a QR code
// printed into a service's log links the account for whoever reads it.
var errPairNeedsPerson = needsOperator{errors.New("no WhatsApp account is linked: run `waclaw pair` in a terminal to link one (or `waclaw pair --qr-png FILE` on a machine without a screen)")}

func runBot(ctx context.Context, e *env, qrPNG string) error {
	if len(e.args) > 0 {
		return usageError{"run takes no arguments"}
	}
	a, err := openApp(ctx, e.global)
	if err != nil {
		return err
	}
	defer a.Close()

	wa, err := whatsapp.Open(ctx, a.store.DB(), whatsapp.Options{
		Logger:         slog.Default(),
		KnownNumbers:   slices.DeleteFunc(append(slices.Clone(a.cfg.WhatsApp.AllowFrom), a.cfg.WhatsApp.Admins...), func(n string) bool { return n == "*" }),
		IgnoreSelfChat: !a.cfg.WhatsApp.SelfChatMode,
		TextChunkLimit: a.cfg.WhatsApp.TextChunkLimit,
		RejectCalls:    a.cfg.WhatsApp.RejectCalls,
		Chats:          a.store,
		OnConnected: func(at time.Time) {
			if err := a.store.SetLastConnected(ctx, at); err != nil {
				slog.Warn("record the connection time", "err", err)
			}
		},
	})
	if err != nil {
		return err
	}
	defer wa.Close()
	b := bridge.New(a.cfg, a.store, a.history, a.agent, wa, bridge.Options{
		Link: func() string { return wa.State().Describe(time.Now()) },
		Owner: func() []string {
			return whatsapp.OwnerChats(wa.State().LinkedNumber, a.cfg.WhatsApp.Admins, a.cfg.WhatsApp.SelfChatMode)
		},
	})
	wa.SetHandler(b)
	// Before anything is answered: a chat an older waclaw kept under a
	// LID goes on under the person's number. What cannot be moved now is
	// moved when their next message arrives.
	if err := wa.MoveStoredChats(ctx); err != nil {
		slog.Warn("move chats stored under LIDs to their numbers; trying again as messages arrive", "err", err)
	}

	if err := connect(ctx, e, wa, qrPNG); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil // stopped while connecting: nothing to drain yet
	}
	// Stopped meanwhile, Start's error is the stop's: what it did not get
	// to stays pending for the next start.
	if err := b.Start(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	// Local models are warmed in the background: the first message never
	// waits for it, it just queues behind the same server.
	ticker := time.NewTicker(time.Minute)
	defer ticker.Stop()
	go a.agent.KeepWarm(ctx, ticker.C)
	st := wa.State()
	slog.Info("waclaw is running", "account", bridge.HashID(st.LinkedNumber), "connected", st.Connected, "primary", a.cfg.Primary.Ref(),
		"mode", a.cfg.WhatsApp.Mode())

	var stopped error
	select {
	case <-ctx.Done():
		slog.Info("stopping: finishing the replies in progress")
	case <-wa.Done():
		s := wa.State()
		stopped = fmt.Errorf("WhatsApp stopped the connection: %s", s.StopReason)
		if s.StopReason == string(whatsapp.StopLoggedOut) {
			stopped = needsOperator{errors.New("this device was logged out of WhatsApp: run `waclaw pair` to link it again")}
		}
	}
	drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), 45*time.Second)
	defer cancel()
	if err := b.Shutdown(drain); err != nil {
		slog.Warn("shutdown", "err", err)
	}
	return stopped
}

// connect connects the bot to WhatsApp, pairing first when no account is
// linked and a person is at the terminal. When WhatsApp cannot be reached
// it says so and keeps trying in the background: the bot starts anyway,
// and replies wait for the connection. Ctrl-C ends the wait at once.
func connect(ctx context.Context, e *env, wa *whatsapp.Adapter, qrPNG string) error {
	if wa.State().LinkedNumber == "" {
		if !whatsapp.IsTerminal(e.stdout) {
			return errPairNeedsPerson
		}
		fmt.Fprintln(e.stdout, "No WhatsApp account is linked yet: link one now.")
		_, err := wa.Pair(ctx, e.stdout, whatsapp.PairOptions{QRPNG: qrPNG})
		return err
	}
	fmt.Fprintln(e.stdout, "Connecting to WhatsApp...")
	err := wa.Connect(ctx)
	var u *whatsapp.UnreachableError
	switch {
	case ctx.Err() != nil:
		return nil
	case errors.As(err, &u):
		fmt.Fprintf(e.stdout, "%v; waclaw keeps trying (at least once a minute) and answers once it is through. Ctrl-C stops it.\n", u)
		wa.KeepConnecting(u)
		return nil
	case errors.Is(err, whatsapp.ErrNotLinked):
		return errPairNeedsPerson
	}
	return err
}

// pairCommand links a WhatsApp account without starting the bot.
func pairCommand(fs *flag.FlagSet) runFunc {
	phone := fs.String("phone", "", "link with an 8-character code for this +NUMBER instead of a QR code")
	qrPNG := fs.String("qr-png", "", "also write each QR code to this PNG file")
	return func(ctx context.Context, e *env) error {
		if len(e.args) > 0 {
			return usageError{"pair takes no arguments"}
		}
		st, err := store.Open(ctx, e.global.databasePath())
		if err != nil {
			return err
		}
		defer st.Close()
		wa, err := whatsapp.Open(ctx, st.DB(), whatsapp.Options{Logger: slog.Default()})
		if err != nil {
			return err
		}
		defer wa.Close()
		_, err = wa.Pair(ctx, e.stdout, whatsapp.PairOptions{Phone: *phone, QRPNG: *qrPNG})
		return err
	}
}

// runLogout unlinks the WhatsApp account and clears the session.
func runLogout(ctx context.Context, e *env) error {
	if len(e.args) > 0 {
		return usageError{"logout takes no arguments"}
	}
	st, err := store.Open(ctx, e.global.databasePath())
	if err != nil {
		return err
	}
	defer st.Close()
	number, err := whatsapp.Logout(ctx, st.DB(), slog.Default(), e.stdout)
	if errors.Is(err, whatsapp.ErrNotLinked) {
		fmt.Fprintln(e.stdout, "No WhatsApp account is linked: nothing to do.")
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Unlinked %s and cleared the session. Run `waclaw pair` to link again.\n", number)
	return nil
}
