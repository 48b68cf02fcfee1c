package whatsapp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"time"

	"go.mau.fi/whatsmeow/socket"
)

// Connecting is a network wait like any other: Ctrl-C must end it. A
// whatsmeow connection lives in the context it was made in (its socket,
// keep-alives and reconnects end with it), so an attempt cannot run in
// the caller's context, which ends at Ctrl-C while the bot is still
// draining its replies. It runs in a context of the adapter's, and the
// caller's ending abandons it: the attempt's context is cancelled, which
// stops a dial in progress, and a connection it made after all is closed.

// ErrUnreachable is WhatsApp's servers not answering at the network level
// (no network, DNS, a proxy, TLS, a timeout); errors.Is finds it in an
// *UnreachableError.
var ErrUnreachable = errors.New("cannot reach WhatsApp")

// waHost is the host whatsmeow connects to.
var waHost = func() string {
	if u, err := url.Parse(socket.URL); err == nil && u.Host != "" {
		return u.Host
	}
	return "web.whatsapp.com"
}()

// UnreachableError says in plain words why WhatsApp could not be reached,
// and what to check. The caller adds what happens next.
type UnreachableError struct {
	Host  string // web.whatsapp.com, or the proxy's address ("" when unknown)
	Proxy bool   // the proxy in HTTPS_PROXY (or ALL_PROXY) is what could not be reached
	Why   string // e.g. "its name could not be looked up"
	Err   error  // the network error
}

func (e *UnreachableError) Error() string {
	if e.Proxy {
		proxy := "the proxy"
		if e.Host != "" {
			proxy += " " + e.Host
		}
		return fmt.Sprintf("cannot reach WhatsApp through %s (%s): check the proxy setting (HTTPS_PROXY) and this machine's internet connection", proxy, e.Why)
	}
	return fmt.Sprintf("cannot reach WhatsApp (%s: %s): check this machine's internet connection", e.Host, e.Why)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnreachable) true.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// unreachable classifies a connection error: an *UnreachableError when
// the network, not WhatsApp, is in the way, else nil.
func unreachable(err error) *UnreachableError {
	if err == nil || errors.Is(err, context.Canceled) {
		return nil
	}
	e := &UnreachableError{Host: waHost, Err: err}
	var op *net.OpError
	var request *url.Error
	if errors.As(err, &op) && op.Op == "proxyconnect" {
		e.Proxy, e.Host = true, envProxy()
		var dial *net.OpError
		if errors.As(op.Err, &dial) && dial.Addr != nil {
			e.Host = dial.Addr.String()
		}
	}
	var dns *net.DNSError
	var status socket.ErrWithStatusCode
	var netErr net.Error
	var alert tls.AlertError
	var header tls.RecordHeaderError
	var verify *tls.CertificateVerificationError
	var authority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		e.Why = "its name could not be looked up"
		if e.Proxy {
			e.Host = dns.Name
		}
	case errors.As(err, &dns):
		e.Why = "the name lookup (DNS) failed"
		if e.Proxy {
			e.Host = dns.Name
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Why = "the connection was refused"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETDOWN), errors.Is(err, syscall.EHOSTDOWN):
		e.Why = "no route to it: this machine looks offline"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		e.Why = "no answer in time"
	case errors.As(err, &verify), errors.As(err, &authority), errors.As(err, &hostname), errors.As(err, &invalid),
		errors.As(err, &alert), errors.As(err, &header):
		e.Why = "the secure connection failed: a firewall or proxy may be intercepting it, or this machine's clock is wrong"
	case errors.As(err, &status) && (status.StatusCode == 408 || status.StatusCode >= 500):
		// As whatsmeow has it: busy or down for a while, not refusing.
		e.Why = fmt.Sprintf("its web server answered HTTP %d", status.StatusCode)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		e.Why = "the connection was cut"
	case errors.As(err, &op):
		e.Why = "the connection failed"
	case errors.As(err, &request) && envProxy() != "":
		// The proxy answered its CONNECT, but not with a tunnel.
		e.Proxy, e.Host = true, envProxy()
		e.Why = fmt.Sprintf("it answered %q", request.Err.Error())
	default:
		return nil
	}
	return e
}

// envProxy is the proxy the environment names for WhatsApp's address
// (HTTPS_PROXY, as net/http reads it, which whatsmeow's transport does),
// as host:port; "" for none.
func envProxy() string {
	for _, k := range []string{"HTTPS_PROXY", "https_proxy"} {
		v := os.Getenv(k)
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err == nil && u.Host != "" {
			return u.Host
		}
		return v // "host:port" without a scheme
	}
	return ""
}

// dial makes one connection attempt with connect (whatsmeow's
// ConnectContext) in a context derived from base, which the connection
// lives in. It returns when the attempt ends, or as soon as ctx is done:
// then the attempt is abandoned (its context cancelled, which stops a dial
// in progress) and whatever it connected after all is closed by
// disconnect. On success it returns the cancel function of the
// connection's context.
func dial(ctx, base context.Context, connect func(context.Context) error, disconnect func()) (context.CancelFunc, error) {
	cctx, cancel := context.WithCancel(base)
	done := make(chan error, 1)
	go func() { done <- connect(cctx) }()
	select {
	case err := <-done:
		if err != nil {
			cancel()
			return nil, err
		}
		return cancel, nil
	case <-ctx.Done():
		cancel()
		go func() {
			if err := <-done; err == nil {
				disconnect()
			}
		}()
		return nil, ctx.Err()
	}
}

// connect makes one connection attempt for the adapter, abandoned when
// ctx ends; the connection lives until Close. A newer connection
// replaces the one before it (which is gone: whatsmeow connects only when
// it has none), so the older one's reconnect loop stops.
func (a *Adapter) connect(ctx context.Context) error {
	cancel, err := dial(ctx, a.ctx, a.cli.ConnectContext, a.cli.Disconnect)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		if u := unreachable(err); u != nil {
			return u
		}
		return redactErr(err)
	}
	a.mu.Lock()
	prev := a.connCancel
	a.connCancel = cancel
	a.mu.Unlock()
	if prev != nil {
		prev()
	}
	return nil
}

// KeepConnecting tries to connect in the background until it succeeds or
// the adapter is closed, waiting longer after each failure to reach
// WhatsApp (up to a minute); `run` calls it, having told the person why
// its first attempt failed. Once connected, whatsmeow reconnects by
// itself.
func (a *Adapter) KeepConnecting(err *UnreachableError) {
	a.unreachableRetry(err, false)
}

// unreachableRetry records that WhatsApp could not be reached and tries
// again later, saying why in the log unless the caller did. Unlike
// connectFailed it never gives up: a machine offline for a night is back
// in the morning.
func (a *Adapter) unreachableRetry(err *UnreachableError, logIt bool) {
	a.mu.Lock()
	a.offline++
	n := a.offline
	a.mu.Unlock()
	a.update(func(s *State) { s.Connected, s.LastError = false, err.Error() })
	d := offlineBackoff(n)
	if logIt {
		a.log.Warn("whatsapp: "+err.Error()+"; trying again", "in", d, "attempt", n)
	} else {
		a.log.Info("whatsapp: trying to connect again", "in", d)
	}
	a.reconnectAfter(d)
}

// offlineBackoff is the wait before reconnect attempt n (from 1) while
// WhatsApp cannot be reached.
func offlineBackoff(n int) time.Duration {
	steps := []time.Duration{5 * time.Second, 10 * time.Second, 30 * time.Second}
	if n-1 < len(steps) {
		return steps[max(n-1, 0)]
	}
	return time.Minute
}

// closeWait bounds how long Close waits for whatsmeow to let go of a
// connection attempt it abandoned (its handshake waits up to 20 s on its
// own clock); the process may end meanwhile.
const closeWait = time.Second
