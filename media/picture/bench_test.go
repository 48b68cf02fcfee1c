package picture

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"testing"

	"golang.org/x/image/draw"
)

// BenchmarkPrepare12MP prepares a 4000x3000 phone photo (a 12-megapixel
// JPEG of gradients, edges, fine texture and noise).
func BenchmarkPrepare12MP(b *testing.B) {
	data := photoJPEG(b, 4000, 3000)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		p, err := Prepare(data, limits)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(p.Data)), "out-bytes")
	}
}

// BenchmarkDecode12MP is the decoding alone, the part of Prepare that a
// cheaper decoder would have to win on (about 40% of it). Go's image/jpeg
// cannot decode at a reduced size; libjpeg's DCT scaling (scale_denom 2,
// 4, 8) could skip most of the work for a picture bound for 1600 pixels,
// but only through cgo (libjpeg-turbo), a price not worth ~0.2 s a photo.
func BenchmarkDecode12MP(b *testing.B) {
	data := photoJPEG(b, 4000, 3000)
	b.ResetTimer()
	for b.Loop() {
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKernels scales a 12-megapixel photo to 1600x1200 with each
// kernel, and reports two qualities measured on a zone plate (rings whose
// frequency grows from the centre out to the source's Nyquist limit):
// alias-rms, the ripple left where the rings are too fine for 1600x1200
// and should turn flat grey (moiré: lower is better), and pass-rms, the
// error where they are coarse enough to keep (blur: lower is better).
func BenchmarkKernels(b *testing.B) {
	src, _, err := image.Decode(bytes.NewReader(photoJPEG(b, 4000, 3000)))
	if err != nil {
		b.Fatal(err)
	}
	plate := zonePlate(4000, 3000)
	kernel := func(in draw.Interpolator) func(image.Image) image.Image {
		return func(src image.Image) image.Image {
			dst := image.NewRGBA(image.Rect(0, 0, 1600, 1200))
			in.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
			return dst
		}
	}
	for _, k := range []struct {
		name  string
		scale func(image.Image) image.Image
	}{
		{"CatmullRom", kernel(draw.CatmullRom)},
		{"BiLinear", kernel(draw.BiLinear)},
		{"ApproxBiLinear", kernel(draw.ApproxBiLinear)},
		{"Box+CatmullRom", func(src image.Image) image.Image { return kernel(draw.CatmullRom)(preshrink(src, 1600, 1200)) }},
		{"Box+ApproxBiLinear", func(src image.Image) image.Image { return flatten(src, 1600, 1200) }},
	} {
		b.Run(k.name, func(b *testing.B) {
			for b.Loop() {
				k.scale(src)
			}
			alias, pass := zoneError(k.scale, plate)
			b.ReportMetric(alias, "alias-rms")
			b.ReportMetric(pass, "pass-rms")
		})
	}
}

// zonePlate is a grey w x h picture of cos(k r²) rings whose frequency
// reaches the source's Nyquist limit (half a cycle per pixel) at the
// corners, as the JPEG decoder would give it (YCbCr 4:2:0).
func zonePlate(w, h int) *image.YCbCr {
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	k := zoneK(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := float64(x-w/2), float64(y-h/2)
			m.Y[y*m.YStride+x] = uint8(128 + 127*math.Cos(k*(dx*dx+dy*dy)))
		}
	}
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = 128, 128
	}
	return m
}

// zoneK makes the local frequency k·r/π reach 0.5 at the corner.
func zoneK(w, h int) float64 { return 0.5 * math.Pi / math.Hypot(float64(w/2), float64(h/2)) }

// zoneError scales the plate to 1600x1200 and measures the RMS deviation
// from grey where the rings exceed the output's Nyquist limit (with a
// margin), and from the true rings where they are under a third of it.
func zoneError(scaleTo func(image.Image) image.Image, plate *image.YCbCr) (alias, pass float64) {
	w, h := plate.Bounds().Dx(), plate.Bounds().Dy()
	const ow, oh = 1600, 1200
	scale := float64(w) / ow
	dst := scaleTo(plate)
	k := zoneK(w, h)
	nyquist := 0.5 / scale // in cycles per source pixel
	var aSum, pSum float64
	var aN, pN int
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			sx, sy := (float64(x)+0.5)*scale-0.5-float64(w/2), (float64(y)+0.5)*scale-0.5-float64(h/2)
			r := math.Hypot(sx, sy)
			f := k * r / math.Pi
			v := float64(color.GrayModel.Convert(dst.At(x, y)).(color.Gray).Y)
			switch {
			case f > 1.25*nyquist:
				aSum += (v - 128) * (v - 128)
				aN++
			case f < nyquist/3:
				want := 128 + 127*math.Cos(k*r*r)
				pSum += (v - want) * (v - want)
				pN++
			}
		}
	}
	return math.Sqrt(aSum / float64(aN)), math.Sqrt(pSum / float64(pN))
}
