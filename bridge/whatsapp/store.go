package whatsapp

import (
	"context"
	"database/sql"
	"fmt"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	waLog "go.mau.fi/whatsmeow/util/log"
)

// OpenDevice opens whatsmeow's session store inside waclaw's database (its
// own whatsmeow_* tables and whatsmeow_version table, beside waclaw's), brings it
// up to date, and returns the linked device, or a new unlinked one.
//
// The container shares db: never call its Close, which would close waclaw's
// database too. Close the store.Store instead.
func OpenDevice(ctx context.Context, db *sql.DB, log waLog.Logger) (*sqlstore.Container, *store.Device, error) {
	container := sqlstore.NewWithDB(db, "sqlite3", log)
	if err := container.Upgrade(ctx); err != nil {
		return nil, nil, fmt.Errorf("upgrade the WhatsApp session tables: %w", err)
	}
	device, err := container.GetFirstDevice(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read the WhatsApp session: %w", err)
	}
	return container, device, nil
}

// Open is the usual wiring: whatsmeow's session store in db, a whatsmeow
// client logging to opts.Logger (warnings and up), and an adapter over it.
// Nothing connects until Connect or Pair.
func Open(ctx context.Context, db *sql.DB, opts Options) (*Adapter, error) {
	walog := NewLogger(opts.Logger, "whatsmeow", DefaultLogLevel)
	_, device, err := OpenDevice(ctx, db, walog.Sub("Database"))
	if err != nil {
		return nil, err
	}
	return New(whatsmeow.NewClient(device, walog), opts), nil
}
