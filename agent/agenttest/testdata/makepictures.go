//go:build ignore

// makepictures writes photo.jpg, picture.png and sticker.png (the source
// of sticker.webp) into the current directory; see PICTURES.md.
//
//	cd agent/agenttest/testdata && go run makepictures.go && cwebp -q 80 -alpha_q 100 sticker.png -o sticker.webp && rm sticker.png
package main

import (
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"log"
	"math"
	"math/rand/v2"
	"os"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

func main() {
	rng := rand.New(rand.NewPCG(1, 2)) // fixed: the files are reproducible
	write("photo.jpg", photo(rng), func(f *os.File, m image.Image) error {
		return jpeg.Encode(f, m, &jpeg.Options{Quality: 75})
	})
	write("picture.png", logo(), func(f *os.File, m image.Image) error { return png.Encode(f, m) })
	write("sticker.png", sticker(), func(f *os.File, m image.Image) error { return png.Encode(f, m) })
}

func write(name string, m image.Image, enc func(*os.File, image.Image) error) {
	f, err := os.Create(name)
	if err != nil {
		log.Fatal(err)
	}
	if err := enc(f, m); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

// photo is a 2000x1500 landscape: a sky gradient, a sun, rolling hills, a
// house, a caption, and a little sensor noise.
func photo(rng *rand.Rand) image.Image {
	const w, h = 2000, 1500
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			t := float64(y) / h
			r, g, b := 90+100*t, 150+70*t, 235-20*t
			hill := 900 + 120*math.Sin(float64(x)/260) + 60*math.Sin(float64(x)/97+1)
			if float64(y) > hill {
				d := (float64(y) - hill) / (h - hill)
				r, g, b = 60+40*d, 140-50*d+20*math.Sin(float64(x*y)/5000), 50+10*d
			}
			if dx, dy := float64(x-1550), float64(y-300); dx*dx+dy*dy < 120*120 {
				r, g, b = 255, 220, 90
			}
			n := rng.NormFloat64() * 2
			m.SetRGBA(x, y, color.RGBA{clamp(r + n), clamp(g + n), clamp(b + n), 255})
		}
	}
	draw.Draw(m, image.Rect(500, 850, 900, 1150), image.NewUniform(color.RGBA{200, 60, 50, 255}), image.Point{}, draw.Src)
	draw.Draw(m, image.Rect(650, 1000, 750, 1150), image.NewUniform(color.RGBA{90, 50, 30, 255}), image.Point{}, draw.Src)
	text(m, 80, 120, "WACLAW TEST PHOTO 2000x1500", color.Black, 4)
	return m
}

// logo is an 800x600 PNG with an alpha channel: a blue disc and a caption
// on a transparent background.
func logo() image.Image {
	m := image.NewNRGBA(image.Rect(0, 0, 800, 600))
	for y := 0; y < 600; y++ {
		for x := 0; x < 800; x++ {
			if dx, dy := float64(x-400), float64(y-260); dx*dx+dy*dy < 200*200 {
				m.SetNRGBA(x, y, color.NRGBA{30, 90, 200, 255})
			}
		}
	}
	text(m, 250, 540, "TRANSPARENT PNG", color.Black, 3)
	return m
}

// sticker is a 512x512 WhatsApp-sized sticker: a smiling face with a black
// outline on a transparent background.
func sticker() image.Image {
	m := image.NewNRGBA(image.Rect(0, 0, 512, 512))
	for y := 0; y < 512; y++ {
		for x := 0; x < 512; x++ {
			d := math.Hypot(float64(x-256), float64(y-256))
			switch {
			case d < 220:
				m.SetNRGBA(x, y, color.NRGBA{255, 205, 40, 255})
			case d < 232:
				m.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 255})
			}
			eye := math.Min(math.Hypot(float64(x-180), float64(y-200)), math.Hypot(float64(x-332), float64(y-200)))
			mouth := math.Hypot(float64(x-256), float64(y-280))
			if eye < 28 || (mouth > 110 && mouth < 126 && y > 300) {
				m.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 255})
			}
		}
	}
	return m
}

// text writes s at (x, y) in the 7x13 basic font, scaled up by an integer.
func text(dst draw.Image, x, y int, s string, c color.Color, scale int) {
	small := image.NewAlpha(image.Rect(0, 0, 7*len(s), 13))
	d := font.Drawer{Dst: small, Src: image.Opaque, Face: basicfont.Face7x13, Dot: fixed.P(0, 10)}
	d.DrawString(s)
	src := image.NewUniform(c)
	for sy := 0; sy < 13; sy++ {
		for sx := 0; sx < small.Bounds().Dx(); sx++ {
			if small.AlphaAt(sx, sy).A > 127 {
				r := image.Rect(x+sx*scale, y+sy*scale, x+(sx+1)*scale, y+(sy+1)*scale)
				draw.Draw(dst, r, src, image.Point{}, draw.Over)
			}
		}
	}
}

func clamp(v float64) uint8 { return uint8(math.Max(0, math.Min(255, v))) }
