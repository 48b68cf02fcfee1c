package whatsapp

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
)

// unpaired is a fake with no account yet; linking it sets the account and
// emits what whatsmeow emits after a pairing (PairSuccess, then Connected
// once it reconnected on its own).
func unpaired(items ...whatsmeow.QRChannelItem) *fakeClient {
	f := newFake()
	f.pn, f.lid, f.pushName = types.EmptyJID, types.EmptyJID, ""
	f.qr = qrChan(items...)
	return f
}

// qrChan is a QR channel that yields items and closes, as whatsmeow's does
// after its last item.
func qrChan(items ...whatsmeow.QRChannelItem) chan whatsmeow.QRChannelItem {
	ch := make(chan whatsmeow.QRChannelItem, len(items))
	for _, it := range items {
		ch <- it
	}
	close(ch)
	return ch
}

func link(f *fakeClient) {
	id := device(botPN, 9)
	f.deliver(&events.PairSuccess{ID: id, LID: botLID, Platform: "android"})
	f.mu.Lock()
	f.pn, f.lid = id, botLID
	f.mu.Unlock()
	f.deliver(&events.Connected{})
}

func code(c string) whatsmeow.QRChannelItem {
	return whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventCode, Code: c, Timeout: 60 * time.Second}
}

func TestPairQR(t *testing.T) {
	f := unpaired(code("2@first,a,b,c"), code("2@second,a,b,c"), whatsmeow.QRChannelSuccess)
	a, _, _ := testAdapter(t, f, Options{})
	f.onConnect = func() {
		// The pairing finishes while Pair reads the channel.
		go func() {
			for len(f.qr) > 0 {
				time.Sleep(time.Millisecond)
			}
			link(f)
		}()
	}
	pngPath := filepath.Join(t.TempDir(), "qr.png")
	var out bytes.Buffer
	number, err := a.Pair(t.Context(), &out, PairOptions{QRPNG: pngPath, Reconnect: 5 * time.Second})
	if err != nil {
		t.Fatalf("Pair: %v\n%s", err, out.String())
	}
	if number != "+15550001111" {
		t.Errorf("Pair() = %q; want +15550001111", number)
	}
	if f.connects != 1 {
		t.Errorf("Connect called %d times; want once (whatsmeow reconnects after pairing by itself)", f.connects)
	}
	text := out.String()
	if n := strings.Count(text, "Scan this QR code"); n != 2 {
		t.Errorf("shown %d QR prompts; want 2 (one per code):\n%s", n, text)
	}
	if !strings.Contains(text, "within 1m0s") || !strings.Contains(text, "Linked as +15550001111.") {
		t.Errorf("output lacks the timeout or the result:\n%s", text)
	}
	data, err := os.ReadFile(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeQR(t, img); got != "2@second,a,b,c" {
		t.Errorf("PNG holds %q; want the latest code", got)
	}
}

func TestPairFailures(t *testing.T) {
	tests := []struct {
		name  string
		items []whatsmeow.QRChannelItem
		want  string
	}{
		{"timeout", []whatsmeow.QRChannelItem{code("2@a"), code("2@b"), whatsmeow.QRChannelTimeout}, "no QR code was scanned in time"},
		{"error", []whatsmeow.QRChannelItem{code("2@a"), {Event: whatsmeow.QRChannelEventError, Error: whatsmeow.ErrPairInvalidDeviceSignature}}, "WhatsApp rejected the pairing"},
		{"outdated", []whatsmeow.QRChannelItem{whatsmeow.QRChannelClientOutdated}, "outdated"},
		{"without multidevice", []whatsmeow.QRChannelItem{code("2@a"), whatsmeow.QRChannelScannedWithoutMultidevice}, "update WhatsApp on the phone"},
		{"unexpected", []whatsmeow.QRChannelItem{whatsmeow.QRChannelErrUnexpectedEvent}, "unexpected connection event"},
		{"channel closed", nil, "without a result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := unpaired(tt.items...)
			a, _, _ := testAdapter(t, f, Options{})
			var out bytes.Buffer
			_, err := a.Pair(t.Context(), &out, PairOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Pair() error = %v; want one containing %q", err, tt.want)
			}
			if strings.Count(err.Error(), ". ") > 0 {
				t.Errorf("error is more than one sentence: %q", err)
			}
			if f.disconnects == 0 {
				t.Error("failed pairing left the connection open")
			}
		})
	}
}

func TestPairNoReconnect(t *testing.T) {
	f := unpaired(code("2@a"), whatsmeow.QRChannelSuccess)
	a, _, _ := testAdapter(t, f, Options{})
	_, err := a.Pair(t.Context(), &bytes.Buffer{}, PairOptions{Reconnect: 20 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "did not reconnect") {
		t.Errorf("Pair() error = %v; want a reconnect timeout", err)
	}
}

func TestPairPhone(t *testing.T) {
	f := unpaired(code("2@a"), code("2@b"), whatsmeow.QRChannelSuccess)
	a, _, _ := testAdapter(t, f, Options{})
	f.onConnect = func() {
		go func() {
			for len(f.qr) > 0 {
				time.Sleep(time.Millisecond)
			}
			link(f)
		}()
	}
	var out bytes.Buffer
	number, err := a.Pair(t.Context(), &out, PairOptions{Phone: "+1 555-000-1111", Reconnect: 5 * time.Second})
	if err != nil {
		t.Fatalf("Pair: %v", err)
	}
	if number != "+15550001111" {
		t.Errorf("Pair() = %q", number)
	}
	if !slices.Equal(f.pairPhone, []string{"15550001111"}) || f.pairType != whatsmeow.PairClientChrome || f.pairName != "Chrome (Linux)" {
		t.Errorf("PairPhone calls %v type %v name %q; want one for 15550001111 as Chrome (Linux)", f.pairPhone, f.pairType, f.pairName)
	}
	if !strings.Contains(out.String(), "enter: ABCD-EFGH") || strings.Contains(out.String(), "█") {
		t.Errorf("output should show the code and no QR:\n%s", out.String())
	}
}

func TestPairAlreadyLinked(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{})
	var out bytes.Buffer
	number, err := a.Pair(t.Context(), &out, PairOptions{})
	if err != nil || number != "+15550001111" || f.connects != 0 {
		t.Errorf("Pair() = %q, %v with %d connects; want the linked number and no connection", number, err, f.connects)
	}
	if !strings.Contains(out.String(), "Already linked") {
		t.Errorf("output = %q", out.String())
	}
}

// The number for a pairing code is read as every other number is: with
// its country code, "+" or "00" in front; bare digits are refused with the
// message `access allow` gives, though WhatsApp would take them.
func TestParsePhone(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{in: "+15551234567", want: "15551234567"},
		{in: " +49 151 2345-6789 ", want: "4915123456789"},
		{in: "+44 (20) 7946 0958", want: "442079460958"},
		{in: "001 555.000.1111", want: "15550001111"},
		{in: "15550001111", err: `"15550001111" has no country code: write it in international form with the country code, like +15551234567`},
		{in: "", err: "no phone number given"},
		{in: "+0155512345", err: "is not a phone number"},
		{in: "+5551234", err: "too short"},
		{in: "+1234567890123456", err: "too long"},
		{in: "+1555abc4567", err: "is not a phone number"},
		{in: "+", err: "is not a phone number"},
	}
	for _, tt := range tests {
		got, err := ParsePhone(tt.in)
		if tt.err == "" {
			if err != nil || got != tt.want {
				t.Errorf("ParsePhone(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("ParsePhone(%q) = %q, %v; want an error containing %q", tt.in, got, err, tt.err)
		}
	}
	f := unpaired()
	a, _, _ := testAdapter(t, f, Options{})
	if _, err := a.Pair(t.Context(), &bytes.Buffer{}, PairOptions{Phone: "0151 2345"}); err == nil || f.connects != 0 {
		t.Errorf("Pair with a bad number: error %v, %d connects; want an error before connecting", err, f.connects)
	}
}

// WhatsApp refusing the client version while pairing gets the answer
// `run` gives it: the current WhatsApp Web version is fetched once and
// pairing starts again with a new QR code.
func TestPairClientOutdated(t *testing.T) {
	newer := store.GetWAVersion()
	newer[2]++
	tests := []struct {
		name     string
		second   []whatsmeow.QRChannelItem // the pairing after the update
		fetchErr error
		wantErr  string
		connects int
		sets     int
	}{
		{name: "updated, then linked", second: []whatsmeow.QRChannelItem{code("2@new"), whatsmeow.QRChannelSuccess}, connects: 2, sets: 1},
		{name: "outdated again", second: []whatsmeow.QRChannelItem{whatsmeow.QRChannelClientOutdated}, wantErr: "update waclaw", connects: 2, sets: 1},
		{name: "no newer version found", fetchErr: errors.New("no route to host"), wantErr: "no route to host", connects: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := unpaired(whatsmeow.QRChannelClientOutdated)
			f.nextQR = []chan whatsmeow.QRChannelItem{qrChan(tt.second...)}
			a, _, _ := testAdapter(t, f, Options{})
			var set []store.WAVersionContainer
			a.fetchVersion = func(context.Context) (*store.WAVersionContainer, error) { return &newer, tt.fetchErr }
			a.setVersion = func(v store.WAVersionContainer) { set = append(set, v) }
			f.onConnect = func() {
				f.mu.Lock()
				n := f.connects
				f.mu.Unlock()
				if n == 1 || len(tt.second) == 1 {
					// whatsmeow tells every handler, not just the QR channel.
					f.deliver(&events.ClientOutdated{})
				}
				if n == 2 && tt.wantErr == "" {
					go func() {
						for len(f.qr) > 0 {
							time.Sleep(time.Millisecond)
						}
						link(f)
					}()
				}
			}
			var out bytes.Buffer
			number, err := a.Pair(t.Context(), &out, PairOptions{Reconnect: 5 * time.Second})
			a.bg.Wait()
			if tt.wantErr == "" && (err != nil || number != "+15550001111") {
				t.Fatalf("Pair() = %q, %v; want linked after the update\n%s", number, err, out.String())
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "outdated")) {
				t.Fatalf("Pair() error = %v; want one saying the client is outdated and %q", err, tt.wantErr)
			}
			if len(set) != tt.sets || (tt.sets == 1 && set[0] != newer) {
				t.Errorf("versions set %v; want %d time(s) %v", set, tt.sets, newer)
			}
			if f.connects != tt.connects {
				t.Errorf("connects = %d; want %d (the adapter must not reconnect behind Pair's back)", f.connects, tt.connects)
			}
			if closed(a.Done()) {
				t.Errorf("the adapter stopped: %+v", a.State())
			}
		})
	}
}
