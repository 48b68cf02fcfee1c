// Package picture makes a received picture fit for a model: it refuses a
// picture with more pixels than allowed before decoding it, decodes JPEG,
// PNG, GIF (the first frame) and WebP (WhatsApp's stickers), scales it down
// so its long side is within the limit, and always re-encodes it as JPEG,
// which drops every piece of metadata (EXIF, with the phone's GPS position)
// before any hosted model sees the picture.
package picture

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // registered for image.Decode: a GIF's first frame
	"image/jpeg"
	_ "image/png" // registered for image.Decode

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // registered for image.Decode: stickers

	"waclaw/config"
)

// Errors Prepare returns, wrapped with the details.
var (
	// ErrNotPicture: the data is not a JPEG, PNG, GIF or WebP picture that
	// can be decoded.
	ErrNotPicture = errors.New("not a picture that can be read")
	// ErrTooManyPixels: the picture's header claims more pixels than
	// allowed (a decompression bomb, or a panorama too big to decode
	// safely); it was not decoded.
	ErrTooManyPixels = errors.New("picture has too many pixels")
)

// Why always JPEG, transparent pictures included: a model's servers turn
// every picture into RGB pixels and count tokens by pixels, not bytes, so
// transparency is lost there anyway (often on black, where a sticker's
// black outline vanishes): laying it on white here decides how it looks.
// Once flattened, PNG's only gain is lossless edges, and it is not
// clearly better in size: measured on the test pictures, the 512x512 WebP
// sticker is 27 KB as JPEG and 44 KB as PNG on white; a flat 800x600
// drawing is 22 KB as JPEG and 5 KB as PNG; the 2000x1500 photo 172 KB as
// JPEG and 3 MB as PNG. Tens of kilobytes either way are nothing beside a
// request's tokens, and one format keeps every API and local runtime on
// the path they all take.

// Quality is the JPEG quality pictures are encoded at: past 85, files grow
// fast for differences no vision model reads.
const Quality = 85

// MIME is the type of every prepared picture.
const MIME = "image/jpeg"

// Picture is a picture ready for a model.
type Picture struct {
	MIME string // always "image/jpeg"
	Data []byte
	// Width and Height are the size sent; SourceWidth and SourceHeight
	// the size received.
	Width, Height             int
	SourceWidth, SourceHeight int
}

// Prepare decodes data and returns it scaled down to lim.LongSide (1600 if
// 0) and encoded as JPEG, without metadata. A picture is never scaled up.
// A picture whose header claims more than lim.MaxPixels pixels (50
// megapixels if 0) is refused with ErrTooManyPixels before it is decoded,
// so that a small file cannot make the bot allocate gigabytes. Transparent
// parts (stickers, PNGs with alpha) are laid on white.
func Prepare(data []byte, lim config.Image) (*Picture, error) {
	longSide := lim.LongSide
	if longSide <= 0 {
		longSide = config.DefaultImageLongSide
	}
	maxPixels := int64(lim.MaxPixels)
	if maxPixels <= 0 {
		maxPixels = config.DefaultImageMaxPixels
	}

	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotPicture, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: %s of %dx%d pixels", ErrNotPicture, format, cfg.Width, cfg.Height)
	}
	if n := int64(cfg.Width) * int64(cfg.Height); n > maxPixels {
		return nil, fmt.Errorf("%w: %dx%d is %d pixels, more than the %d allowed", ErrTooManyPixels, cfg.Width, cfg.Height, n, maxPixels)
	}

	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: decode %s: %v", ErrNotPicture, format, err)
	}
	b := src.Bounds()
	p := &Picture{MIME: MIME, SourceWidth: b.Dx(), SourceHeight: b.Dy()}
	p.Width, p.Height = fit(b.Dx(), b.Dy(), longSide)

	out := flatten(src, p.Width, p.Height)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: Quality}); err != nil {
		return nil, fmt.Errorf("encode picture as JPEG: %w", err)
	}
	p.Data = buf.Bytes()
	return p, nil
}

// fit is w x h scaled down so that the longer side is at most longSide,
// keeping the aspect ratio; a smaller picture keeps its size.
func fit(w, h, longSide int) (int, int) {
	long := max(w, h)
	if long <= longSide {
		return w, h
	}
	scale := func(n int) int { return max(1, int((int64(n)*int64(longSide)+int64(long)/2)/int64(long))) }
	return scale(w), scale(h)
}

// scaler picks how to scale a picture down by the ratio left after the
// whole-block averaging (shrinkYCbCr). Measured by BenchmarkKernels on a
// 12-megapixel photo going to 1600x1200 (2-core AMD EPYC; alias-rms is the
// moiré left on a zone plate, pass-rms the blur, lower is better):
//
//	CatmullRom          ~500 ms  162 MB  alias 11.4  pass 0.69
//	BiLinear            ~290 ms  162 MB  alias  9.1  pass 4.53
//	ApproxBiLinear       ~50 ms    8 MB  alias 59.0  pass 0.86
//	Box+CatmullRom      ~180 ms   89 MB  alias 18.5  pass 1.47
//	Box+ApproxBiLinear   ~76 ms   12 MB  alias 23.3  pass 4.09  (what Prepare does)
//
// ApproxBiLinear alone reads only the 4 nearest source pixels of each
// output pixel, so at more than 2:1 detail finer than the output can hold
// (fabric, small text) folds into moiré that a model reads as pattern.
// After the blocks are averaged the ratio left is under 2:1, where it
// aliases little; CatmullRom would blur a little less, but its float64
// buffer of the output width times the source height costs 89 MB for one
// photo where this costs 12 MB: with four chats at once, the difference
// between a bot that stays small and one that does not. A larger ratio
// (a big PNG, which is not averaged first) gets CatmullRom.
func scaler(srcW, dstW int) draw.Interpolator {
	if srcW <= 2*dstW {
		return draw.ApproxBiLinear
	}
	return draw.CatmullRom
}

// flatten returns src at w x h, opaque: transparent parts are laid on
// white, as a chat app shows a sticker; a vision model given transparent
// pixels sees whatever colour they hide (often black, on which a black
// outline vanishes).
func flatten(src image.Image, w, h int) image.Image {
	opaque := isOpaque(src)
	src = preshrink(src, w, h)
	b := src.Bounds()
	same := w == b.Dx() && h == b.Dy()
	if opaque && same {
		return src // the JPEG encoder reads any image; nothing to do
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	op := draw.Src
	if !opaque {
		draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
		op = draw.Over
	}
	if same {
		draw.Draw(dst, dst.Bounds(), src, b.Min, op)
		return dst
	}
	scaler(b.Dx(), w).Scale(dst, dst.Bounds(), src, b, op, nil)
	return dst
}

// preshrink averages a decoded JPEG down by the largest whole factor that
// keeps it at least w x h, when that factor is 2 or more; other pictures
// (PNG, GIF, WebP: small in practice) are returned as they are.
func preshrink(src image.Image, w, h int) image.Image {
	y, ok := src.(*image.YCbCr)
	if !ok {
		return src
	}
	b := src.Bounds()
	n := min(b.Dx()/w, b.Dy()/h)
	if n < 2 {
		return src
	}
	cw, ch := chromaStep(y.SubsampleRatio)
	if b.Dx()/(n*cw)*cw < w || b.Dy()/(n*ch)*ch < h {
		n-- // whole chroma blocks would cut it below the target
	}
	if n < 2 {
		return src
	}
	return shrinkYCbCr(y, n)
}

// isOpaque reports whether src has no transparent pixel: the decoders'
// images say so themselves (a JPEG always is).
func isOpaque(src image.Image) bool {
	if o, ok := src.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}
