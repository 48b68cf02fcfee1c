package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"waclaw/bridge"
	"waclaw/config"
	"waclaw/store"
)

// accessCommand manages who may talk to the bot, from the shell: for a bot
// on a dedicated number, whose owner has no self-chat to approve from.
func accessCommand(fs *flag.FlagSet) runFunc {
	admin := fs.Bool("admin", false, "with allow or approve: also make the number an admin")
	return func(ctx context.Context, e *env) error { return runAccess(ctx, e, *admin) }
}

const accessUsage = "use: waclaw access list | allow +NUMBER [--admin] | deny +NUMBER | approve CODE [--admin]"

func runAccess(ctx context.Context, e *env, admin bool) error {
	if len(e.args) == 0 {
		return usageError{accessUsage}
	}
	verb, args := e.args[0], e.args[1:]
	if (verb == "list" && len(args) != 0) || (verb != "list" && len(args) != 1) {
		return usageError{accessUsage}
	}
	st, err := store.Open(ctx, e.global.databasePath())
	if err != nil {
		return err
	}
	defer st.Close()
	switch verb {
	case "list":
		entries, err := st.AccessList(ctx)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			fmt.Fprintln(e.stdout, "Nobody has been allowed, blocked or asked to pair yet (numbers in the config's allowFrom and admins apply too).")
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NUMBER\tSTATE\tADMIN\tCODE\tEXPIRES")
		for _, en := range entries {
			code, expires := "-", "-"
			if en.State == store.AccessPending {
				code, expires = en.PairingCode, en.CodeExpiresAt.Local().Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", en.Number, en.State, en.Admin, code, expires)
		}
		return tw.Flush()
	case "allow", "deny":
		number, err := config.NormalizePhone(args[0])
		if err != nil {
			return usageError{err.Error()}
		}
		entry, _, err := st.Access(ctx, number)
		if err != nil {
			return err
		}
		entry.Number, entry.PairingCode, entry.Admin = number, "", admin && verb == "allow"
		entry.State = store.AccessAllowed
		if verb == "deny" {
			entry.State = store.AccessBlocked
		}
		if err := st.SetAccess(ctx, entry); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s is now %s", number, entry.State)
		if entry.Admin {
			fmt.Fprint(e.stdout, " (admin)")
		}
		fmt.Fprintln(e.stdout)
		return nil
	case "approve":
		number, err := bridge.Approve(ctx, st, args[0], admin, time.Now())
		if errors.Is(err, bridge.ErrBadCode) {
			return fmt.Errorf("%w; see waclaw access list", err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s is approved", number)
		if admin {
			fmt.Fprint(e.stdout, " as an admin")
		}
		fmt.Fprintln(e.stdout, ": let them know they can message the bot now.")
		return nil
	}
	return usageError{accessUsage}
}
