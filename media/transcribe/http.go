package transcribe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"

	"waclaw/config"
)

// maxAnswer bounds what is read of a server's answer: a transcript of the
// longest voice note allowed is a few tens of KB.
const maxAnswer = 1 << 20

// statusError is a server's answer with a status other than 2xx.
type statusError struct {
	code int
	msg  string // the server's message, one line, capped; may be ""
}

func (e *statusError) Error() string {
	if e.msg == "" {
		return fmt.Sprintf("HTTP %d", e.code)
	}
	return fmt.Sprintf("HTTP %d: %s", e.code, e.msg)
}

// answerError is an answer that is not a transcript, such as whisper.cpp's
// server's {"error":"..."} with HTTP 200.
type answerError struct{ msg string }

func (e *answerError) Error() string { return e.msg }

// post sends c to the entry's provider as an OpenAI-style transcription
// request and returns the text of its answer.
func (t *Transcriber) post(ctx context.Context, e *config.Transcriber, c Clip) (string, error) {
	body, contentType, err := t.form(e, c)
	if err != nil {
		return "", fmt.Errorf("failed to build the request: %w", err)
	}
	url := strings.TrimSuffix(e.Provider.BaseURL, "/") + "/audio/transcriptions"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, body)
	if err != nil {
		return "", fmt.Errorf("failed to build the request: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if e.Provider.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+e.Provider.APIKey)
	}
	for k, v := range e.Provider.Headers {
		req.Header.Set(k, v)
	}
	res, err := t.client.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return "", fmt.Errorf("failed to read the answer: %w", err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return "", &statusError{code: res.StatusCode, msg: errorMessage(raw)}
	}
	return answerText(res.Header.Get("Content-Type"), raw)
}

// form builds the multipart body: the audio as it came (servers that take
// Ogg/Opus need no conversion), the model, the language hint and the
// response format.
func (t *Transcriber) form(e *config.Transcriber, c Clip) (io.Reader, string, error) {
	var buf bytes.Buffer
	buf.Grow(len(c.Data) + 1024)
	w := multipart.NewWriter(&buf)
	mimeType := c.MIME
	if mimeType == "" {
		mimeType = "application/octet-stream"
	}
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", `form-data; name="file"; filename="voice`+extension(c)+`"`)
	h.Set("Content-Type", mimeType)
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(c.Data); err != nil {
		return nil, "", err
	}
	fields := [][2]string{{"model", e.Model}, {"language", t.language(e)}, {"response_format", "json"}}
	for _, f := range fields {
		if f[1] == "" {
			continue
		}
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return &buf, w.FormDataContentType(), nil
}

// extension is the file name extension servers expect for c's type: many
// decide the format by the name.
func extension(c Clip) string {
	mt, _, _ := mime.ParseMediaType(c.MIME)
	switch mt {
	case "audio/ogg", "audio/opus", "application/ogg":
		return ".ogg"
	case "audio/mpeg", "audio/mp3":
		return ".mp3"
	case "audio/mp4", "audio/m4a", "audio/x-m4a", "audio/aac":
		return ".m4a"
	case "audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave":
		return ".wav"
	case "audio/webm":
		return ".webm"
	case "audio/flac", "audio/x-flac":
		return ".flac"
	case "audio/amr":
		return ".amr"
	}
	if IsOggOpus(c.Data) {
		return ".ogg"
	}
	return ".bin"
}

// answerText reads a transcript from a 2xx answer: OpenAI's {"text": ...}
// or a plain body (response_format=text; whisper.cpp's server labels it
// text/html). A JSON object without text, such as whisper.cpp's
// {"error": ...} with HTTP 200, is an error.
func answerText(contentType string, raw []byte) (string, error) {
	trimmed := bytes.TrimSpace(raw)
	mt, _, _ := mime.ParseMediaType(contentType)
	if !bytes.HasPrefix(trimmed, []byte("{")) {
		if mt == "application/json" {
			return "", &answerError{msg: "the answer is not a JSON object: " + oneLine(string(raw), maxReason)}
		}
		return string(raw), nil
	}
	var v struct {
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(trimmed, &v); err != nil {
		if mt == "application/json" {
			return "", &answerError{msg: "the answer is malformed JSON: " + oneLine(err.Error(), maxReason)}
		}
		return string(raw), nil
	}
	if v.Text == nil {
		var e struct {
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(trimmed, &e) == nil && len(e.Error) > 0 {
			return "", &answerError{msg: "the server answered an error: " + errorMessage(raw)}
		}
		return "", &answerError{msg: "the answer has no text: " + oneLine(string(raw), maxReason)}
	}
	return *v.Text, nil
}

// errorMessage is the message of an error body: OpenAI's
// {"error":{"message"}}, {"error":"..."} (whisper.cpp, vLLM),
// {"detail":"..."} (FastAPI servers such as speaches), {"message":...},
// else the body itself; one line, capped.
func errorMessage(raw []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Detail  json.RawMessage `json:"detail"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(raw, &v) == nil {
		var s string
		var o struct {
			Message string `json:"message"`
		}
		switch {
		case json.Unmarshal(v.Error, &o) == nil && o.Message != "":
			return oneLine(o.Message, maxReason)
		case json.Unmarshal(v.Error, &s) == nil && s != "":
			return oneLine(s, maxReason)
		case json.Unmarshal(v.Detail, &s) == nil && s != "":
			return oneLine(s, maxReason)
		case len(v.Detail) > 0:
			return oneLine(string(v.Detail), maxReason)
		case v.Message != "":
			return oneLine(v.Message, maxReason)
		}
	}
	return oneLine(string(raw), maxReason)
}
