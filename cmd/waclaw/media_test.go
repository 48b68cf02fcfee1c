package main

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"waclaw/agent/agenttest"
)

// Voice notes, pictures and files through `waclaw chat --jsonl`, with the
// real config, store and bridge, a fake speech-to-text server and a fake
// model server. The owner writes in their self-chat; the files are the
// real ones in agenttest's testdata.

// mediaConfig writes a config with one local model at modelURL (input
// lists its input kinds) and tools.media as given.
func mediaConfig(t *testing.T, modelURL, input, providers, media string) string {
	t.Helper()
	src := fmt.Sprintf(`{
	  agents: { defaults: { model: { primary: "lmstudio/m", fallbacks: [] } } },
	  models: { mode: "replace", providers: {
	    lmstudio: { baseUrl: %q, api: "openai-responses", models: [{ id: "m", input: %s }] },
	    %s
	  } },
	  channels: { whatsapp: { } },
	  tools: { media: %s },
	}`, modelURL, input, providers, media)
	path := filepath.Join(t.TempDir(), "config.json5")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeFile puts data in a file of the test's and returns its path.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// ownerLine is a message from the owner in their self-chat, as a JSON
// line with extra fields (a file to send).
func ownerLine(id, text, extra string) string {
	line := fmt.Sprintf(`{"chat":"me","sender":"me","self":true,"selfChat":true,"id":%q,"text":%q`, id, text)
	if extra != "" {
		line += "," + extra
	}
	return line + "}"
}

// selfReplies runs lines through chat --jsonl and returns the replies to
// the owner's self-chat.
func selfReplies(t *testing.T, cfg, data string, lines ...string) []string {
	t.Helper()
	return jsonlLines(t, cfg, data, lines...)["me"]
}

func TestVoiceNoteAnsweredByFirstWorkingTranscriber(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "m")
	lm.SetDefault(agenttest.Reply{Text: "Paris."})
	stt := agenttest.NewTranscriber(t, agenttest.WhisperCpp)
	stt.Enqueue(agenttest.TranscriptReply{Text: " What is the capital of France?\n"})
	cfg := mediaConfig(t, lm.URL, `["text"]`, fmt.Sprintf(`
	    down: { baseUrl: %q, api: "openai-completions", models: [] },
	    whisper: { baseUrl: %q, api: "openai-completions", models: [] },`, agenttest.RefusedURL(t), stt.URL),
		`{ audio: { models: [ { provider: "down", model: "whisper-1" }, { provider: "whisper", model: "ggml-base" } ] } }`)
	voice := writeFile(t, "voice.ogg", agenttest.VoiceNote())

	got := selfReplies(t, cfg, t.TempDir(), ownerLine("V1", "", fmt.Sprintf(`"audio":%q`, voice)))

	if len(got) != 1 || !strings.HasPrefix(got[0], "Paris.") {
		t.Fatalf("replies = %q, want the model's answer to the voice note", got)
	}
	if !strings.Contains(got[0], "transcribed by whisper/ggml-base") {
		t.Errorf("reply %q does not say which transcriber heard it after the first failed", got[0])
	}
	reqs := stt.Requests()
	if len(reqs) != 1 || reqs[0].Model != "ggml-base" || reqs[0].Size != len(agenttest.VoiceNote()) {
		t.Fatalf("transcription requests = %+v, want the whole voice note once, for ggml-base", reqs)
	}
	calls := lm.Calls()
	if len(calls) != 1 {
		t.Fatalf("model calls = %d, want 1", len(calls))
	}
	_, msgs := calls[0].Decoded()
	if last := msgs[len(msgs)-1].Text; last != "[voice note] What is the capital of France?" {
		t.Errorf("the model was asked %q, want the transcript marked as a voice note", last)
	}
}

func TestSpokenCommandIsACommand(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "m")
	stt := agenttest.NewTranscriber(t, agenttest.WhisperCpp)
	stt.Enqueue(agenttest.TranscriptReply{Text: "/status"})
	cfg := mediaConfig(t, lm.URL, `["text"]`, fmt.Sprintf(`whisper: { baseUrl: %q, api: "openai-completions", models: [] },`, stt.URL),
		`{ audio: { models: [ { provider: "whisper", model: "ggml-base" } ] } }`)
	voice := writeFile(t, "voice.ogg", agenttest.VoiceNote())

	got := selfReplies(t, cfg, t.TempDir(), ownerLine("V1", "", fmt.Sprintf(`"audio":%q`, voice)))

	if len(got) != 1 || !strings.Contains(got[0], "**Model:**") {
		t.Fatalf("replies = %q, want /status's answer", got)
	}
	if n := len(lm.Calls()); n != 0 {
		t.Errorf("a spoken command reached the model %d times", n)
	}
}

func TestLocalOnlyChatNeverReachesHostedTranscription(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "m")
	hosted := agenttest.NewTranscriber(t, agenttest.OpenAIAudio)
	cfg := mediaConfig(t, lm.URL, `["text"]`, fmt.Sprintf(`cloud: { baseUrl: %q, api: "openai-completions", local: false, apiKey: %q, models: [] },`, hosted.URL, agenttest.TranscriptionAPIKey),
		`{ audio: { models: [ { provider: "cloud", model: "gpt-4o-mini-transcribe" } ] } }`)
	voice := writeFile(t, "voice.ogg", agenttest.VoiceNote())
	data := t.TempDir()

	got := selfReplies(t, cfg, data, ownerLine("P1", "/privacy local", ""), ownerLine("V1", "", fmt.Sprintf(`"audio":%q`, voice)))

	if len(got) != 2 || !strings.Contains(got[1], "local only") {
		t.Fatalf("replies = %q, want the local-only notice for the voice note", got)
	}
	if n := stt(hosted); n != 0 {
		t.Errorf("the hosted transcriber got %d requests from a local-only chat", n)
	}
	if n := len(lm.Calls()); n != 0 {
		t.Errorf("the model was asked %d times about a voice note nobody heard", n)
	}

	// The same chat set back to hosted-allowed is transcribed there.
	hosted.Enqueue(agenttest.TranscriptReply{Text: "hello"})
	got = selfReplies(t, cfg, data, ownerLine("P2", "/privacy default", ""), ownerLine("V2", "", fmt.Sprintf(`"audio":%q`, voice)))
	if n := stt(hosted); n != 1 {
		t.Errorf("after /privacy default the hosted transcriber got %d requests, want 1 (replies %q)", n, got)
	}
}

// stt is how many transcriptions a server was asked for.
func stt(s *agenttest.TranscriptionServer) int { return len(s.Requests()) }

func TestPictureReachesAModelThatCanSee(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "m")
	lm.SetDefault(agenttest.Reply{DescribeImages: true})
	cfg := mediaConfig(t, lm.URL, `["text", "image"]`, "", `{}`)
	photo := writeFile(t, "photo.jpg", agenttest.Photo())

	got := selfReplies(t, cfg, t.TempDir(), ownerLine("I1", "what is this?", fmt.Sprintf(`"image":%q`, photo)))

	calls := lm.Calls()
	if len(calls) != 1 {
		t.Fatalf("model calls = %d, want 1 (replies %q)", len(calls), got)
	}
	imgs := calls[0].Images()
	if len(imgs) != 1 {
		t.Fatalf("the model got %d images, want the photo", len(imgs))
	}
	cfgImg, format, err := image.DecodeConfig(bytes.NewReader(imgs[0].Data))
	if err != nil || format != "jpeg" || max(cfgImg.Width, cfgImg.Height) > 1600 {
		t.Errorf("the model got a %s of %dx%d (%v), want a JPEG at most 1600 pixels long", format, cfgImg.Width, cfgImg.Height, err)
	}
	_, msgs := calls[0].Decoded()
	if last := msgs[len(msgs)-1].Text; last != "[image] what is this?" {
		t.Errorf("the model's text with the picture is %q, want the caption marked as a picture", last)
	}
	if len(got) != 1 || !strings.Contains(got[0], "I see") {
		t.Errorf("replies = %q, want the model's description", got)
	}
}

func TestPictureToATextOnlyChain(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "m")
	cfg := mediaConfig(t, lm.URL, `["text"]`, "", `{}`)
	photo := writeFile(t, "photo.jpg", agenttest.Photo())

	got := selfReplies(t, cfg, t.TempDir(), ownerLine("I1", "what is this?", fmt.Sprintf(`"image":%q`, photo)))

	if len(got) != 1 || !strings.Contains(got[0], "can see pictures") {
		t.Fatalf("replies = %q, want a notice that no model here can see pictures", got)
	}
	if !strings.Contains(got[0], `input includes "image"`) {
		t.Errorf("the owner's notice %q does not say how to add a model that can see", got[0])
	}
	if n := len(lm.Calls()); n != 0 {
		t.Errorf("a text-only model was sent the picture %d times", n)
	}
}

func TestTooLargeFileNeverReachesAModel(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "m")
	stt := agenttest.NewTranscriber(t, agenttest.WhisperCpp)
	cfg := mediaConfig(t, lm.URL, `["text", "image"]`, fmt.Sprintf(`whisper: { baseUrl: %q, api: "openai-completions", models: [] },`, stt.URL),
		`{ audio: { maxBytes: 1000, models: [ { provider: "whisper", model: "ggml-base" } ] }, image: { maxBytes: 2000 } }`)
	voice := writeFile(t, "voice.ogg", agenttest.VoiceNote())
	photo := writeFile(t, "photo.jpg", agenttest.Photo())

	got := selfReplies(t, cfg, t.TempDir(),
		ownerLine("V1", "", fmt.Sprintf(`"audio":%q`, voice)),
		ownerLine("I1", "look", fmt.Sprintf(`"image":%q`, photo)))

	if len(got) != 2 || !strings.Contains(got[0], "too large") || !strings.Contains(got[1], "too large") {
		t.Fatalf("replies = %q, want both files refused as too large", got)
	}
	if !strings.Contains(got[0], "at most 1 KB") {
		t.Errorf("notice %q does not say the limit", got[0])
	}
	if n, m := len(stt.Requests()), len(lm.Calls()); n != 0 || m != 0 {
		t.Errorf("transcriptions = %d, model calls = %d: a refused file reached a model", n, m)
	}
}

func TestTextDocumentIsRead(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "m")
	lm.SetDefault(agenttest.Reply{Text: "Two items."})
	cfg := mediaConfig(t, lm.URL, `["text"]`, "", `{}`)
	list := writeFile(t, "shopping.md", []byte("# Shopping\n- eggs\n- milk\n"))
	pdf := writeFile(t, "report.pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"))

	got := selfReplies(t, cfg, t.TempDir(),
		ownerLine("D1", "how many items?", fmt.Sprintf(`"document":%q`, list)),
		ownerLine("D2", "", fmt.Sprintf(`"document":%q`, pdf)))

	if len(got) != 2 || got[0] != "Two items." || !strings.Contains(got[1], "PDF files") {
		t.Fatalf("replies = %q, want the answer about the list, then a notice about the PDF", got)
	}
	calls := lm.Calls()
	if len(calls) != 1 {
		t.Fatalf("model calls = %d, want 1: the PDF is not sent", len(calls))
	}
	_, msgs := calls[0].Decoded()
	want := "[document: shopping.md]\n# Shopping\n- eggs\n- milk\n[end of document]\n\nhow many items?"
	if last := msgs[len(msgs)-1].Text; last != want {
		t.Errorf("the model was asked %q, want %q", last, want)
	}
}

func TestChatRefusesAMissingFile(t *testing.T) {
	lm := agenttest.New(t, agenttest.LMStudio, "m")
	cfg := mediaConfig(t, lm.URL, `["text"]`, "", `{}`)
	out := jsonlOutput(t, cfg, t.TempDir(), ownerLine("X1", "", `"image":"/nonexistent/photo.jpg"`))
	if !strings.Contains(out, `"error"`) || !strings.Contains(out, "no such file") {
		t.Errorf("output %q: a missing file is not refused with the reason", out)
	}
}
