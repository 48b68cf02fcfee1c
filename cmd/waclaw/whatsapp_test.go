package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/types"

	"waclaw/agent/agenttest"
	"waclaw/bridge/whatsapp"
	"waclaw/store"
)

// These never reach WhatsApp: they stop before connecting.
func TestLogoutAndPairWithoutNetwork(t *testing.T) {
	data := t.TempDir()
	var out, errOut strings.Builder
	if err := runWithInput(t, "", &out, &errOut, "--data-dir", data, "logout"); err != nil {
		t.Fatalf("logout with nothing linked: %v", err)
	}
	if !strings.Contains(out.String(), "No WhatsApp account is linked") {
		t.Errorf("logout said %q", out.String())
	}
	err := runWithInput(t, "", &out, &errOut, "--data-dir", data, "pair", "--phone", "12")
	if err == nil || !strings.Contains(err.Error(), "12") {
		t.Errorf("pair with a bad number: %v; want it refused before connecting", err)
	}
	// The WhatsApp session tables live in waclaw's own database file.
	out.Reset()
	if err := runWithInput(t, "", &out, &errOut, "--data-dir", data, "access", "list"); err != nil {
		t.Fatalf("access list after whatsmeow's tables were added: %v", err)
	}
}

// `waclaw run` with nothing linked and no terminal (a service, a pipe)
// stops at once with what to do, and never prints a QR code that anyone
// reading the log could scan.
func TestRunWithoutTerminalDoesNotPair(t *testing.T) {
	cfg := seedConfig(t, "http://127.0.0.1:1/v1", "")
	var stderr strings.Builder
	cmd, out := child(t, strings.NewReader(""), "--config", cfg, "--data-dir", t.TempDir(), "run")
	cmd.Stderr = &stderr // a pipe, like stdout: no terminal
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("run kept going without a linked account:\n%s\n%s", out, &stderr)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitNeedsOperator {
		t.Fatalf("run exited with %v; want exit code %d, which the systemd unit does not restart", err, exitNeedsOperator)
	}
	want := "no WhatsApp account is linked: run `waclaw pair` in a terminal to link one (or `waclaw pair --qr-png FILE` on a machine without a screen)"
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, &stderr)
	}
	for _, qr := range []string{"█", "▀", "▄", "Scan this QR code"} {
		if strings.Contains(out.String()+stderr.String(), qr) {
			t.Errorf("a QR code was printed:\n%s\n%s", out, &stderr)
			break
		}
	}
}

// The service must not restart into a wall only a person can get past:
// the unit's RestartPreventExitStatus holds the code run exits with then.
func TestUnitDoesNotRestartWhenAPersonMustAct(t *testing.T) {
	unit, err := os.ReadFile("systemd/waclaw.service")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("RestartPreventExitStatus=%d", exitNeedsOperator)
	if !strings.Contains(string(unit), "\n"+want+"\n") {
		t.Errorf("systemd/waclaw.service lacks %q", want)
	}
}

// linkedDataDir is a data dir whose database holds a linked WhatsApp
// device, as pairing leaves it (its keys are no use to WhatsApp: these
// tests never get that far).
func linkedDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(t.Context(), filepath.Join(dir, "waclaw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, dev, err := whatsapp.OpenDevice(t.Context(), st.DB(), nil)
	if err != nil {
		t.Fatal(err)
	}
	jid := types.JID{User: "15550001111", Device: 7, Server: types.DefaultUserServer}
	dev.ID, dev.PushName = &jid, "Bot"
	dev.Account = &waAdv.ADVSignedDeviceIdentity{
		Details: []byte{1}, AccountSignature: make([]byte, 64), AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64),
	}
	if err := dev.Save(t.Context()); err != nil {
		t.Fatal(err)
	}
	return dir
}

// linked reports whether the data dir's database holds a linked device.
func linked(t *testing.T, dir string) bool {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(dir, "waclaw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, dev, err := whatsapp.OpenDevice(t.Context(), st.DB(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return dev.ID != nil
}

// viaProxy starts waclaw in a child whose way to WhatsApp is the HTTP
// proxy at proxy (net/http takes it from HTTPS_PROXY, as for anyone
// behind one), and returns it with its stdout lines as they come (closed
// when it exits) and its stderr.
func viaProxy(t *testing.T, proxy string, args ...string) (*exec.Cmd, <-chan string, *syncWriter) {
	t.Helper()
	cmd := mainCommand(t, args...)
	cmd.Env = append(cmd.Env, "HTTPS_PROXY="+proxy, "https_proxy="+proxy, "NO_PROXY=", "no_proxy=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncWriter{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd, lines, stderr
}

// childGuard bounds every wait on a child: far longer than any step
// takes, short of hanging the test run.
const childGuard = 60 * time.Second

// expectLine reads stdout lines until one contains want.
func expectLine(t *testing.T, lines <-chan string, stderr *syncWriter, want string) {
	t.Helper()
	guard := time.After(childGuard)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("waclaw exited without printing %q; stderr:\n%s", want, stderr)
			}
			if strings.Contains(line, want) {
				return
			}
		case <-guard:
			t.Fatalf("waclaw printed no %q; stderr:\n%s", want, stderr)
		}
	}
}

// exit waits for the child to end and returns the rest of its stdout and
// its exit code.
func exit(t *testing.T, cmd *exec.Cmd, lines <-chan string, stderr *syncWriter) (rest string, code int) {
	t.Helper()
	guard := time.After(childGuard)
	var out []string
	for open := true; open; {
		select {
		case line, ok := <-lines:
			if open = ok; ok {
				out = append(out, line)
			}
		case <-guard:
			t.Fatalf("waclaw kept running; stderr:\n%s", stderr)
		}
	}
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "\n"), code
}

// silentProxy is a proxy that takes connections and never answers, as a
// network that drops everything looks; accepted receives each connection.
func silentProxy(t *testing.T) (proxy string, accepted <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ch := make(chan struct{}, 100)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			ch <- struct{}{}
		}
	}()
	return "http://" + l.Addr().String(), ch
}

type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// Ctrl-C (or SIGTERM) while WhatsApp is not answering ends run, pair and
// logout at once: each says it is connecting before the wait, and logout
// changes nothing.
func TestCtrlCWhileConnecting(t *testing.T) {
	cfg := seedConfig(t, "http://127.0.0.1:1/v1", "")
	tests := []struct {
		name     string
		linked   bool
		args     []string
		signal   os.Signal
		wantCode int
		wantErr  string
	}{
		{name: "run", linked: true, args: []string{"run"}, signal: syscall.SIGTERM},
		{name: "pair", args: []string{"pair"}, signal: os.Interrupt, wantCode: 1, wantErr: "waclaw: pairing cancelled"},
		{name: "logout", linked: true, args: []string{"logout"}, signal: os.Interrupt, wantCode: 1,
			wantErr: "waclaw: logout cancelled: nothing was changed, the device is still linked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			if tt.linked {
				data = linkedDataDir(t)
			}
			proxy, accepted := silentProxy(t)
			cmd, lines, stderr := viaProxy(t, proxy, append([]string{"--config", cfg, "--data-dir", data}, tt.args...)...)
			expectLine(t, lines, stderr, "Connecting to WhatsApp...")
			select {
			case <-accepted: // whatsmeow is waiting for the proxy
			case <-time.After(childGuard):
				t.Fatalf("no connection attempt; stderr:\n%s", stderr)
			}
			if err := cmd.Process.Signal(tt.signal); err != nil {
				t.Fatal(err)
			}
			// Unanswered, the proxy's CONNECT would hold the child for a
			// minute: exiting under childGuard with the cancel's words is
			// the signal's doing.
			_, code := exit(t, cmd, lines, stderr)
			if code != tt.wantCode || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("exit code %d, stderr:\n%s\nwant %d and %q", code, stderr, tt.wantCode, tt.wantErr)
			}
			if tt.linked && !linked(t, data) {
				t.Error("the device was unlinked")
			}
		})
	}
}

// When WhatsApp cannot be reached, each command says so in plain words,
// with what to check and what happens next: run keeps trying (and stops
// cleanly when asked), pair says to try again, logout clears the session
// here and says to remove the device on the phone.
func TestCannotReachWhatsApp(t *testing.T) {
	cfg := seedConfig(t, "http://127.0.0.1:1/v1", "")
	refused := "http://" + agenttest.RefusedAddr(t)
	reason := "cannot reach WhatsApp through the proxy " + strings.TrimPrefix(refused, "http://") +
		" (the connection was refused): check the proxy setting (HTTPS_PROXY) and this machine's internet connection"

	t.Run("run", func(t *testing.T) {
		cmd, lines, stderr := viaProxy(t, refused, "--config", cfg, "--data-dir", linkedDataDir(t), "run")
		expectLine(t, lines, stderr, "Connecting to WhatsApp...")
		expectLine(t, lines, stderr, reason+"; waclaw keeps trying (at least once a minute) and answers once it is through. Ctrl-C stops it.")
		cmd.Process.Signal(syscall.SIGTERM)
		if _, code := exit(t, cmd, lines, stderr); code != 0 {
			t.Errorf("run exited %d after SIGTERM; want 0:\n%s", code, stderr)
		}
		if strings.Contains(stderr.String(), "dial tcp") {
			t.Errorf("the library's raw error reached the terminal:\n%s", stderr)
		}
	})
	t.Run("pair", func(t *testing.T) {
		cmd, lines, stderr := viaProxy(t, "http://proxy.invalid:3128", "--config", cfg, "--data-dir", t.TempDir(), "pair")
		_, code := exit(t, cmd, lines, stderr)
		want := "waclaw: cannot reach WhatsApp through the proxy proxy.invalid (its name could not be looked up): " +
			"check the proxy setting (HTTPS_PROXY) and this machine's internet connection; then run `waclaw pair` again\n"
		if code != 1 || stderr.String() != want {
			t.Errorf("pair exited %d with:\n%s\nwant 1 and:\n%s", code, stderr, want)
		}
	})
	t.Run("logout", func(t *testing.T) {
		data := linkedDataDir(t)
		cmd, lines, stderr := viaProxy(t, refused, "--config", cfg, "--data-dir", data, "logout")
		_, code := exit(t, cmd, lines, stderr)
		want := "waclaw: " + reason + "; the session here is cleared anyway: also remove this device on the phone (WhatsApp > Settings > Linked devices)\n"
		if code != 1 || stderr.String() != want {
			t.Errorf("logout exited %d with:\n%s\nwant 1 and:\n%s", code, stderr, want)
		}
		if linked(t, data) {
			t.Error("the session here was not cleared")
		}
	})
}
