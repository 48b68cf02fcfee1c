package transcribe

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"waclaw/config"
)

// mediaPath in a command's argument stands for the audio file's path.
const mediaPath = "{{MediaPath}}"

const (
	// maxOutput bounds what is kept of a command's stdout: far more than the
	// transcript of the longest voice note allowed.
	maxOutput = 1 << 20
	// maxStderr is how much of the end of stderr is kept, for the last line.
	maxStderr = 4 << 10
	// waitDelay is how long a killed command's output may stay open (a
	// child it started holding the pipe) before it is closed on it.
	waitDelay = 2 * time.Second
)

// exitError is a command that ran and failed.
type exitError struct {
	name string // the command's base name
	err  error
	last string // the last line of its stderr, capped; may be ""
}

func (e *exitError) Error() string {
	if e.last == "" {
		return e.name + ": " + e.err.Error()
	}
	return e.name + ": " + e.err.Error() + ": " + e.last
}

func (e *exitError) Unwrap() error { return e.err }

// command runs a local command on c, written to a private temporary file
// that is removed whatever happens, and returns what it printed.
func (t *Transcriber) command(ctx context.Context, e *config.Transcriber, c Clip) (string, error) {
	f, err := os.CreateTemp("", "waclaw-voice-*"+extension(c))
	if err != nil {
		return "", fmt.Errorf("failed to create a temporary file for the audio: %w", err)
	}
	path := f.Name()
	defer os.Remove(path)
	_, err = f.Write(c.Data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("failed to write the audio to %s: %w", path, err)
	}

	cmd := exec.CommandContext(ctx, e.Command, commandArgs(e.Args, path)...)
	killGroup(cmd)
	cmd.WaitDelay = waitDelay
	var stdout, stderr limitedBuffer
	stdout.max, stderr.max, stderr.tail = maxOutput, maxStderr, true
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); ok {
			return "", &exitError{name: filepath.Base(e.Command), err: err, last: lastLine(stderr.String())}
		}
		return "", fmt.Errorf("failed to run %s: %w", e.Command, err)
	}
	return commandText(stdout.String()), nil
}

// commandArgs puts path where an argument names {{MediaPath}}, or after
// the last argument when none does.
func commandArgs(args []string, path string) []string {
	out := make([]string, 0, len(args)+1)
	named := false
	for _, a := range args {
		if strings.Contains(a, mediaPath) {
			named = true
			a = strings.ReplaceAll(a, mediaPath, path)
		}
		out = append(out, a)
	}
	if !named {
		out = append(out, path)
	}
	return out
}

// timestamp is the segment prefix whisper-cli prints unless told -nt:
// "[00:00:00.000 --> 00:00:02.000]".
var timestamp = regexp.MustCompile(`^\[\d+:\d{2}:\d{2}[.,]\d{3} --> \d+:\d{2}:\d{2}[.,]\d{3}\]`)

// commandText is a command's transcript: its lines without timestamps,
// joined with spaces.
func commandText(out string) string {
	var parts []string
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		line = strings.TrimSpace(timestamp.ReplaceAllString(line, ""))
		if line != "" {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, " ")
}

// lastLine is the last non-empty line of s, one line, capped.
func lastLine(s string) string {
	s = strings.TrimRight(s, " \t\r\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return oneLine(s, maxReason)
}

// limitedBuffer keeps the first max bytes written to it (the last, with
// tail) and drops the rest without failing the writer, so a chatty
// command neither fills memory nor dies of a broken pipe.
type limitedBuffer struct {
	buf  bytes.Buffer
	max  int
	tail bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if b.tail {
		b.buf.Write(p)
		if over := b.buf.Len() - b.max; over > 0 {
			b.buf.Next(over)
		}
		return n, nil
	}
	if room := b.max - b.buf.Len(); room < len(p) {
		p = p[:max(room, 0)]
	}
	b.buf.Write(p)
	return n, nil
}

func (b *limitedBuffer) String() string { return b.buf.String() }
