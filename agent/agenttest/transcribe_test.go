package agenttest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"waclaw/agent/agenttest"
)

// upload is one multipart transcription request; a nil file leaves the
// file part out, an empty model the model field.
type upload struct {
	file                    []byte
	model, format, language string
	auth                    string
}

// post sends u to s and returns the status, content type and body.
func post(t *testing.T, ctx context.Context, url string, u upload) (int, string, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if u.file != nil {
		fw, err := w.CreateFormFile("file", "voice.ogg")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(u.file)
	}
	for k, v := range map[string]string{"model": u.model, "response_format": u.format, "language": u.language} {
		if v != "" {
			w.WriteField(k, v)
		}
	}
	w.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/audio/transcriptions", &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	if u.auth != "" {
		req.Header.Set("Authorization", u.auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), string(body)
}

func TestTranscriptionServerAnswers(t *testing.T) {
	voice := agenttest.VoiceNote()
	key := "Bearer " + agenttest.TranscriptionAPIKey
	for _, tt := range []struct {
		name   string
		style  agenttest.TranscriberStyle
		reply  *agenttest.TranscriptReply
		up     upload
		status int
		ctype  string
		body   string
	}{
		{"whisper.cpp json", agenttest.WhisperCpp, nil, upload{file: voice, model: "whisper-1"},
			200, "application/json", `{"text":" What is the capital of France?\n"}`},
		{"whisper.cpp silence", agenttest.WhisperCpp, &agenttest.TranscriptReply{}, upload{file: voice, model: "whisper-1"},
			200, "application/json", `{"text":" [BLANK_AUDIO]\n"}`},
		{"whisper.cpp text is text/html", agenttest.WhisperCpp, nil, upload{file: voice, model: "whisper-1", format: "text"},
			200, "text/html; charset=utf-8", " What is the capital of France?\n"},
		{"whisper.cpp no file: an error in a 200", agenttest.WhisperCpp, nil, upload{model: "whisper-1"},
			200, "application/json", `{"error":"no 'file' field in the request"}`},
		{"whisper.cpp not Ogg", agenttest.WhisperCpp, nil, upload{file: []byte("RIFF....WAVEfmt "), model: "whisper-1"},
			200, "application/json", `{"error":"Failed to execute ffmpeg command."}`},
		{"whisper.cpp scripted 500", agenttest.WhisperCpp, &agenttest.TranscriptReply{Status: 500}, upload{file: voice, model: "m"},
			500, "application/json", `{"error":"failed to process audio"}`},
		{"openai json", agenttest.OpenAIAudio, nil, upload{file: voice, model: "whisper-1", auth: key},
			200, "application/json", `{"text":"What is the capital of France?"}`},
		{"openai silence", agenttest.OpenAIAudio, &agenttest.TranscriptReply{}, upload{file: voice, model: "whisper-1", auth: key},
			200, "application/json", `{"text":""}`},
		{"openai wrong key", agenttest.OpenAIAudio, nil, upload{file: voice, model: "whisper-1", auth: "Bearer sk-wrong-1234567890"},
			401, "application/json", `{"error":{"message":"Incorrect API key provided: sk-************7890. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`},
		{"openai no model", agenttest.OpenAIAudio, nil, upload{file: voice, auth: key},
			400, "application/json", `{"error":{"message":"you must provide a model parameter","type":"invalid_request_error","param":null,"code":null}}`},
		{"openai not Ogg", agenttest.OpenAIAudio, nil, upload{file: []byte("ID3\x04 not ogg at all, an mp3 header"), model: "whisper-1", auth: key},
			400, "application/json", `{"error":{"message":"Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']","type":"invalid_request_error","param":null,"code":null}}`},
		{"openai scripted plain body", agenttest.OpenAIAudio, &agenttest.TranscriptReply{Body: "Bonjour\n"}, upload{file: voice, model: "whisper-1", auth: key},
			200, "text/plain; charset=utf-8", "Bonjour\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := agenttest.NewTranscriber(t, tt.style)
			if tt.reply != nil {
				s.Enqueue(*tt.reply)
			}
			status, ctype, body := post(t, t.Context(), s.URL, tt.up)
			if status != tt.status || ctype != tt.ctype || body != tt.body {
				t.Errorf("POST = %d %q %s; want %d %q %s", status, ctype, body, tt.status, tt.ctype, tt.body)
			}
		})
	}
}

func TestTranscriptionServerRecords(t *testing.T) {
	s := agenttest.NewTranscriber(t, agenttest.OpenAIAudio)
	voice := agenttest.VoiceNote()
	post(t, t.Context(), s.URL, upload{file: voice, model: "gpt-4o-mini-transcribe", format: "json", language: "fr", auth: "Bearer " + agenttest.TranscriptionAPIKey})
	got := s.Requests()
	if len(got) != 1 || s.Calls() != 1 {
		t.Fatalf("Requests() = %d, Calls() = %d; want 1 and 1", len(got), s.Calls())
	}
	r := got[0]
	if r.Model != "gpt-4o-mini-transcribe" || r.Language != "fr" || r.ResponseFormat != "json" ||
		r.FileName != "voice.ogg" || r.Size != len(voice) || r.Sum != sha256.Sum256(voice) ||
		r.Auth != "Bearer "+agenttest.TranscriptionAPIKey {
		t.Errorf("Requests()[0] = %+v; want the request as sent", r)
	}
}

func TestTranscriptionServerTooLarge(t *testing.T) {
	s := agenttest.NewTranscriber(t, agenttest.OpenAIAudio)
	big := append(agenttest.VoiceNote(), make([]byte, 25<<20)...)
	status, _, body := post(t, t.Context(), s.URL, upload{file: big, model: "whisper-1", auth: "Bearer " + agenttest.TranscriptionAPIKey})
	var e struct{ Error struct{ Message string } }
	json.Unmarshal([]byte(body), &e)
	if status != 413 || !strings.Contains(e.Error.Message, "Maximum content size limit (26214400) exceeded") {
		t.Errorf("POST of 25 MB + a voice note = %d %s; want 413 with OpenAI's message", status, body)
	}
}

func TestTranscriptionServerHangEndsOnClose(t *testing.T) {
	s := agenttest.NewTranscriber(t, agenttest.WhisperCpp)
	s.Enqueue(agenttest.TranscriptReply{Hang: true})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		fw, _ := w.CreateFormFile("file", "voice.ogg")
		fw.Write(agenttest.VoiceNote())
		w.WriteField("model", "m")
		w.Close()
		res, err := http.Post(s.URL+"/audio/transcriptions", w.FormDataContentType(), &buf)
		if err == nil {
			res.Body.Close()
		}
	}()
	for s.Calls() == 0 {
		time.Sleep(time.Millisecond)
	}
	select {
	case <-done:
		t.Fatal("a hanging reply answered")
	case <-time.After(50 * time.Millisecond):
	}
	s.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a hung request outlived Close")
	}
}

func TestVoiceNotes(t *testing.T) {
	for name, get := range map[string]func() []byte{"VoiceNote": agenttest.VoiceNote, "VoiceNoteMinute": agenttest.VoiceNoteMinute} {
		a := get()
		if !bytes.HasPrefix(a, []byte("OggS")) || !bytes.Contains(a[:100], []byte("OpusHead")) {
			t.Errorf("%s() does not start with an OpusHead page", name)
		}
		a[0] = 'X'
		if b := get(); b[0] != 'O' {
			t.Errorf("%s() returned the embedded bytes, not a copy", name)
		}
	}
}
