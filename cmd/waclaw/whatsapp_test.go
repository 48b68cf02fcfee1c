package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
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
