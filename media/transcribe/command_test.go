package transcribe_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"waclaw/config"
	"waclaw/media/transcribe"
)

// fakeWhisper writes a shell script standing in for whisper-cli into a
// temporary directory and returns its path. In the script, $f is the
// argument after -f, or else the last argument, and check fails unless it
// is an Ogg file.
func fakeWhisper(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "whisper-cli")
	script := `#!/bin/sh
f=""; prev=""
for a in "$@"; do
	if [ "$prev" = "-f" ]; then f="$a"; fi
	prev="$a"
done
[ -n "$f" ] || f="$prev"
check() {
	[ -f "$f" ] || { echo "error: input file not found '$f'" >&2; exit 2; }
	[ "$(head -c 4 "$f")" = "OggS" ] || { echo "error: failed to read audio from '$f'" >&2; exit 3; }
}
` + body + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// privateTemp points os.TempDir at a fresh directory, to see what the
// command leaves there.
func privateTemp(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	return dir
}

// assertEmpty fails unless dir holds nothing.
func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("left behind in the temporary directory: %s", e.Name())
	}
}

func cliEntry(command string, args ...string) *config.Transcriber {
	return &config.Transcriber{Command: command, Args: args, Timeout: 10 * time.Second}
}

func TestCommand(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		body string
		want string
	}{
		{"{{MediaPath}} in an argument, timestamps trimmed",
			[]string{"-m", "ggml-base.en.bin", "-f", "{{MediaPath}}", "-l", "en"},
			`[ "$1 $2 $3" = "-m ggml-base.en.bin -f" ] && [ "$5 $6" = "-l en" ] && [ $# -eq 6 ] || { echo "bad args: $*" >&2; exit 1; }
check
echo "whisper_init_from_file_with_params_no_state: loading model" >&2
printf '\n[00:00:00.000 --> 00:00:01.200]   What is the capital\n[00:00:01.200 --> 00:00:01.860]   of France?\n\n'`,
			"What is the capital of France?"},
		{"path appended when no argument names it",
			[]string{"-nt"},
			`[ "$1" = "-nt" ] && [ $# -eq 2 ] || { echo "bad args: $*" >&2; exit 1; }
check
echo " What is the capital of France?"`,
			"What is the capital of France?"},
		{"{{MediaPath}} inside an argument",
			[]string{"--file={{MediaPath}}"},
			`[ $# -eq 1 ] || exit 1
f="${1#--file=}"; check; echo Paris`,
			"Paris"},
		{"a private file", nil, `check; stat -c %a "$f"`, "600"},
		{"with a .ogg name", nil, `check; case "$f" in *.ogg) echo ogg;; *) echo "$f";; esac`, "ogg"},
		{"blank audio", nil, `check; echo "[00:00:00.000 --> 00:00:02.000]   [BLANK_AUDIO]"`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tmp := privateTemp(t)
			e := cliEntry(fakeWhisper(t, tt.body), tt.args...)
			res, err := newTranscriber(e).Transcribe(t.Context(), voiceClip(), true)
			if err != nil {
				t.Fatalf("Transcribe error = %v", err)
			}
			if res.Text != tt.want || res.By != e {
				t.Errorf("Transcribe = %q; want %q", res.Text, tt.want)
			}
			assertEmpty(t, tmp)
		})
	}
}

func TestCommandFailures(t *testing.T) {
	for _, tt := range []struct {
		name    string
		command func(t *testing.T) string
		want    string
	}{
		{"exit status with the last stderr line",
			func(t *testing.T) string {
				return fakeWhisper(t, `echo "whisper_init: loading" >&2
echo "error: failed to open 'models/ggml-base.en.bin'" >&2; echo >&2; exit 1`)
			},
			"whisper-cli: exit status 1: error: failed to open 'models/ggml-base.en.bin'"},
		{"long stderr line capped",
			func(t *testing.T) string {
				return fakeWhisper(t, `printf 'e%.0s' $(seq 1 300) >&2; exit 4`)
			},
			"whisper-cli: exit status 4: " + strings.Repeat("e", 200) + "…"},
		{"not in PATH",
			func(*testing.T) string { return "waclaw-no-such-whisper-cli" },
			"command not found: waclaw-no-such-whisper-cli"},
		{"no such file",
			func(t *testing.T) string { return filepath.Join(t.TempDir(), "whisper-cli") },
			"command not found: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tmp := privateTemp(t)
			e := cliEntry(tt.command(t))
			res, err := newTranscriber(e).Transcribe(t.Context(), voiceClip(), true)
			ce := chainError(t, err)
			if res != nil || len(ce.Failures) != 1 || !strings.HasPrefix(ce.Failures[0].Reason, tt.want) {
				t.Fatalf("Transcribe = %+v, %v; want one failure %q", res, err, tt.want)
			}
			assertEmpty(t, tmp)
		})
	}
}

func TestCommandTimeoutKillsItsChildren(t *testing.T) {
	tmp := privateTemp(t)
	// The shell waits on a sleep that holds stdout open: killing the shell
	// alone would leave Wait blocked until WaitDelay.
	e := cliEntry(fakeWhisper(t, `check; sleep 30; echo late`))
	e.Timeout = 300 * time.Millisecond
	start := time.Now()
	res, err := newTranscriber(e).Transcribe(t.Context(), voiceClip(), true)
	elapsed := time.Since(start)
	ce := chainError(t, err)
	if res != nil || ce.Failures[0].Reason != "timed out after 300ms" || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Transcribe = %+v, %v; want \"timed out after 300ms\"", res, err)
	}
	if elapsed > 1500*time.Millisecond {
		t.Errorf("Transcribe took %v with a 300ms timeout; the command's children outlived it", elapsed)
	}
	assertEmpty(t, tmp)
}

func TestCommandCancel(t *testing.T) {
	tmp := privateTemp(t)
	started := filepath.Join(t.TempDir(), "started")
	e := cliEntry(fakeWhisper(t, `check; touch `+started+`; sleep 30`))
	next := cliEntry(fakeWhisper(t, `echo second`))
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for {
			if _, err := os.Stat(started); err == nil {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	start := time.Now()
	res, err := newTranscriber(e, next).Transcribe(ctx, voiceClip(), true)
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Fatalf("Transcribe = %+v, %v; want context.Canceled, and no next entry", res, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Transcribe took %v to notice the cancel", d)
	}
	assertEmpty(t, tmp)
}

func TestCommandOutputCapped(t *testing.T) {
	privateTemp(t)
	// 3 MiB of "a", far past the 1 MiB kept: the transcript is cut, and
	// the command is not killed by a full pipe.
	e := cliEntry(fakeWhisper(t, `check; head -c 3145728 /dev/zero | tr '\0' a; echo`))
	res, err := newTranscriber(e).Transcribe(t.Context(), transcribe.Clip{Data: voiceClip().Data}, true)
	if err != nil {
		t.Fatalf("Transcribe error = %v", err)
	}
	if len(res.Text) != 1<<20 {
		t.Errorf("transcript is %d bytes; want the first 1 MiB", len(res.Text))
	}
}
