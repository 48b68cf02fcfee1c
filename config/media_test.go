package config

import (
	"strings"
	"testing"
	"time"
)

// OpenClaw's documented tools.media.audio example, as written there.
const openClawAudio = `{
  tools: {
    media: {
      audio: {
        enabled: true,
        maxBytes: 20971520,
        models: [
          { provider: "openai", model: "gpt-4o-mini-transcribe" },
          {
            type: "cli",
            command: "whisper",
            args: ["--model", "base", "{{MediaPath}}"],
            timeoutSeconds: 45,
          },
        ],
      },
    },
  },
}`

func TestOpenClawAudioSectionLoads(t *testing.T) {
	cfg, err := Parse("t", []byte(openClawAudio), func(string) (string, bool) { return "sk-test", true })
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Media.Audio
	if !a.Enabled || a.MaxBytes != 20971520 || len(a.Transcribers) != 2 {
		t.Fatalf("audio = %+v, want enabled with two entries and OpenClaw's 20 MB", a)
	}
	hosted, cli := a.Transcribers[0], a.Transcribers[1]
	if hosted.Provider == nil || hosted.Provider.ID != "openai" || hosted.Model != "gpt-4o-mini-transcribe" || !hosted.Hosted() || hosted.Timeout != DefaultAudioTimeout {
		t.Errorf("first entry = %+v, want OpenAI's hosted transcriber with the default timeout", hosted)
	}
	if cli.Command != "whisper" || strings.Join(cli.Args, " ") != "--model base {{MediaPath}}" || cli.Hosted() || cli.Timeout != 45*time.Second {
		t.Errorf("second entry = %+v, want the whisper command, local, 45s", cli)
	}
	if cli.Name() != "whisper" || hosted.Name() != "openai/gpt-4o-mini-transcribe" {
		t.Errorf("names = %q, %q", hosted.Name(), cli.Name())
	}
}

func TestMediaDefaults(t *testing.T) {
	cfg, err := Parse("t", []byte(`{}`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Media.Audio.Enabled {
		t.Error("transcription is on with nothing to transcribe")
	}
	im := cfg.Media.Image
	if !im.Enabled || im.LongSide != 1600 || im.MaxPixels < 12_000_000 {
		t.Errorf("image = %+v: a 12-megapixel photo must pass and be scaled to 1600 pixels", im)
	}
	off, err := Parse("t", []byte(`{ tools: { media: { audio: { enabled: false, models: [{ type: "cli", command: "whisper-cli" }] }, image: { enabled: false } } } }`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if off.Media.Audio.Enabled || off.Media.Image.Enabled {
		t.Error("enabled: false did not turn media off")
	}
}

func TestLocalTranscriptionServer(t *testing.T) {
	cfg, err := Parse("t", []byte(`{
	  agents: { defaults: { model: "local/m" } },
	  models: { providers: {
	    local: { baseUrl: "http://127.0.0.1:1234/v1", api: "openai-responses", models: [{ id: "m" }] },
	    whisper: { baseUrl: "http://127.0.0.1:8080/v1", api: "openai-completions", models: [] },
	  } },
	  tools: { media: { audio: { language: "de", models: [{ provider: "whisper", model: "ggml-base", language: "en" }, { provider: "whisper", model: "ggml-small" }] } } },
	}`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	ts := cfg.Media.Audio.Transcribers
	if len(ts) != 2 || ts[0].Hosted() || ts[0].Language != "en" || ts[1].Language != "" || cfg.Media.Audio.Language != "de" {
		t.Errorf("entries = %+v, %+v: want local, with their own language over the section's", ts[0], ts[1])
	}
}

func TestMediaConfigErrors(t *testing.T) {
	tests := []struct {
		name, media, want string
	}{
		{"unknown provider", `{ audio: { models: [{ provider: "opnai", model: "whisper-1" }] } }`, `unknown provider "opnai" (did you mean "openai"?)`},
		{"anthropic has no speech to text", `{ audio: { models: [{ provider: "anthropic", model: "x" }] } }`, "no speech-to-text endpoint"},
		{"no model", `{ audio: { models: [{ provider: "openai" }] } }`, "needs the transcription model's id"},
		{"cli without command", `{ audio: { models: [{ type: "cli", args: ["x"] }] } }`, "needs the command to run"},
		{"unknown type", `{ audio: { models: [{ type: "deepgram" }] } }`, `must be "provider" or "cli"`},
		{"negative size", `{ audio: { maxBytes: -1 } }`, "tools.media.audio.maxBytes: must be a positive number"},
		{"tiny long side", `{ image: { longSide: 10 } }`, "between 256 and 8192"},
		{"unknown key", `{ audio: { maxByte: 10 } }`, `unknown key "maxByte" (did you mean "maxBytes"?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t", []byte(`{ tools: { media: `+tt.media+` } }`), noEnv)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to say %q", err, tt.want)
			}
		})
	}
}
