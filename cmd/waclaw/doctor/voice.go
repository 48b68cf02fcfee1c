package doctor

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os/exec"
	"strings"

	"waclaw/config"
)

// checkVoice checks each way voice notes are transcribed: that a server
// answers at its /audio/transcriptions endpoint (an empty request gets a
// 400 from every server that has one), or that a command is installed.
// None is required: without one, voice notes get a notice.
func (d *doctor) checkVoice(ctx context.Context, cfg *config.Config) {
	a := cfg.Media.Audio
	if !a.Enabled {
		return // config check says so; nothing here to reach
	}
	for i, t := range a.Transcribers {
		name := "voice: " + t.Name()
		path := fmt.Sprintf("tools.media.audio.models[%d]", i)
		if t.Provider == nil {
			if found, err := exec.LookPath(t.Command); err != nil {
				d.add(Check{Name: name, Status: Warn, Detail: fmt.Sprintf("%s is not installed here (not found on PATH)", t.Command),
					Advice: fmt.Sprintf("install it, or give its full path in %s.command", path)})
			} else {
				d.add(Check{Name: name, Status: OK, Detail: "installed at " + found})
			}
			continue
		}
		d.add(d.checkTranscriptionServer(ctx, name, t))
	}
}

// checkTranscriptionServer sends an empty transcription request: a server
// with the endpoint refuses it (400, 415, 422), a wrong base URL gets a
// 404, a refused key a 401.
func (d *doctor) checkTranscriptionServer(ctx context.Context, name string, t *config.Transcriber) Check {
	p := t.Provider
	u := strings.TrimRight(p.BaseURL, "/") + "/audio/transcriptions"
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("model", t.Model)
	_ = mw.Close()
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, &body)
	if err != nil {
		return Check{Name: name, Status: Warn, Detail: err.Error(), Advice: baseURLAdvice(p)}
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	authorize(req, p)
	res, err := d.HTTPClient.Do(req)
	if err != nil {
		return Check{Name: name, Status: Warn, Detail: fmt.Sprintf("%s: %s", u, netReason(err, d.Timeout)),
			Advice: fmt.Sprintf("start the speech-to-text server, or %s", baseURLAdvice(p))}
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	where := "local"
	if t.Hosted() {
		where = "hosted: voice notes leave this computer, except in /privacy local chats"
	}
	switch {
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
		return Check{Name: name, Status: Warn, Detail: fmt.Sprintf("%s refused the key (HTTP %d)", u, res.StatusCode), Advice: keyAdvice(p)}
	case res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusMethodNotAllowed:
		return Check{Name: name, Status: Warn, Detail: fmt.Sprintf("%s: HTTP %d, no transcription endpoint there", u, res.StatusCode),
			Advice: fmt.Sprintf("check models.providers.%s.baseUrl (whisper.cpp's server needs --inference-path /v1/audio/transcriptions)", p.ID)}
	case res.StatusCode >= 500:
		return Check{Name: name, Status: Warn, Detail: fmt.Sprintf("%s: HTTP %d", u, res.StatusCode), Advice: "look at the speech-to-text server's log"}
	}
	return Check{Name: name, Status: OK, Detail: fmt.Sprintf("%s answers (%s)", u, where)}
}
