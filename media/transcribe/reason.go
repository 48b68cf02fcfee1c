package transcribe

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"waclaw/config"
)

// maxReason caps a server's or a command's message in a reason.
const maxReason = 200

// reason says, in a few words a user can act on, why entry e failed.
func reason(e *config.Transcriber, err error, timeout time.Duration) string {
	var (
		se  *statusError
		ae  *answerError
		xe  *exitError
		dns *net.DNSError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out after " + seconds(timeout)
	case errors.As(err, &se):
		return statusReason(e, se)
	case errors.As(err, &xe):
		return xe.Error()
	case errors.As(err, &ae):
		if strings.Contains(ae.msg, "ffmpeg") || strings.Contains(ae.msg, "WAV") {
			return ae.msg + " (whisper.cpp's server takes Ogg/Opus only when started with --convert and ffmpeg installed)"
		}
		return ae.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("connection refused: is the server at %s running?", e.Provider.BaseURL)
	case errors.As(err, &dns):
		return fmt.Sprintf("cannot find host %s: check the provider's baseUrl", dns.Name)
	case e.Provider == nil && (errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist)):
		return "command not found: " + e.Command
	case e.Provider == nil && errors.Is(err, fs.ErrPermission):
		return "cannot run " + e.Command + ": permission denied (is it executable?)"
	}
	return oneLine(err.Error(), maxReason)
}

// statusReason is the reason for an HTTP error status.
func statusReason(e *config.Transcriber, se *statusError) string {
	switch se.code {
	case 401, 403:
		// The message can quote the key: it is left to the log.
		return fmt.Sprintf("HTTP %d: check the provider's apiKey", se.code)
	case 404:
		if se.msg != "" {
			return "HTTP 404: " + se.msg
		}
		return fmt.Sprintf("HTTP 404: does the server at %s answer POST /audio/transcriptions?", e.Provider.BaseURL)
	case 413:
		return "HTTP 413: the voice note is too large for this server"
	}
	return se.Error()
}

// seconds writes d as "60s", or as Go does when it is not whole seconds.
func seconds(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}

// oneLine collapses s's whitespace to single spaces and caps it at n
// runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRightFunc(string(r[:n]), unicode.IsSpace) + "…"
}
