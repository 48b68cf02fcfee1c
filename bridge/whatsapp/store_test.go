package whatsapp

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/types"

	"waclaw/store"
)

func TestOpenUnlinked(t *testing.T) {
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "waclaw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := Open(t.Context(), st.DB(), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer a.Close()
	if err := a.Connect(t.Context()); !errors.Is(err, ErrNotLinked) {
		t.Errorf("Connect() on a new database = %v; want ErrNotLinked (and no connection attempt)", err)
	}
	if got := a.State().Describe(t0); got != "not linked: run `waclaw pair`" {
		t.Errorf("Describe() = %q", got)
	}
}

func TestOpenDeviceSharesWaclawDatabase(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "waclaw.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.InboxAdd(ctx, store.InboxItem{ChatID: "c", SenderID: "s", MsgID: "m1", Payload: []byte(`{}`), ReceivedAt: t0}); err != nil {
		t.Fatal(err)
	}
	_, dev, err := OpenDevice(ctx, st.DB(), nil)
	if err != nil {
		t.Fatalf("OpenDevice: %v", err)
	}
	if dev.ID != nil {
		t.Fatalf("new database has a linked device %v", dev.ID)
	}
	// What pairing stores.
	jid := types.JID{User: "15550001111", Device: 7, Server: types.DefaultUserServer}
	dev.ID = &jid
	dev.PushName = "Bot"
	dev.Account = &waAdv.ADVSignedDeviceIdentity{
		Details: []byte{1}, AccountSignature: make([]byte, 64), AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64),
	}
	if err := dev.Save(ctx); err != nil {
		t.Fatalf("save device: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = store.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen waclaw store: %v", err)
	}
	defer st.Close()
	_, dev, err = OpenDevice(ctx, st.DB(), nil)
	if err != nil {
		t.Fatalf("reopen OpenDevice: %v", err)
	}
	if dev.ID == nil || *dev.ID != jid || dev.PushName != "Bot" {
		t.Errorf("device after reopen = %v %q; want %v %q", dev.ID, dev.PushName, jid, "Bot")
	}
	pending, err := st.InboxPending(ctx)
	if err != nil || len(pending) != 1 || pending[0].MsgID != "m1" {
		t.Errorf("waclaw inbox after reopen = %v, %v; want the one message", pending, err)
	}
	var n int
	if err := st.DB().QueryRowContext(ctx, "SELECT count(*) FROM whatsmeow_version").Scan(&n); err != nil || n != 1 {
		t.Errorf("whatsmeow_version rows = %d, %v; want 1", n, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("database mode = %v; want 0600", fi.Mode().Perm())
	}

	// The real constructor turns on synchronous acks and the decrypted
	// event buffer, without connecting anywhere.
	cli := whatsmeow.NewClient(dev, NewLogger(nil, "Client", DefaultLogLevel))
	a := New(cli, Options{})
	defer a.cancel()
	if !cli.SynchronousAck || !cli.EnableDecryptedEventBuffer {
		t.Errorf("SynchronousAck = %v, EnableDecryptedEventBuffer = %v; want both true", cli.SynchronousAck, cli.EnableDecryptedEventBuffer)
	}
	if got := a.State().LinkedNumber; got != "+15550001111" {
		t.Errorf("State().LinkedNumber = %q; want +15550001111", got)
	}
}
