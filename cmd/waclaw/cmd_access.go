package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"waclaw/bridge/access"
	"waclaw/store"
)

// accessCommand manages who may talk to the bot, from the shell: for a bot
// on a dedicated number, whose owner has no self-chat to approve from. It
// changes the access list through the same policy as the chat commands.
func accessCommand(fs *flag.FlagSet) runFunc {
	admin := fs.Bool("admin", false, "with allow or approve: also make the number an admin (allow --admin=false removes admin)")
	return func(ctx context.Context, e *env) error {
		change := access.KeepAdmin
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "admin" {
				change = access.RemoveAdmin
				if *admin {
					change = access.MakeAdmin
				}
			}
		})
		return runAccess(ctx, e, change)
	}
}

const accessUsage = "use: waclaw access list | allow +NUMBER [--admin | --admin=false] | deny +NUMBER | approve CODE [--admin]"

func runAccess(ctx context.Context, e *env, admin access.AdminChange) error {
	if len(e.args) == 0 {
		return usageError{accessUsage}
	}
	verb, args := e.args[0], e.args[1:]
	if (verb == "list" && len(args) != 0) || (verb != "list" && len(args) != 1) {
		return usageError{accessUsage}
	}
	if admin != access.KeepAdmin && verb != "allow" && verb != "approve" {
		return usageError{"--admin goes with allow or approve: " + accessUsage}
	}
	cfg, _, err := e.global.loadConfig("")
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, e.global.databasePath())
	if err != nil {
		return err
	}
	defer st.Close()
	policy := access.New(cfg.WhatsApp, st, time.Now)
	switch verb {
	case "list":
		entries, err := policy.List(ctx)
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
				code, expires = en.PairingCode, en.CodeExpiresAt.Local().Format("2006-01-02 15:04 MST")
			}
			fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", en.Number, en.State, en.Admin, code, expires)
		}
		return tw.Flush()
	case "allow", "deny":
		var entry store.AccessEntry
		if verb == "allow" {
			entry, err = policy.Allow(ctx, args[0], admin)
		} else {
			entry, err = policy.Deny(ctx, args[0])
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s is now %s", entry.Number, entry.State)
		if entry.Admin {
			fmt.Fprint(e.stdout, " (admin)")
		}
		fmt.Fprintln(e.stdout)
		if verb == "deny" && policy.ConfigAdmin(entry.Number) {
			fmt.Fprintln(e.stdout, "Note: the config file lists them in channels.whatsapp.admins, which takes precedence; remove them there.")
		}
		return nil
	case "approve":
		number, _, err := policy.Approve(ctx, args[0], admin == access.MakeAdmin)
		if errors.Is(err, access.ErrBadCode) {
			return fmt.Errorf("%w; see waclaw access list", err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s is approved", number)
		if admin == access.MakeAdmin {
			fmt.Fprint(e.stdout, " as an admin")
		}
		fmt.Fprintln(e.stdout, ": let them know they can message the bot now.")
		return nil
	}
	return usageError{accessUsage}
}
