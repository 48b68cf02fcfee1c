package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.mau.fi/whatsmeow"
	"golang.org/x/term"

	"waclaw/config"
)

// PairDisplayName is how the linked device appears on the phone. WhatsApp
// accepts only "Browser (OS)" names of common browsers.
const PairDisplayName = "Chrome (Linux)"

// defaultPairReconnect bounds the wait for the reconnect that follows a
// successful pairing.
const defaultPairReconnect = time.Minute

// PairOptions choose how to link an account.
type PairOptions struct {
	// Phone, in E.164 (+15551234567), links with an 8-character code typed
	// on the phone instead of scanning a QR.
	Phone string
	// QRPNG, if set, is a file that each QR code is also written to (PNG).
	QRPNG string
	// Reconnect bounds the wait for WhatsApp to reconnect after pairing;
	// default one minute.
	Reconnect time.Duration
}

// Pair links a WhatsApp account to this device: it shows QR codes (or a
// phone pairing code) on out until the phone accepts one, waits for the
// connection that follows, and returns the linked number in E.164. An
// account that is already linked is returned as it is.
func (a *Adapter) Pair(ctx context.Context, out io.Writer, opts PairOptions) (string, error) {
	if pn, _, _ := a.cli.Identity(); !pn.IsEmpty() {
		fmt.Fprintf(out, "Already linked as %s. Run `waclaw logout` first to link another account.\n", phoneOf(pn))
		return phoneOf(pn), nil
	}
	var phone string
	if opts.Phone != "" {
		var err error
		if phone, err = ParsePhone(opts.Phone); err != nil {
			return "", err
		}
	}
	a.setPairing(true)
	defer a.setPairing(false)
	for updated := false; ; updated = true {
		qrs, err := a.cli.GetQRChannel(ctx)
		if err != nil {
			return "", fmt.Errorf("start pairing: %w", err)
		}
		fmt.Fprintln(out, "Connecting to WhatsApp...")
		if err := a.connect(ctx); err != nil {
			var u *UnreachableError
			switch {
			case ctx.Err() != nil:
				return "", fmt.Errorf("pairing cancelled: %w", err)
			case errors.As(err, &u):
				return "", fmt.Errorf("%w; then run `waclaw pair` again", u)
			}
			return "", fmt.Errorf("connect to WhatsApp to pair: %w", err)
		}
		err = a.pairLoop(ctx, out, qrs, phone, opts.QRPNG)
		if err == nil {
			break
		}
		a.cli.Disconnect()
		if !errors.Is(err, errPairOutdated) || updated {
			return "", err
		}
		// As `run` does: fetch the version WhatsApp Web uses now, once.
		if verr := a.refreshVersion(ctx); verr != nil {
			return "", fmt.Errorf("WhatsApp says this client version is outdated, and no newer one was found (%v): update waclaw and pair again", verr)
		}
		fmt.Fprintln(out, "WhatsApp asked for a newer client version; starting again with it...")
	}
	a.setPairing(false)

	// whatsmeow reconnects by itself after pairing (stream error 515).
	wait := opts.Reconnect
	if wait <= 0 {
		wait = defaultPairReconnect
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	s, err := a.waitState(wctx, func(s State) bool { return s.Connected || s.Stopped })
	if err != nil {
		return "", fmt.Errorf("the phone accepted the link, but WhatsApp did not reconnect within %s: start waclaw and it will finish connecting (%w)", wait, err)
	}
	if s.Stopped {
		return "", fmt.Errorf("the phone accepted the link, but WhatsApp then stopped the connection: %s", s.StopReason)
	}
	number := s.LinkedNumber
	if pn, _, _ := a.cli.Identity(); phoneOf(pn) != "" {
		number = phoneOf(pn)
	}
	fmt.Fprintf(out, "Linked as %s.\n", number)
	return number, nil
}

// setPairing marks Pair running: while it is, Pair answers an outdated
// client version itself, with a new QR code.
func (a *Adapter) setPairing(on bool) {
	a.mu.Lock()
	a.pairing = on
	a.mu.Unlock()
}

// errPairOutdated is WhatsApp refusing this client version while pairing.
var errPairOutdated = errors.New("WhatsApp says this client version is outdated: update waclaw and pair again")

// pairLoop follows the QR channel until pairing succeeds or fails.
func (a *Adapter) pairLoop(ctx context.Context, out io.Writer, qrs <-chan whatsmeow.QRChannelItem, phone, png string) error {
	color := IsTerminal(out)
	codeShown := false
	for {
		var item whatsmeow.QRChannelItem
		var ok bool
		select {
		case <-ctx.Done():
			return fmt.Errorf("pairing cancelled: %w", ctx.Err())
		case item, ok = <-qrs:
		}
		if !ok {
			return errors.New("pairing ended without a result: run `waclaw pair` again")
		}
		switch item.Event {
		case whatsmeow.QRChannelEventCode:
			if phone != "" {
				// The first QR means the socket is ready for a code request.
				if codeShown {
					continue
				}
				code, err := a.cli.PairPhone(ctx, phone, true, whatsmeow.PairClientChrome, PairDisplayName)
				if err != nil {
					return fmt.Errorf("WhatsApp refused a pairing code for this number: %w", redactErr(err))
				}
				fmt.Fprintf(out, "On your phone open WhatsApp > Settings > Linked devices > Link a device > Link with phone number instead, and enter: %s\n", code)
				codeShown = true
				continue
			}
			if err := RenderQR(out, item.Code, color); err != nil {
				return err
			}
			if png != "" {
				if err := WriteQRPNG(png, item.Code); err != nil {
					return err
				}
			}
			fmt.Fprintf(out, "Scan this QR code in WhatsApp on your phone (Settings > Linked devices > Link a device) within %s.\n", item.Timeout.Round(time.Second))
		case whatsmeow.QRChannelSuccess.Event:
			fmt.Fprintln(out, "The phone accepted the link; waiting for WhatsApp to connect...")
			return nil
		case whatsmeow.QRChannelTimeout.Event:
			if phone != "" {
				return errors.New("the pairing code was not entered in time: run `waclaw pair` again")
			}
			return errors.New("no QR code was scanned in time: run `waclaw pair` again")
		case whatsmeow.QRChannelEventError:
			return fmt.Errorf("WhatsApp rejected the pairing: %w", item.Error)
		case whatsmeow.QRChannelClientOutdated.Event:
			return errPairOutdated
		case whatsmeow.QRChannelScannedWithoutMultidevice.Event:
			return errors.New("the phone scanned the code without multi-device support: update WhatsApp on the phone and pair again")
		case whatsmeow.QRChannelErrUnexpectedEvent.Event:
			return errors.New("pairing was interrupted by an unexpected connection event: run `waclaw pair` again")
		default:
			return fmt.Errorf("pairing stopped with an unknown result %q: run `waclaw pair` again", item.Event)
		}
	}
}

// ParsePhone reads the number for a pairing code as every other number is
// read (config.NormalizePhone: with "+" or "00" and the country code) and
// returns its digits, the form WhatsApp's pair-code request takes. Bare
// digits are refused here too, though WhatsApp would take them: the same
// number typed to `pair` and to `access allow` must mean the same thing.
func ParsePhone(s string) (string, error) {
	n, err := config.NormalizePhone(s)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(n, "+"), nil
}

// IsTerminal reports whether w is a terminal, where a person can scan a
// QR code: pairing is only for when someone is there to do it.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
