package agenttest

import (
	"bytes"
	_ "embed"
)

// The voice notes of testdata/MEDIA.md.
var (
	//go:embed testdata/voice.ogg
	voiceNote []byte
	//go:embed testdata/voice-1min.ogg
	voiceNoteMinute []byte
)

// VoiceNote returns a copy of a short WhatsApp-like voice note (Ogg/Opus,
// mono, 1.858 s): a synthesised voice asking "What is the capital of
// France?".
func VoiceNote() []byte { return bytes.Clone(voiceNote) }

// VoiceNoteMinute returns a copy of a voice note of about a minute
// (Ogg/Opus, mono, 60.289 s, ~100 KB).
func VoiceNoteMinute() []byte { return bytes.Clone(voiceNoteMinute) }
