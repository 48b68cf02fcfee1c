package whatsapp

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
)

// A pairing code shaped like whatsmeow's: ref,noise key,identity key,adv secret.
const pairingCode = "2@Vx9Xk3o1VbQ2dGh5aXNpc2FyZWYxMjM0NTY3ODkw,ZmFrZW5vaXNla2V5ZmFrZW5vaXNla2V5ZmFrZW5vaXM=,ZmFrZWlkZW50aXR5a2V5ZmFrZWlkZW50aXR5a2V5ZmE=,YWR2c2VjcmV0YWR2c2VjcmV0YWR2c2VjcmV0YWR2cw=="

func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatalf("binary bitmap: %v", err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode QR: %v", err)
	}
	return res.GetText()
}

func TestWriteQRPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qr.png")
	if err := WriteQRPNG(path, pairingCode); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("QR PNG mode = %v; want 0600", fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("PNG: %v", err)
	}
	if got := decodeQR(t, img); got != pairingCode {
		t.Errorf("decoded %q; want %q", got, pairingCode)
	}
	// A second code replaces the first.
	if err := WriteQRPNG(path, "2@next"); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(path)
	img, _ = png.Decode(bytes.NewReader(data))
	if got := decodeQR(t, img); got != "2@next" {
		t.Errorf("after rewrite decoded %q; want %q", got, "2@next")
	}
}

// halfBlocksToImage draws terminal half-block output as an image: "█"
// is light over light, "▀" light over dark, "▄" dark over light, " " dark.
func halfBlocksToImage(t *testing.T, s string) image.Image {
	t.Helper()
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	const px = 4
	width := 0
	for _, l := range lines {
		width = max(width, len([]rune(l)))
	}
	img := image.NewGray(image.Rect(0, 0, width*px, len(lines)*2*px))
	for y, l := range lines {
		for x, r := range []rune(l) {
			var top, bottom bool // light?
			switch r {
			case '█':
				top, bottom = true, true
			case '▀':
				top = true
			case '▄':
				bottom = true
			case ' ':
			default:
				t.Fatalf("unexpected rune %q in QR output", r)
			}
			for dy := range 2 * px {
				for dx := range px {
					light := top
					if dy >= px {
						light = bottom
					}
					c := color.Gray{Y: 0}
					if light {
						c.Y = 255
					}
					img.SetGray(x*px+dx, y*2*px+dy, c)
				}
			}
		}
	}
	return img
}

func TestRenderQR(t *testing.T) {
	var plain bytes.Buffer
	if err := RenderQR(&plain, pairingCode, false); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b") {
		t.Error("plain QR contains escape sequences")
	}
	lines := strings.Split(strings.TrimRight(plain.String(), "\n"), "\n")
	// Quiet zone: the first and last rows and the first two columns are light.
	for _, l := range []string{lines[0], lines[len(lines)-1]} {
		if strings.ContainsAny(l, " ") {
			t.Errorf("quiet zone row has dark modules: %q", l)
		}
	}
	for _, l := range lines[:len(lines)-1] { // the last row is the quiet zone's lower edge
		if !strings.HasPrefix(l, "████") {
			t.Fatalf("row lacks the left quiet zone: %q", l)
		}
	}
	if got := decodeQR(t, halfBlocksToImage(t, plain.String())); got != pairingCode {
		t.Errorf("terminal QR decodes to %q; want %q", got, pairingCode)
	}

	var colored bytes.Buffer
	if err := RenderQR(&colored, pairingCode, true); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimRight(colored.String(), "\n"), "\n") {
		if !strings.HasPrefix(l, ansiQR) || !strings.HasSuffix(l, ansiReset) {
			t.Fatalf("coloured row not wrapped in fixed colours: %q", l)
		}
	}
	stripped := strings.NewReplacer(ansiQR, "", ansiReset, "").Replace(colored.String())
	if stripped != plain.String() {
		t.Error("coloured QR differs from the plain one beyond the colours")
	}
}

func TestRenderQRTooLong(t *testing.T) {
	var out bytes.Buffer
	if err := RenderQR(&out, strings.Repeat("x", 8000), false); err == nil {
		t.Error("RenderQR(8000 bytes) error = nil; want an error, not a crash")
	}
}
