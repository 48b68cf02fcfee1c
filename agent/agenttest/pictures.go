package agenttest

import _ "embed"

// The pictures of testdata/PICTURES.md, for tests that send a picture
// through the bot: each accessor returns a fresh copy, so a test may
// change it.
var (
	//go:embed testdata/photo.jpg
	photoJPEG []byte
	//go:embed testdata/sticker.webp
	stickerWebP []byte
	//go:embed testdata/picture.png
	picturePNG []byte
	//go:embed testdata/sticker-animated.webp
	animatedWebP []byte
)

// Photo is a 2000x1500 JPEG landscape with a house and a caption, as a
// phone would send it (182 KB).
func Photo() []byte { return clone(photoJPEG) }

// Sticker is a 512x512 WebP with transparency, as WhatsApp sends a
// sticker: a smiling face with a black outline.
func Sticker() []byte { return clone(stickerWebP) }

// PNG is an 800x600 PNG with an alpha channel: a blue disc and a caption
// on a transparent background.
func PNG() []byte { return clone(picturePNG) }

// AnimatedSticker is a 64x64 animated WebP of two frames (red, then
// blue), as WhatsApp sends an animated sticker.
func AnimatedSticker() []byte { return clone(animatedWebP) }

func clone(b []byte) []byte { return append([]byte(nil), b...) }
