package transcribe_test

import (
	"bytes"
	"testing"
	"time"

	"waclaw/agent/agenttest"
	"waclaw/media/transcribe"
)

func TestDuration(t *testing.T) {
	// The lengths opusinfo printed when the files were made
	// (agent/agenttest/testdata/MEDIA.md): "Playback length: 0m:01.858s"
	// and "1m:00.289s", rounded to the millisecond.
	for _, tt := range []struct {
		name string
		data []byte
		want time.Duration
	}{
		{"voice.ogg", agenttest.VoiceNote(), 1858 * time.Millisecond},
		{"voice-1min.ogg", agenttest.VoiceNoteMinute(), 60289 * time.Millisecond},
	} {
		got, err := transcribe.Duration(tt.data)
		if err != nil {
			t.Fatalf("Duration(%s) error = %v", tt.name, err)
		}
		if d := got - tt.want; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("Duration(%s) = %v; want %v ± 1ms (opusinfo)", tt.name, got, tt.want)
		}
	}
}

func TestDurationRejects(t *testing.T) {
	voice := agenttest.VoiceNote()
	vorbis := bytes.Clone(voice)
	copy(vorbis[bytes.Index(vorbis, []byte("OpusHead")):], "\x01vorbis\x00")
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"a WAV file", []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00")},
		{"a page header cut short", voice[:20]},
		{"the first page cut short", voice[:40]},
		{"the last page cut short", voice[:len(voice)-10]},
		{"a later page cut in its header", voice[:len(voice)/2]},
		{"trailing garbage", append(bytes.Clone(voice), "garbage"...)},
		{"Ogg Vorbis", vorbis},
		{"only the header pages", voice[:headersEnd(t, voice)]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if d, err := transcribe.Duration(tt.data); err == nil {
				t.Errorf("Duration(%s) = %v, nil; want an error", tt.name, d)
			}
		})
	}
}

// headersEnd is where the first audio page of an Opus stream starts: after
// the OpusHead and OpusTags pages.
func headersEnd(t *testing.T, data []byte) int {
	t.Helper()
	second := bytes.Index(data[4:], []byte("OggS")) + 4
	third := bytes.Index(data[second+4:], []byte("OggS")) + second + 4
	if second < 4 || third < second+4 {
		t.Fatal("voice note has fewer than three pages")
	}
	return third
}

func TestIsOggOpus(t *testing.T) {
	voice := agenttest.VoiceNote()
	for _, tt := range []struct {
		name string
		data []byte
		want bool
	}{
		{"voice note", voice, true},
		{"its first page alone", voice[:headersEnd(t, voice)], true},
		{"empty", nil, false},
		{"OggS and nothing else", []byte("OggS"), false},
		{"an MP3", []byte("ID3\x04\x00\x00\x00\x00\x00\x00"), false},
		{"a page cut in its body", voice[:30], false},
	} {
		if got := transcribe.IsOggOpus(tt.data); got != tt.want {
			t.Errorf("IsOggOpus(%s) = %v; want %v", tt.name, got, tt.want)
		}
	}
}

func FuzzDuration(f *testing.F) {
	voice := agenttest.VoiceNote()
	f.Add(voice)
	f.Add(voice[:200])
	f.Add([]byte("OggS"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := transcribe.Duration(data)
		if err == nil && d < 0 {
			t.Errorf("Duration = %v, nil; a length is never negative", d)
		}
		if err == nil && !transcribe.IsOggOpus(data) {
			t.Errorf("Duration = %v, nil for data IsOggOpus rejects", d)
		}
	})
}
