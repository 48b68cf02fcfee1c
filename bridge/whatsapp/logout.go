package whatsapp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mau.fi/whatsmeow"
)

// Logout unlinks this device from the WhatsApp account and clears the
// session from the database. When WhatsApp cannot be reached the local
// session is still cleared, and the error says to remove the device from
// the phone too.
func Logout(ctx context.Context, db *sql.DB, log *slog.Logger) (string, error) {
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
	err = cli.Connect()
	if err == nil {
		wait, cancel := context.WithTimeout(ctx, 30*time.Second)
		for !cli.IsLoggedIn() && wait.Err() == nil {
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
		err = cli.Logout(ctx)
		cli.Disconnect()
	}
	if err == nil {
		return number, nil
	}
	if derr := device.Delete(ctx); derr != nil && !errors.Is(derr, whatsmeow.ErrNotLoggedIn) {
		return number, fmt.Errorf("clear the WhatsApp session: %w", derr)
	}
	return number, fmt.Errorf("WhatsApp could not be told (%v): the session here is cleared; also remove the device on the phone (Settings > Linked devices)", redactErr(err))
}
