package agenttest

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestImagesReadsEveryWireShape(t *testing.T) {
	png := PNG()
	b64 := base64.StdEncoding.EncodeToString(png)
	tests := []struct {
		name, body string
		want       string // Describe()
		detail     string
	}{
		{"responses", `{"input":[{"role":"user","content":"hi"},{"role":"user","content":[{"type":"input_text","text":"look"},{"type":"input_image","detail":"low","image_url":"data:image/png;base64,` + b64 + `"}]}]}`,
			"I see a 800x600 image/png.", "low"},
		{"chat completions", `{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,` + b64 + `","detail":"high"}}]}]}`,
			"I see a 800x600 image/png.", "high"},
		{"anthropic", `{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` + b64 + `"}},{"type":"text","text":"look"}]}]}`,
			"I see a 800x600 image/png.", ""},
		{"text only", `{"input":[{"role":"user","content":"hi"}]}`, "I see no picture.", ""},
		{"a URL, not data", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}`,
			"I see an unreadable picture.", ""},
		{"bytes that are no picture", `{"input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/jpeg;base64,aGVsbG8="}]}]}`,
			"I see an unreadable image/jpeg.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Request{Body: []byte(tt.body)}
			if got := r.Describe(); got != tt.want {
				t.Errorf("Describe() = %q; want %q", got, tt.want)
			}
			imgs := r.Images()
			if strings.HasPrefix(tt.want, "I see a ") && (len(imgs) != 1 || string(imgs[0].Data) != string(png) || imgs[0].Detail != tt.detail) {
				t.Errorf("Images() = %d parts (detail %q); want the PNG once, detail %q", len(imgs), detailOf(imgs), tt.detail)
			}
		})
	}
}

func detailOf(imgs []ImagePart) string {
	if len(imgs) == 0 {
		return ""
	}
	return imgs[0].Detail
}
