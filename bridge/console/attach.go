package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"waclaw/bridge"
)

// attachLine is a line that sends a file: "/attach PATH [caption]". A path
// with spaces is written in double quotes.
const attachCommand = "/attach"

// parseAttach splits "/attach PATH [caption]" into the path and the
// caption; ok is false for any other line.
func parseAttach(line string) (path, caption string, ok bool, err error) {
	rest, found := strings.CutPrefix(line, attachCommand)
	if !found || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
		return "", "", false, nil
	}
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return "", "", true, errors.New("usage: /attach PATH [caption] (a voice note, a picture or a text file)")
	}
	if rest[0] == '"' {
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return "", "", true, errors.New(`/attach: the path's closing quote (") is missing`)
		}
		return rest[1 : end+1], strings.TrimSpace(rest[end+2:]), true, nil
	}
	path, caption, _ = strings.Cut(rest, " ")
	return path, strings.TrimSpace(caption), true, nil
}

// attachFile describes the file at path as an attachment of kind (one of
// "audio", "image", "document", or "" to tell from its content), to be
// read when the bridge fetches it. The file must exist now.
func attachFile(path, kind string) (*bridge.Attachment, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such file", path)
	} else if err != nil {
		return nil, fmt.Errorf("attach %w", err) // "attach open PATH: permission denied"
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("attach %s: %w", path, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("attach %s: is a folder, not a file", path)
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("attach %s: %w", path, err)
	}
	mimeType := sniff(head[:n], path)
	a := &bridge.Attachment{MIME: mimeType, FileName: filepath.Base(path), Size: st.Size(), Fetch: readFile(path)}
	switch kind {
	case "":
		switch {
		case strings.HasPrefix(mimeType, "audio/"):
			a.Kind = bridge.AttachVoice
		case strings.HasPrefix(mimeType, "image/"):
			a.Kind = bridge.AttachImage
		default:
			a.Kind = bridge.AttachDocument
		}
	case "audio":
		a.Kind = bridge.AttachVoice
	case "image":
		a.Kind = bridge.AttachImage
	case "document":
		a.Kind = bridge.AttachDocument
	default:
		return nil, fmt.Errorf("attach %s: unknown kind %q", path, kind)
	}
	if a.Kind != bridge.AttachDocument {
		a.FileName = "" // a voice note or a photo has no name on WhatsApp
	}
	return a, nil
}

// sniff tells a file's type from its first bytes, as WhatsApp's apps
// declare it, and from its name for text.
func sniff(head []byte, path string) string {
	if bytes.HasPrefix(head, []byte("OggS")) {
		if bytes.Contains(head, []byte("OpusHead")) {
			return "audio/ogg; codecs=opus"
		}
		return "audio/ogg"
	}
	if t := http.DetectContentType(head); t != "application/octet-stream" && !strings.HasPrefix(t, "text/plain") {
		return t
	}
	if t := mime.TypeByExtension(filepath.Ext(path)); t != "" {
		return t
	}
	return http.DetectContentType(head)
}

// readFile fetches the file when the bridge reads it: the terminal's
// stand-in for a download.
func readFile(path string) func(ctx context.Context) ([]byte, error) {
	return func(ctx context.Context) ([]byte, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w: %w", path, bridge.ErrMediaGone, err)
		}
		return data, err
	}
}
