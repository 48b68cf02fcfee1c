package whatsapp

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mdp/qrterminal/v3"
	qrcode "github.com/skip2/go-qrcode"
)

// Terminal colours for the QR: light quiet zone and light modules drawn as
// foreground blocks on a dark background, fixed so that the code reads the
// same (dark on light) on dark and light terminal themes alike.
const (
	ansiQR    = "\x1b[97;40m"
	ansiReset = "\x1b[0m"
)

// qrPNGSize is the PNG's width and height in pixels.
const qrPNGSize = 512

// RenderQR writes code as a QR made of half-block characters (two modules
// per character row) with a 4-module quiet zone. With color, each line is
// wrapped in fixed ANSI colours so that the code is not inverted on a light
// terminal; without it (output is not a terminal) the blocks are plain.
func RenderQR(w io.Writer, code string, color bool) error {
	// qrterminal does not report a code too long for a QR: it crashes.
	if _, err := qrcode.New(code, qrcode.Low); err != nil {
		return fmt.Errorf("render QR: %w", err)
	}
	var buf bytes.Buffer
	qrterminal.GenerateWithConfig(code, qrterminal.Config{
		Level:          qrterminal.L,
		Writer:         &buf,
		HalfBlocks:     true,
		BlackChar:      qrterminal.BLACK_BLACK,
		WhiteBlackChar: qrterminal.WHITE_BLACK,
		WhiteChar:      qrterminal.WHITE_WHITE,
		BlackWhiteChar: qrterminal.BLACK_WHITE,
		QuietZone:      qrterminal.QUIET_ZONE,
	})
	var out strings.Builder
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line == "" {
			continue
		}
		if color {
			out.WriteString(ansiQR + strings.TrimSuffix(line, "\n") + ansiReset + "\n")
		} else {
			out.WriteString(line)
		}
	}
	if _, err := io.WriteString(w, out.String()); err != nil {
		return fmt.Errorf("write QR: %w", err)
	}
	return nil
}

// WriteQRPNG writes code as a PNG QR to path (mode 0600: whoever scans it
// links an account to this bot). The file is replaced atomically, so an
// image viewer watching it never sees half a file.
func WriteQRPNG(path, code string) error {
	png, err := qrcode.Encode(code, qrcode.Medium, qrPNGSize)
	if err != nil {
		return fmt.Errorf("encode QR PNG: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".qr-*.png")
	if err != nil {
		return fmt.Errorf("write QR PNG: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(png); err != nil {
		tmp.Close()
		return fmt.Errorf("write QR PNG %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write QR PNG %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write QR PNG %s: %w", path, err)
	}
	return nil
}
