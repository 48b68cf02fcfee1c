package bridge

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"testing"

	"waclaw/agent/agenttest"
)

// The bridge's own cost of a voice note and of a photo: download (from
// memory here), checks, transcription request or scaling, the model
// request and the stored turn. The fake servers answer at once, so the
// model's time is left out.

func BenchmarkVoiceNoteMinute(b *testing.B) {
	h, stt := sttHarness(b, unlimited, "")
	stt.SetDefault(agenttest.TranscriptReply{Text: "Remind me to buy milk on the way home."})
	note := agenttest.VoiceNoteMinute()
	b.ReportAllocs()
	b.SetBytes(int64(len(note)))
	b.ResetTimer()
	for i := range b.N {
		h.send(b, voice(h.dm(fmt.Sprintf("+1555%07d", i), ""), note, nil))
	}
	b.StopTimer()
	if got := h.last(fmt.Sprintf("+1555%07d", b.N-1)); got != "echo: [voice note] Remind me to buy milk on the way home." {
		b.Fatalf("last reply = %q", got)
	}
}

func BenchmarkPhoto12MP(b *testing.B) {
	h := newHarness(b, unlimited)
	m, _ := h.cfg.Model("local/m")
	m.Input = []string{"text", "image"}
	photo := twelveMegapixels(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(photo)))
	b.ResetTimer()
	for i := range b.N {
		h.send(b, photoFrom(h.dm(fmt.Sprintf("+1555%07d", i), ""), photo, "what is this?"))
	}
	b.StopTimer()
	calls := h.srv.Calls()
	if imgs := calls[len(calls)-1].Images(); len(imgs) != 1 {
		b.Fatalf("the model got %d pictures", len(imgs))
	}
}

// twelveMegapixels is a 4000x3000 JPEG as a phone takes it: smooth
// gradients with sensor noise, about 3 MB.
func twelveMegapixels(tb testing.TB) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4000, 3000))
	r := rand.New(rand.NewPCG(1, 2))
	for y := range 3000 {
		for x := range 4000 {
			n := uint8(r.IntN(24))
			img.SetRGBA(x, y, color.RGBA{uint8(x*200/4000) + n, uint8(y*200/3000) + n, uint8((x+y)*100/7000) + n, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
