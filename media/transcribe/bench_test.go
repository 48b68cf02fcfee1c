package transcribe_test

import (
	"testing"

	"waclaw/agent/agenttest"
	"waclaw/config"
	"waclaw/media/transcribe"
)

// BenchmarkTranscribeMinute is the bridge's own cost of a minute-long voice
// note (~100 KB) through an OpenAI-style server that answers at once: the
// multipart upload, the fake server's parse and the answer. A real model
// takes seconds; this is what is left when it takes none.
func BenchmarkTranscribeMinute(b *testing.B) {
	s := agenttest.NewTranscriber(b, agenttest.WhisperCpp)
	tr := transcribe.New(config.Audio{Transcribers: []*config.Transcriber{whisperEntry(s)}}, nil, nil)
	c := transcribe.Clip{Data: agenttest.VoiceNoteMinute(), MIME: "audio/ogg; codecs=opus"}
	b.SetBytes(int64(len(c.Data)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := tr.Transcribe(b.Context(), c, true)
		if err != nil || res.Text == "" {
			b.Fatalf("Transcribe = %+v, %v", res, err)
		}
	}
}
