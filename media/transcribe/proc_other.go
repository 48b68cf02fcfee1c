//go:build !unix

package transcribe

import "os/exec"

// killGroup leaves cmd as it is: cancellation kills the process alone.
func killGroup(*exec.Cmd) {}
