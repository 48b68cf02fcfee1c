package markup

import (
	"testing"
)

func BenchmarkFormatAndSplit(b *testing.B) {
	md := longAnswer(b)
	b.SetBytes(int64(len(md)))
	b.ReportAllocs()
	for b.Loop() {
		if parts := Split(ToWhatsApp(md), 4000); len(parts) == 0 {
			b.Fatal("no parts")
		}
	}
}
