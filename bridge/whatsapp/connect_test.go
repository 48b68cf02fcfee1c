package whatsapp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/socket"
	"go.mau.fi/whatsmeow/types/events"
	waLog "go.mau.fi/whatsmeow/util/log"

	"waclaw/agent/agenttest"
	"waclaw/store"
)

// realDialErr is the error a real dial gets, wrapped as whatsmeow wraps it.
func realDialErr(t *testing.T, dial func() (net.Conn, error)) error {
	t.Helper()
	conn, err := dial()
	if err == nil {
		conn.Close()
		t.Fatal("the dial succeeded")
	}
	return fmt.Errorf("failed to dial whatsapp web websocket: %w", err)
}

// The words a person reads when WhatsApp cannot be reached, for the
// network errors a dial really gets; errors that are not the network's
// are not dressed up as such.
func TestUnreachableWords(t *testing.T) {
	tlsServer := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsServer.Close()
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	go func() {
		for {
			c, err := plain.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("HTTP/1.0 200 OK\r\n\r\nnot TLS at all, a captive portal perhaps\n"))
			c.Close()
		}
	}()
	tests := []struct {
		name string
		err  error
		why  string // "" for not the network's fault
	}{
		{"refused", realDialErr(t, func() (net.Conn, error) { return net.Dial("tcp", agenttest.RefusedAddr(t)) }), "the connection was refused"},
		{"no DNS name", realDialErr(t, func() (net.Conn, error) { return net.Dial("tcp", "web.whatsapp.invalid:443") }), "its name could not be looked up"},
		{"timeout", realDialErr(t, func() (net.Conn, error) {
			return (&net.Dialer{Timeout: time.Nanosecond}).Dial("tcp", "192.0.2.1:443")
		}), "no answer in time"},
		{"untrusted certificate", realDialErr(t, func() (net.Conn, error) {
			return tls.Dial("tcp", tlsServer.Listener.Addr().String(), &tls.Config{ServerName: "web.whatsapp.com"})
		}), "the secure connection failed"},
		{"not TLS", realDialErr(t, func() (net.Conn, error) {
			return tls.Dial("tcp", plain.Addr().String(), &tls.Config{ServerName: "web.whatsapp.com"})
		}), "the secure connection failed"},
		{"cut", fmt.Errorf("failed to get reader: %w", io.EOF), "the connection was cut"},
		{"busy", frameSocketErr(t, http.StatusServiceUnavailable), "its web server answered HTTP 503"},
		{"refused by WhatsApp", frameSocketErr(t, http.StatusForbidden), ""},
		{"handshake", errors.New("noise handshake failed: timed out waiting for handshake response"), ""},
		{"logged out", whatsmeow.ErrNotLoggedIn, ""},
		{"cancelled", fmt.Errorf("failed to dial whatsapp web websocket: %w", context.Canceled), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := unreachable(tt.err)
			if tt.why == "" {
				if u != nil {
					t.Fatalf("unreachable(%v) = %q; want nil", tt.err, u)
				}
				return
			}
			if u == nil {
				t.Fatalf("unreachable(%v) = nil; want %q", tt.err, tt.why)
			}
			want := "cannot reach WhatsApp (web.whatsapp.com: " + tt.why
			if got := u.Error(); !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "check this machine's internet connection") {
				t.Errorf("error = %q; want %q... and what to check", got, want)
			}
			if !errors.Is(u, ErrUnreachable) || !errors.Is(u, errors.Unwrap(tt.err)) {
				t.Errorf("error %v: errors.Is finds ErrUnreachable %v, the network error %v; want both", u, errors.Is(u, ErrUnreachable), errors.Is(u, errors.Unwrap(tt.err)))
			}
		})
	}
}

// frameSocketErr is the error whatsmeow's own socket gets from a web
// server that answers its websocket upgrade with status.
func frameSocketErr(t *testing.T, status int) error {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
	defer srv.Close()
	fs := socket.NewFrameSocket(waLog.Noop, srv.Client())
	fs.URL = "ws" + strings.TrimPrefix(srv.URL, "http")
	err := fs.Connect(t.Context())
	if err == nil {
		fs.Close(0)
		t.Fatal("the websocket upgrade succeeded")
	}
	return err
}

// linkedLive is an adapter over a real whatsmeow client with a linked
// device (never saved: nothing gets as far as using it).
func linkedLive(t *testing.T) (*Adapter, *whatsmeow.Client, *syncBuffer) {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "waclaw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	_, dev, err := OpenDevice(t.Context(), st.DB(), nil)
	if err != nil {
		t.Fatal(err)
	}
	jid := device(botPN, 7)
	dev.ID = &jid
	logs := &syncBuffer{}
	cli := whatsmeow.NewClient(dev, nil)
	a := New(cli, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	t.Cleanup(a.Close)
	return a, cli, logs
}

// proxyAnswering is an HTTP proxy that answers every CONNECT with status.
func proxyAnswering(t *testing.T, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
	t.Cleanup(srv.Close)
	return srv.URL
}

// whatsmeow's own connection attempt, through a proxy that is not there,
// has no name, or says no: the error says so in plain words.
func TestConnectThroughProxyFails(t *testing.T) {
	refused := agenttest.RefusedAddr(t)
	tests := []struct {
		name, proxy, want string
	}{
		{"refused", "http://" + refused, "cannot reach WhatsApp through the proxy " + refused + " (the connection was refused)"},
		{"no such name", "http://proxy.invalid:3128", "cannot reach WhatsApp through the proxy proxy.invalid (its name could not be looked up)"},
		{"forbidden", proxyAnswering(t, http.StatusForbidden), `(it answered "Forbidden")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// As `waclaw run` has it: whatsmeow's transport reads the
			// environment once per process, so the client is told too.
			t.Setenv("HTTPS_PROXY", tt.proxy)
			a, cli, _ := linkedLive(t)
			if err := cli.SetProxyAddress(tt.proxy); err != nil {
				t.Fatal(err)
			}
			err := a.Connect(t.Context())
			if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Connect() = %v; want %q", err, tt.want)
			}
			if !strings.HasSuffix(err.Error(), "check the proxy setting (HTTPS_PROXY) and this machine's internet connection") {
				t.Errorf("Connect() = %q; want advice on what to check", err)
			}
		})
	}
}

// A connection attempt that gets no answer (a proxy that takes the
// connection and says nothing, as a black-holed network does) ends when
// the caller's context does. (net/http lets the dial itself run on in
// the background for reuse, up to its own timeout; whatsmeow's attempt
// is over.)
func TestConnectCancelledWhileDialing(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			accepted <- c
		}
	}()
	a, cli, _ := linkedLive(t)
	if err := cli.SetProxyAddress("http://" + l.Addr().String()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	result := make(chan error, 1)
	go func() { result <- a.Connect(ctx) }()
	var conn net.Conn
	select {
	case conn = <-accepted:
	case err := <-result:
		t.Fatalf("Connect() = %v before the proxy took the connection", err)
	}
	defer conn.Close()
	// The CONNECT request arrives, and is never answered.
	if line, err := bufio.NewReader(conn).ReadString('\n'); err != nil || !strings.HasPrefix(line, "CONNECT web.whatsapp.com:443") {
		t.Fatalf("proxy read %q, %v; want whatsmeow's CONNECT", line, err)
	}
	cancel() // Ctrl-C
	// Unanswered, the proxy's CONNECT would time out after a minute with
	// another error: this one is the Ctrl-C's.
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Errorf("Connect() after Ctrl-C = %v; want it cancelled", err)
	}
	if cli.IsConnected() {
		t.Error("connected after Ctrl-C")
	}
}

// The same, with the fake: the attempt's own context is cancelled, not
// merely left behind, and the adapter closes without waiting for it.
func TestConnectCancelled(t *testing.T) {
	f := newFake()
	started := make(chan struct{})
	f.dialHook = func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return fmt.Errorf("failed to dial whatsapp web websocket: %w", ctx.Err())
	}
	a, _, _ := testAdapter(t, f, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-started
		cancel()
	}()
	if err := a.Connect(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Connect() = %v; want cancelled", err)
	}
	f.mu.Lock()
	attempt := f.connCtxs[0]
	f.mu.Unlock()
	<-attempt.Done() // the dial was told to stop; a leak would hang here
	a.Close()
}

// An attempt that connects after all, once abandoned, is closed.
func TestDialAbandonedConnectionIsClosed(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	closedConn := make(chan struct{})
	_, err := dial(ctx, context.Background(), func(cctx context.Context) error {
		<-cctx.Done()
		return nil // connected just as it was abandoned
	}, func() { close(closedConn) })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("dial() = %v; want cancelled", err)
	}
	<-closedConn
}

// When the first attempt cannot reach WhatsApp, `run` goes on and the
// adapter keeps trying, waiting longer each time up to a minute, and
// never gives up (unlike WhatsApp refusing the connection): a machine
// offline for the night is back in the morning.
func TestKeepConnecting(t *testing.T) {
	f := newFake()
	offline := realDialErr(t, func() (net.Conn, error) { return net.Dial("tcp", agenttest.RefusedAddr(t)) })
	f.connectErr = offline
	const back = 3 * maxConnectFailures // attempts before the network is back
	f.onConnect = func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.connects == back {
			f.connectErr = nil
		}
	}
	a, sl, logs := testAdapter(t, f, Options{})
	err := a.Connect(t.Context())
	var u *UnreachableError
	if !errors.As(err, &u) {
		t.Fatalf("Connect() = %v; want an *UnreachableError", err)
	}
	a.KeepConnecting(u)
	a.bg.Wait()
	if f.connects != back || closed(a.Done()) {
		t.Fatalf("%d attempts, stopped %v; want %d and never to give up", f.connects, closed(a.Done()), back)
	}
	waits := sl.all()
	if want := []time.Duration{5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute}; !slices.Equal(waits[:4], want) ||
		slices.Max(waits) != time.Minute {
		t.Errorf("waits %v; want %v, then a minute each", waits, want)
	}
	if s := a.State(); s.Connected || !strings.Contains(s.LastError, "cannot reach WhatsApp") {
		t.Errorf("State() = %+v; want the reason in LastError", s)
	}
	if !strings.Contains(logs.String(), "cannot reach WhatsApp (web.whatsapp.com: the connection was refused)") {
		t.Errorf("log lacks the reason:\n%s", logs)
	}
	f.deliver(&events.Connected{})
	if s := a.State(); !s.Connected || s.LastError != "" {
		t.Errorf("State() once connected = %+v", s)
	}
}

// Pairing says it is connecting before the wait, stops at Ctrl-C, and says
// in plain words when WhatsApp cannot be reached.
func TestPairConnecting(t *testing.T) {
	f := unpaired(code("2@a"))
	started := make(chan struct{})
	f.dialHook = func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}
	a, _, _ := testAdapter(t, f, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-started
		cancel()
	}()
	var out bytes.Buffer
	if _, err := a.Pair(ctx, &out, PairOptions{}); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "pairing cancelled") {
		t.Errorf("Pair() after Ctrl-C = %v; want it cancelled", err)
	}
	if out.String() != "Connecting to WhatsApp...\n" {
		t.Errorf("Pair() wrote %q; want the connecting line and nothing else", out.String())
	}

	f2 := unpaired(code("2@a"))
	f2.connectErr = realDialErr(t, func() (net.Conn, error) { return net.Dial("tcp", "web.whatsapp.invalid:443") })
	a2, _, _ := testAdapter(t, f2, Options{})
	_, err := a2.Pair(t.Context(), &bytes.Buffer{}, PairOptions{})
	want := "cannot reach WhatsApp (web.whatsapp.com: its name could not be looked up): check this machine's internet connection; then run `waclaw pair` again"
	if err == nil || err.Error() != want {
		t.Errorf("Pair() = %v; want %q", err, want)
	}
}
