package picture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"waclaw/agent/agenttest"
	"waclaw/config"
)

// limits are the defaults of tools.media.image.
var limits = config.Image{Enabled: true, MaxBytes: config.DefaultImageMaxBytes, MaxPixels: config.DefaultImageMaxPixels, LongSide: config.DefaultImageLongSide}

// decode reads a prepared picture back as a model's server would.
func decode(t testing.TB, p *Picture) image.Image {
	t.Helper()
	if p.MIME != "image/jpeg" {
		t.Fatalf("MIME = %q; want image/jpeg", p.MIME)
	}
	m, format, err := image.Decode(bytes.NewReader(p.Data))
	if err != nil || format != "jpeg" {
		t.Fatalf("the prepared picture does not decode as JPEG: format %q, %v", format, err)
	}
	if b := m.Bounds(); b.Dx() != p.Width || b.Dy() != p.Height {
		t.Fatalf("the JPEG is %dx%d; Picture says %dx%d", b.Dx(), b.Dy(), p.Width, p.Height)
	}
	return m
}

func TestPrepareScalesDownToTheLongSide(t *testing.T) {
	tests := []struct {
		name         string
		data         []byte
		lim          config.Image
		srcW, srcH   int
		wantW, wantH int
	}{
		{"12 MP landscape photo", photoJPEG(t, 4000, 3000), limits, 4000, 3000, 1600, 1200},
		{"portrait photo", photoJPEG(t, 600, 800), config.Image{LongSide: 400}, 600, 800, 300, 400},
		{"the test photo, a smaller long side", agenttest.Photo(), config.Image{LongSide: 512}, 2000, 1500, 512, 384},
		{"small PNG is not scaled up", agenttest.PNG(), limits, 800, 600, 800, 600},
		{"sticker is not scaled up", agenttest.Sticker(), limits, 512, 512, 512, 512},
		{"zero limits take the defaults", photoJPEG(t, 1700, 400), config.Image{}, 1700, 400, 1600, 376},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Prepare(tt.data, tt.lim)
			if err != nil {
				t.Fatalf("Prepare() error = %v", err)
			}
			if p.SourceWidth != tt.srcW || p.SourceHeight != tt.srcH || p.Width != tt.wantW || p.Height != tt.wantH {
				t.Errorf("Prepare() = %dx%d from %dx%d; want %dx%d from %dx%d",
					p.Width, p.Height, p.SourceWidth, p.SourceHeight, tt.wantW, tt.wantH, tt.srcW, tt.srcH)
			}
			decode(t, p)
		})
	}
}

func TestPrepareKeepsThePicture(t *testing.T) {
	// The test photo's sky is blue at the top, its house red: a model
	// must see the same scene, only smaller.
	p, err := Prepare(agenttest.Photo(), config.Image{LongSide: 800})
	if err != nil {
		t.Fatalf("Prepare() error = %v", err)
	}
	m := decode(t, p)
	sky := rgb(m.At(400, 10))
	house := rgb(m.At(280, 376)) // (700, 940) in the 2000x1500 source
	if !(sky[2] > 200 && sky[0] < 130) {
		t.Errorf("sky pixel = %v; want blue", sky)
	}
	if !(house[0] > 170 && house[1] < 100 && house[2] < 100) {
		t.Errorf("house pixel = %v; want red", house)
	}
}

func TestPrepareLaysTransparencyOnWhite(t *testing.T) {
	tests := []struct {
		name   string
		data   []byte
		inside image.Point // an opaque pixel of the picture, which keeps its colour
	}{
		{"WebP sticker", agenttest.Sticker(), image.Pt(256, 120)},
		{"PNG with alpha", agenttest.PNG(), image.Pt(400, 260)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Prepare(tt.data, limits)
			if err != nil {
				t.Fatalf("Prepare() error = %v", err)
			}
			src, _, err := image.Decode(bytes.NewReader(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if _, _, _, a := src.At(3, 3).RGBA(); a != 0 {
				t.Fatalf("the source's corner is not transparent")
			}
			m := decode(t, p)
			if c := rgb(m.At(3, 3)); !near(c, [3]uint8{255, 255, 255}, 6) {
				t.Errorf("transparent corner = %v; want white, as a chat app shows it", c)
			}
			want := rgb(src.At(tt.inside.X, tt.inside.Y))
			if c := rgb(m.At(tt.inside.X, tt.inside.Y)); !near(c, want, 12) {
				t.Errorf("pixel at %v = %v; want %v", tt.inside, c, want)
			}
		})
	}
}

func TestPrepareTakesAGIFsFirstFrame(t *testing.T) {
	pal := color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}}
	frame := func(i uint8) *image.Paletted {
		m := image.NewPaletted(image.Rect(0, 0, 40, 30), pal)
		for j := range m.Pix {
			m.Pix[j] = i
		}
		return m
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, &gif.GIF{Image: []*image.Paletted{frame(0), frame(1)}, Delay: []int{10, 10}}); err != nil {
		t.Fatal(err)
	}
	p, err := Prepare(buf.Bytes(), limits)
	if err != nil {
		t.Fatalf("Prepare() error = %v", err)
	}
	if c := rgb(decode(t, p).At(20, 15)); !near(c, [3]uint8{255, 0, 0}, 12) {
		t.Errorf("pixel = %v; want the first frame's red", c)
	}
}

// TestPrepareRefusesPixelBombs: a PNG of a few dozen bytes whose header
// claims 30000x30000 pixels (3.6 GB as RGBA) is refused from its header,
// without decoding.
func TestPrepareRefusesPixelBombs(t *testing.T) {
	bomb := pngHeader(30000, 30000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Prepare(bomb, limits)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("Prepare(30000x30000 PNG) error = %v; want ErrTooManyPixels", err)
	}
	for _, want := range []string{"30000x30000", "900000000", "50000000"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %s", err, want)
		}
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("refusing the bomb allocated %d bytes; want under 1 MB (it must not be decoded)", got)
	}

	// The limit is the configured one.
	if _, err := Prepare(agenttest.Photo(), config.Image{MaxPixels: 1_000_000}); !errors.Is(err, ErrTooManyPixels) {
		t.Errorf("Prepare(3 MP photo, maxPixels 1M) error = %v; want ErrTooManyPixels", err)
	}
}

func TestPrepareRefusesWhatIsNotAPicture(t *testing.T) {
	photo := agenttest.Photo()
	tests := map[string][]byte{
		"nothing":         nil,
		"text":            []byte("hello, this is not a picture"),
		"a PDF":           []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"),
		"truncated JPEG":  photo[:len(photo)/3],
		"PNG header only": pngHeader(100, 100),
		"zero-size PNG":   pngHeader(0, 10),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Prepare(data, limits); !errors.Is(err, ErrNotPicture) {
				t.Errorf("Prepare(%s) error = %v; want ErrNotPicture", name, err)
			}
		})
	}
}

// TestPrepareDropsEXIF: a phone's JPEG carries EXIF, often with where it
// was taken; what a model is sent carries none.
func TestPrepareDropsEXIF(t *testing.T) {
	lim := config.Image{LongSide: 400}
	for _, size := range []struct{ w, h int }{{300, 200}, {800, 600}} { // re-encoded as it is, and scaled
		src := withEXIF(t, photoJPEG(t, size.w, size.h))
		if segs := jpegSegments(src); !hasEXIF(segs) {
			t.Fatalf("the crafted JPEG has no EXIF segment: %x", segs)
		}
		p, err := Prepare(src, lim)
		if err != nil {
			t.Fatalf("Prepare() error = %v", err)
		}
		if hasEXIF(jpegSegments(p.Data)) || bytes.Contains(p.Data, []byte("Exif\x00\x00")) || bytes.Contains(p.Data, []byte("GPS")) {
			t.Errorf("Prepare(%dx%d with EXIF) kept the EXIF segment", size.w, size.h)
		}
		decode(t, p)
	}
}

func TestFit(t *testing.T) {
	tests := []struct{ w, h, long, wantW, wantH int }{
		{4000, 3000, 1600, 1600, 1200},
		{3000, 4000, 1600, 1200, 1600},
		{1600, 1600, 1600, 1600, 1600},
		{1601, 10, 1600, 1600, 10},
		{100000, 10, 1600, 1600, 1}, // a sliver keeps at least one pixel
		{10, 10, 1600, 10, 10},
	}
	for _, tt := range tests {
		if w, h := fit(tt.w, tt.h, tt.long); w != tt.wantW || h != tt.wantH {
			t.Errorf("fit(%d, %d, %d) = %d, %d; want %d, %d", tt.w, tt.h, tt.long, w, h, tt.wantW, tt.wantH)
		}
	}
}

func rgb(c color.Color) [3]uint8 {
	r, g, b, _ := c.RGBA()
	return [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
}

func near(a, b [3]uint8, tol int) bool {
	for i := range a {
		if d := int(a[i]) - int(b[i]); d > tol || d < -tol {
			return false
		}
	}
	return true
}

// photoJPEG is a w x h JPEG that compresses like a photo: gradients,
// shapes with hard edges, fine texture and sensor noise (a flat colour
// would make decoding and scaling look cheaper than they are).
func photoJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	colWave, colFine, rowWave := make([]float64, w), make([]float64, w), make([]float64, h)
	for x := range colWave {
		colWave[x] = 30 * math.Sin(float64(x)/float64(w)*40)
		colFine[x] = 35 * math.Sin(float64(x)/3) // fabric-like fine detail
	}
	for y := range rowWave {
		rowWave[y] = math.Sin(float64(y) / float64(h) * 25)
	}
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := 0; y < h; y++ {
		base := 40 + 150*float64(y)/float64(h)
		row := m.Y[y*m.YStride:]
		for x := 0; x < w; x++ {
			v := base + colWave[x]*rowWave[y] + float64(rng.IntN(17)-8) // sensor noise
			if (x/(w/8)+y/(h/6))%2 == 0 && y > h*3/5 {
				v += colFine[x]
			}
			row[x] = uint8(math.Max(0, math.Min(255, v)))
		}
	}
	for y := 0; y < (h+1)/2; y++ {
		for x := 0; x < (w+1)/2; x++ {
			i := y*m.CStride + x
			m.Cb[i] = uint8(98 + 60*x/((w+1)/2))
			m.Cr[i] = uint8(128 + 50*rowWave[min(2*y, h-1)])
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngHeader is a PNG signature and an IHDR chunk (8-bit RGBA) with a good
// CRC, and no image data: what a decompression bomb shows before its data.
func pngHeader(w, h uint32) []byte {
	ihdr := make([]byte, 4+13)
	copy(ihdr, "IHDR")
	binary.BigEndian.PutUint32(ihdr[4:], w)
	binary.BigEndian.PutUint32(ihdr[8:], h)
	copy(ihdr[12:], []byte{8, 6, 0, 0, 0})
	out := []byte("\x89PNG\r\n\x1a\n")
	out = binary.BigEndian.AppendUint32(out, 13)
	out = append(out, ihdr...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(ihdr))
}

// withEXIF inserts an APP1 Exif segment (a TIFF header with a GPS IFD
// pointer, as phones write it) right after the JPEG's SOI marker.
func withEXIF(t testing.TB, jpg []byte) []byte {
	t.Helper()
	if !bytes.HasPrefix(jpg, []byte{0xFF, 0xD8}) {
		t.Fatal("not a JPEG")
	}
	payload := []byte("Exif\x00\x00")
	payload = append(payload, "II*\x00\x08\x00\x00\x00"...)              // little-endian TIFF, IFD0 at 8
	payload = append(payload, 1, 0)                                      // one entry
	payload = append(payload, 0x25, 0x88, 4, 0, 1, 0, 0, 0, 26, 0, 0, 0) // GPSInfo -> 26
	payload = append(payload, 0, 0, 0, 0)                                // no next IFD
	payload = append(payload, "GPS 52.5200N 13.4050E"...)
	seg := []byte{0xFF, 0xE1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(len(payload)+2))
	seg = append(seg, payload...)
	return append(append([]byte{0xFF, 0xD8}, seg...), jpg[2:]...)
}

// jpegSegments lists the markers of a JPEG's header segments, up to the
// start of the scan.
func jpegSegments(jpg []byte) []byte {
	var markers []byte
	for i := 2; i+4 <= len(jpg) && jpg[i] == 0xFF; {
		marker := jpg[i+1]
		markers = append(markers, marker)
		if marker == 0xDA { // SOS: entropy-coded data follows
			break
		}
		i += 2 + int(binary.BigEndian.Uint16(jpg[i+2:]))
	}
	return markers
}

func hasEXIF(markers []byte) bool { return bytes.IndexByte(markers, 0xE1) >= 0 }
