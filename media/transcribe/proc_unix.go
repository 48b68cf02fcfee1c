//go:build unix

package transcribe

import (
	"os/exec"
	"syscall"
)

// killGroup starts cmd in its own process group and makes its
// cancellation kill the whole group, so that children a script started
// (a shell running whisper-cli) die with it.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
