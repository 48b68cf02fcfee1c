package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Media holds tools.media: how voice notes are turned into text and how
// pictures are shown to a model. The keys are OpenClaw's, so that its
// tools.media.audio section loads as it is.
type Media struct {
	Audio Audio
	Image Image
}

// Audio holds tools.media.audio.
type Audio struct {
	// Enabled is false when the file turns transcription off, or lists no
	// way to transcribe: voice notes then get a notice.
	Enabled    bool
	MaxBytes   int           // a voice note larger than this is refused before it is downloaded
	MaxSeconds int           // likewise one longer than this
	MaxChars   int           // a transcript is cut to this many characters; 0: channels.whatsapp.maxMessageChars
	Language   string        // ISO-639-1 hint for every entry ("" lets the server detect it)
	Timeout    time.Duration // per entry, unless the entry sets its own
	// Echo sends the transcript back to the chat ("🎙️ …") before the
	// answer, so the sender sees what was heard (OpenClaw's echoTranscript).
	Echo bool
	// Transcribers are tried in order, like the model chain.
	Transcribers []*Transcriber
}

// Transcriber is one way to turn audio into text: an OpenAI-style
// POST {baseUrl}/audio/transcriptions on a configured provider, or a
// local command.
type Transcriber struct {
	Provider *Provider // nil for a command
	Model    string
	Language string // this entry's language, else Audio.Language
	Command  string // the program, for a command entry
	// Args are the command's arguments; "{{MediaPath}}" in one is the
	// audio file's path, which is appended when no argument names it.
	Args    []string
	Timeout time.Duration
}

// Hosted reports whether the audio leaves the user's machines: a provider
// that is not local. A command runs here.
func (t *Transcriber) Hosted() bool { return t.Provider != nil && !t.Provider.Local }

// Name names the entry in logs, /status and notices: "openai/whisper-1" or
// "whisper-cli".
func (t *Transcriber) Name() string {
	if t.Provider == nil {
		return t.Command
	}
	return t.Provider.ID + "/" + t.Model
}

// Image holds tools.media.image.
type Image struct {
	Enabled   bool // false: pictures get a notice, as with a model that cannot see
	MaxBytes  int  // a picture larger than this is refused before it is downloaded
	MaxPixels int  // a picture with more pixels than this is refused before it is decoded
	// LongSide is the longest side, in pixels, a picture is scaled down to
	// before a model sees it.
	LongSide int
}

// The defaults of tools.media.
const (
	DefaultAudioMaxBytes   = 20 << 20 // OpenClaw's; a minute of a WhatsApp voice note is ~100 KB
	DefaultAudioMaxSeconds = 600
	DefaultAudioTimeout    = 60 * time.Second
	DefaultImageMaxBytes   = 20 << 20
	DefaultImageMaxPixels  = 50_000_000 // a 48-megapixel phone photo passes; a decompression bomb does not
	DefaultImageLongSide   = 1600
)

// SizeText writes a size for people: "20 MB", "12.5 MB", "300 KB".
func SizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KB", (n+1023)>>10)
}

// LengthText writes a length as minutes and seconds: "12:05".
func LengthText(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// CanSee reports whether the model takes pictures (its input lists "image").
func (m *Model) CanSee() bool { return slices.Contains(m.Input, "image") }

type fileTools struct {
	Media *fileMedia `json:"media"`
}

type fileMedia struct {
	Audio *fileAudio `json:"audio"`
	Image *fileImage `json:"image"`
}

type fileAudio struct {
	Enabled        *bool            `json:"enabled"`
	MaxBytes       *int             `json:"maxBytes"`
	MaxSeconds     *int             `json:"maxSeconds"`
	MaxChars       *int             `json:"maxChars"`
	Language       *string          `json:"language"`
	TimeoutSeconds *int             `json:"timeoutSeconds"`
	EchoTranscript *bool            `json:"echoTranscript"`
	Models         []fileMediaModel `json:"models"`
}

type fileMediaModel struct {
	Type           *string  `json:"type"` // "provider" (the default) or "cli"
	Provider       *string  `json:"provider"`
	Model          *string  `json:"model"`
	Language       *string  `json:"language"`
	Command        *string  `json:"command"`
	Args           []string `json:"args"`
	TimeoutSeconds *int     `json:"timeoutSeconds"`
}

type fileImage struct {
	Enabled   *bool `json:"enabled"`
	MaxBytes  *int  `json:"maxBytes"`
	MaxPixels *int  `json:"maxPixels"`
	LongSide  *int  `json:"longSide"`
}

func (d *decoder) resolveMedia(cfg *Config, t *fileTools) {
	var fa fileAudio
	var fi fileImage
	if t != nil && t.Media != nil {
		if t.Media.Audio != nil {
			fa = *t.Media.Audio
		}
		if t.Media.Image != nil {
			fi = *t.Media.Image
		}
	}
	a := &cfg.Media.Audio
	*a = Audio{MaxBytes: DefaultAudioMaxBytes, MaxSeconds: DefaultAudioMaxSeconds, Timeout: DefaultAudioTimeout}
	const ap = "tools.media.audio"
	d.positive(ap+".maxBytes", fa.MaxBytes, &a.MaxBytes)
	d.positive(ap+".maxSeconds", fa.MaxSeconds, &a.MaxSeconds)
	d.positive(ap+".maxChars", fa.MaxChars, &a.MaxChars)
	var secs int
	if d.positive(ap+".timeoutSeconds", fa.TimeoutSeconds, &secs) {
		a.Timeout = time.Duration(secs) * time.Second
	}
	if fa.Language != nil {
		a.Language = strings.TrimSpace(*fa.Language)
	}
	if fa.EchoTranscript != nil {
		a.Echo = *fa.EchoTranscript
	}
	for i, fm := range fa.Models {
		if t := d.transcriber(cfg, fmt.Sprintf("%s.models[%d]", ap, i), fm, a.Timeout); t != nil {
			a.Transcribers = append(a.Transcribers, t)
		}
	}
	a.Enabled = len(a.Transcribers) > 0
	if fa.Enabled != nil && !*fa.Enabled {
		a.Enabled = false
	}

	im := &cfg.Media.Image
	*im = Image{Enabled: true, MaxBytes: DefaultImageMaxBytes, MaxPixels: DefaultImageMaxPixels, LongSide: DefaultImageLongSide}
	const ip = "tools.media.image"
	if fi.Enabled != nil {
		im.Enabled = *fi.Enabled
	}
	d.positive(ip+".maxBytes", fi.MaxBytes, &im.MaxBytes)
	d.positive(ip+".maxPixels", fi.MaxPixels, &im.MaxPixels)
	if d.positive(ip+".longSide", fi.LongSide, &im.LongSide) && (im.LongSide < 256 || im.LongSide > 8192) {
		d.errPath(ip+".longSide", "must be between 256 and 8192 pixels, got %d", im.LongSide)
	}
}

// positive sets *dst to *v when the file gave a value, and says whether
// it did; a value below 1 is an error.
func (d *decoder) positive(path string, v *int, dst *int) bool {
	if v == nil {
		return false
	}
	if *v < 1 {
		d.errPath(path, "must be a positive number, got %d", *v)
		return false
	}
	*dst = *v
	return true
}

func (d *decoder) transcriber(cfg *Config, p string, fm fileMediaModel, timeout time.Duration) *Transcriber {
	t := &Transcriber{Timeout: timeout}
	var secs int
	if d.positive(p+".timeoutSeconds", fm.TimeoutSeconds, &secs) {
		t.Timeout = time.Duration(secs) * time.Second
	}
	if fm.Language != nil {
		t.Language = strings.TrimSpace(*fm.Language)
	}
	kind := "provider"
	if fm.Type != nil {
		kind = *fm.Type
	}
	switch kind {
	case "cli":
		if fm.Command == nil || strings.TrimSpace(*fm.Command) == "" {
			d.errPath(p+".command", `a "cli" entry needs the command to run, such as "whisper-cli"`)
			return nil
		}
		t.Command, t.Args = *fm.Command, fm.Args
		return t
	case "provider":
		if fm.Provider == nil || *fm.Provider == "" {
			d.errPath(p+".provider", `needs a provider from models.providers whose server answers POST /audio/transcriptions (or type "cli" with a command)`)
			return nil
		}
		prov := cfg.provider(*fm.Provider)
		if prov == nil {
			msg := fmt.Sprintf("unknown provider %q", *fm.Provider)
			if s := Closest(*fm.Provider, cfg.providerIDs()); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += " (known: " + strings.Join(cfg.providerIDs(), ", ") + ")"
			}
			d.errPath(p+".provider", "%s", msg)
			return nil
		}
		if prov.API == APIAnthropicMessages {
			d.errPath(p+".provider", "%s speaks anthropic-messages, which has no speech-to-text endpoint: use a provider that answers POST /audio/transcriptions (OpenAI, whisper.cpp's server, speaches, LocalAI, vLLM)", prov.ID)
			return nil
		}
		if fm.Model == nil || strings.TrimSpace(*fm.Model) == "" {
			d.errPath(p+".model", "needs the transcription model's id, such as \"whisper-1\"")
			return nil
		}
		t.Provider, t.Model = prov, *fm.Model
		return t
	}
	d.errPath(p+".type", `must be "provider" or "cli", not %q`, kind)
	return nil
}
