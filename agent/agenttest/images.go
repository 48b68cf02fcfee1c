package agenttest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	_ "image/gif" // registered for image.DecodeConfig
	_ "image/jpeg"
	_ "image/png"
	"strings"
)

// ImagePart is one picture a request carried, whatever its wire format.
type ImagePart struct {
	// MIME is the picture's media type, from the data URL or Anthropic's
	// media_type.
	MIME string
	// Data is the picture's bytes, decoded from base64.
	Data []byte
	// Detail is the detail level asked for ("auto", "low", "high"); ""
	// when the format has none or the request left it out.
	Detail string
	// Err says why the part could not be read: a URL that is not a
	// base64 data URL, or bad base64. MIME and Data are then empty.
	Err error
}

// Images returns the pictures of the request's messages, in order: the
// input_image parts of a Responses "input" (image_url is a data URL), the
// image_url parts of a Chat Completions "messages" list, and the base64
// image blocks of an Anthropic "messages" list. Messages with string
// content carry none.
func (r Request) Images() []ImagePart {
	var body struct {
		Input    []struct{ Content json.RawMessage } `json:"input"`
		Messages []struct{ Content json.RawMessage } `json:"messages"`
	}
	if json.Unmarshal(r.Body, &body) != nil {
		return nil
	}
	var out []ImagePart
	for _, msg := range append(body.Input, body.Messages...) {
		var parts []struct {
			Type     string          `json:"type"`
			ImageURL json.RawMessage `json:"image_url"` // Responses: a string; chat: {url, detail}
			Detail   string          `json:"detail"`
			Source   struct {
				Type      string `json:"type"`
				MediaType string `json:"media_type"`
				Data      string `json:"data"`
			} `json:"source"`
		}
		if json.Unmarshal(msg.Content, &parts) != nil {
			continue // string content
		}
		for _, p := range parts {
			switch p.Type {
			case "input_image":
				var url string
				_ = json.Unmarshal(p.ImageURL, &url)
				out = append(out, fromDataURL(url, p.Detail))
			case "image_url":
				var u struct{ URL, Detail string }
				_ = json.Unmarshal(p.ImageURL, &u)
				out = append(out, fromDataURL(u.URL, u.Detail))
			case "image":
				part := ImagePart{MIME: p.Source.MediaType}
				if p.Source.Type != "base64" {
					part = ImagePart{Err: fmt.Errorf("image source of type %q, not base64", p.Source.Type)}
				} else if data, err := base64.StdEncoding.DecodeString(p.Source.Data); err != nil {
					part = ImagePart{Err: fmt.Errorf("image data is not base64: %w", err)}
				} else {
					part.Data = data
				}
				out = append(out, part)
			}
		}
	}
	return out
}

// fromDataURL reads "data:MIME;base64,DATA".
func fromDataURL(url, detail string) ImagePart {
	head, data, ok := strings.Cut(strings.TrimPrefix(url, "data:"), ",")
	mime, isBase64 := strings.CutSuffix(head, ";base64")
	if !strings.HasPrefix(url, "data:") || !ok || !isBase64 {
		return ImagePart{Detail: detail, Err: fmt.Errorf("image URL is not a base64 data URL: %.40q", url)}
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return ImagePart{Detail: detail, Err: fmt.Errorf("image data URL is not base64: %w", err)}
	}
	return ImagePart{MIME: mime, Data: b, Detail: detail}
}

// Describe is what a model that looked answers with [Reply.DescribeImages]:
// "I see a 1600x1200 image/jpeg." for each picture the request carried
// (the size read from the picture's own bytes), "I see an unreadable
// image/png." for one that does not decode ("an unreadable picture" when
// it is not inline data), or "I see no picture." when
// there is none.
func (r Request) Describe() string {
	parts := r.Images()
	if len(parts) == 0 {
		return "I see no picture."
	}
	var out []string
	for _, p := range parts {
		cfg, _, err := image.DecodeConfig(bytes.NewReader(p.Data))
		if p.Err != nil || err != nil {
			what := p.MIME
			if what == "" {
				what = "picture"
			}
			out = append(out, fmt.Sprintf("I see an unreadable %s.", what))
			continue
		}
		out = append(out, fmt.Sprintf("I see a %dx%d %s.", cfg.Width, cfg.Height, p.MIME))
	}
	return strings.Join(out, " ")
}
