package whatsapp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.mau.fi/whatsmeow"
)

// logoutLoginWait bounds the wait for WhatsApp to accept the session
// before the device is unlinked.
const logoutLoginWait = 30 * time.Second

// ErrLogoutCancelled is Logout stopped (Ctrl-C) before it changed
// anything.
var ErrLogoutCancelled = errors.New("logout cancelled: nothing was changed, the device is still linked")

// Logout unlinks this device from the WhatsApp account and clears the
// session from the database, saying on out that it connects first. When
// WhatsApp cannot be reached the local session is still cleared, and the
// error says to remove the device from the phone too. When ctx ends first
// (Ctrl-C) nothing is changed.
func Logout(ctx context.Context, db *sql.DB, log *slog.Logger, out io.Writer) (string, error) {
	walog := NewLogger(log, "whatsmeow", DefaultLogLevel)
	_, device, err := OpenDevice(ctx, db, walog.Sub("Database"))
	if err != nil {
		return "", err
	}
	if device.ID == nil {
		return "", ErrNotLinked
	}
	number := phoneOf(device.ID.ToNonAD())
	cli := whatsmeow.NewClient(device, walog)
	base := NewZerolog(log, DefaultLogLevel).WithContext(context.Background())
	fmt.Fprintln(out, "Connecting to WhatsApp...")
	stop, err := dial(ctx, base, cli.ConnectContext, cli.Disconnect)
	if err == nil {
		defer stop()
		err = logoutConnected(ctx, cli)
		cli.Disconnect()
	}
	if err == nil {
		return number, nil
	}
	if ctx.Err() != nil {
		return number, ErrLogoutCancelled
	}
	if derr := device.Delete(context.WithoutCancel(ctx)); derr != nil && !errors.Is(derr, whatsmeow.ErrNotLoggedIn) {
		return number, fmt.Errorf("clear the WhatsApp session: %w", derr)
	}
	if u := unreachable(err); u != nil {
		return number, fmt.Errorf("%w; the session here is cleared anyway: also remove this device on the phone (WhatsApp > Settings > Linked devices)", u)
	}
	return number, fmt.Errorf("WhatsApp could not be told (%v): the session here is cleared; also remove the device on the phone (Settings > Linked devices)", redactErr(err))
}

// logoutConnected waits for WhatsApp to accept the session, then asks it
// to unlink this device.
func logoutConnected(ctx context.Context, cli *whatsmeow.Client) error {
	wait, cancel := context.WithTimeout(ctx, logoutLoginWait)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !cli.IsLoggedIn() {
		select {
		case <-wait.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return cli.Logout(ctx) // it says why, if WhatsApp never answers
		case <-tick.C:
		}
	}
	return cli.Logout(ctx)
}
