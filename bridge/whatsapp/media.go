package whatsapp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waMmsRetry"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"waclaw/bridge"
)

// The files messages carry: described for the bridge when the message
// arrives, downloaded only when the bridge asks (Attachment.Fetch).
// WhatsApp keeps a file on its media servers for a few weeks; after that
// the linked account's phone, which keeps its own copy, can be asked to
// upload it again (a media retry receipt).

// mediaRetryWait bounds the wait for the phone to upload an expired file
// again.
const mediaRetryWait = 30 * time.Second

// errClosed ends a wait for the phone when the adapter closes.
var errClosed = errors.New("the WhatsApp adapter was closed")

// maxDeclared bounds the sender's words about a file (its MIME type and
// name) that are kept: a name is for people, not a place to store text.
const maxDeclared = 255

// attachmentOf describes the file a message carries, when the bridge can
// read that kind, and returns the part of the message whatsmeow downloads.
// Video, video notes and anything else are not described (nil). Nothing
// that fetches the file (its media key, URL or direct path) is in the
// description.
func attachmentOf(m *waE2E.Message) (*bridge.Attachment, whatsmeow.DownloadableMessage) {
	switch {
	case m.GetImageMessage() != nil:
		x := m.GetImageMessage()
		return &bridge.Attachment{
			Kind: bridge.AttachImage, MIME: declared(x.GetMimetype()), Size: fileSize(x.GetFileLength()),
			Width: int(x.GetWidth()), Height: int(x.GetHeight()),
		}, x
	case m.GetAudioMessage() != nil:
		x := m.GetAudioMessage()
		kind := bridge.AttachAudio
		if x.GetPTT() {
			kind = bridge.AttachVoice
		}
		return &bridge.Attachment{
			Kind: kind, MIME: declared(x.GetMimetype()), Size: fileSize(x.GetFileLength()), Seconds: int(x.GetSeconds()),
		}, x
	case m.GetDocumentMessage() != nil:
		x := m.GetDocumentMessage()
		return &bridge.Attachment{
			Kind: bridge.AttachDocument, MIME: declared(x.GetMimetype()), Size: fileSize(x.GetFileLength()),
			// Older apps put the name in the title only.
			FileName: declared(cmp.Or(x.GetFileName(), x.GetTitle())),
		}, x
	case m.GetStickerMessage() != nil:
		// An animated sticker is still one WebP file; the bridge decides
		// what to make of it.
		x := m.GetStickerMessage()
		return &bridge.Attachment{
			Kind: bridge.AttachSticker, MIME: declared(x.GetMimetype()), Size: fileSize(x.GetFileLength()),
			Width: int(x.GetWidth()), Height: int(x.GetHeight()),
		}, x
	}
	return nil, nil
}

// fileSize is a declared file length as the bridge counts it. A length
// too large for an int64 is taken as the largest: the bridge refuses it
// as too large rather than reading it as negative.
func fileSize(n uint64) int64 {
	if n > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(n)
}

// declared is a string the sender's app declared about a file, made valid
// UTF-8 and cut to maxDeclared bytes.
func declared(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxDeclared {
		return s
	}
	cut := maxDeclared
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.Clone(s[:cut])
}

// attachment describes the file evt carries, if any, with a Fetch that
// downloads it. media is the kind contentOf found: a message with more
// than one part is described by the part the rest of the adapter reads.
func (a *Adapter) attachment(evt *events.Message, media string) *bridge.Attachment {
	att, file := attachmentOf(evt.Message)
	if att == nil || att.Kind != media {
		return nil
	}
	info := evt.Info
	att.Fetch = func(ctx context.Context) ([]byte, error) {
		data, err := a.fetch(ctx, &info, file)
		if err != nil {
			return nil, downloadError{err: fmt.Errorf("download the %s: %w", media, err), hide: []string{file.GetDirectPath(), urlOf(file)}}
		}
		return data, nil
	}
	return att
}

// fetch downloads a file. When WhatsApp's servers no longer have it, the
// phone is asked to upload it again, and it is downloaded from where the
// phone put it; failing that, the error wraps bridge.ErrMediaGone.
func (a *Adapter) fetch(ctx context.Context, info *types.MessageInfo, file whatsmeow.DownloadableMessage) ([]byte, error) {
	data, err := a.download(ctx, file)
	if !expired(err) {
		return data, err
	}
	a.log.Debug("whatsapp: a file is no longer on WhatsApp's servers; asking the phone for it", "id", info.ID, "err", err)
	fresh, rerr := a.reupload(ctx, info, file)
	switch {
	case rerr == nil:
	case ctx.Err() != nil:
		return nil, fmt.Errorf("wait for the phone to upload the file again: %w", ctx.Err())
	case errors.Is(rerr, errClosed), errors.Is(rerr, whatsmeow.ErrNotConnected):
		// Not the file's fault: asked again later, the phone may answer.
		return nil, fmt.Errorf("ask the phone to upload the file again: %w", rerr)
	default:
		// The phone said no, or did not answer in time: the sender is
		// asked to send the file again rather than kept waiting.
		return nil, fmt.Errorf("%w: %w (and the phone did not upload it again: %w)", bridge.ErrMediaGone, err, rerr)
	}
	data, err = a.download(ctx, fresh)
	if expired(err) {
		return nil, fmt.Errorf("%w after the phone uploaded it again: %w", bridge.ErrMediaGone, err)
	}
	return data, err
}

// download is whatsmeow's Download, which tries each of WhatsApp's media
// hosts in turn and checks the file's MAC and hashes. A file whose MAC is
// right but whose length or plaintext hash differs from what the sender
// declared is still the sender's file (whatsmeow returns it with a
// warning, and WhatsApp's apps show it), so it is taken.
func (a *Adapter) download(ctx context.Context, file whatsmeow.DownloadableMessage) ([]byte, error) {
	data, err := a.cli.Download(ctx, file)
	if err != nil && data != nil &&
		(errors.Is(err, whatsmeow.ErrFileLengthMismatch) || errors.Is(err, whatsmeow.ErrInvalidMediaSHA256)) {
		a.log.Debug("whatsapp: a file does not match what its sender declared; taking it", "err", err)
		return data, nil
	}
	if err != nil {
		return nil, err
	}
	return data, nil
}

// expired reports whether a download failed because WhatsApp's servers
// no longer have the file, or the message names none. whatsmeow tries no
// other host after a 403, 404 or 410: each means the file behind the
// address is gone (WhatsApp answers an expired address with any of the
// three), so trying again later cannot help.
func expired(err error) bool {
	return errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith403) ||
		errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith404) ||
		errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith410) ||
		errors.Is(err, whatsmeow.ErrNoURLPresent)
}

// reupload asks the linked account's phone to upload a file again and
// returns the message's file part with the new direct path. The phone
// answers with an events.MediaRetry, encrypted with the file's media key.
func (a *Adapter) reupload(ctx context.Context, info *types.MessageInfo, file whatsmeow.DownloadableMessage) (whatsmeow.DownloadableMessage, error) {
	key := file.GetMediaKey()
	if len(key) == 0 {
		return nil, errors.New("the message has no media key")
	}
	answers, done := a.awaitMediaRetry(info.ID)
	defer done()
	if err := a.cli.SendMediaRetryReceipt(ctx, info, key); err != nil {
		return nil, fmt.Errorf("send a media retry receipt: %w", err)
	}
	wait, cancel := context.WithTimeout(ctx, a.retryWait)
	defer cancel()
	for {
		select {
		case evt := <-answers:
			notif, err := whatsmeow.DecryptMediaRetryNotification(evt, key)
			switch {
			case errors.Is(err, whatsmeow.ErrMediaNotAvailableOnPhone), errors.Is(err, whatsmeow.ErrUnknownMediaRetryError):
				return nil, err
			case err != nil:
				// Not encrypted with this file's key: an answer about
				// another file with the same message id.
				continue
			case notif.GetResult() != waMmsRetry.MediaRetryNotification_SUCCESS || notif.GetDirectPath() == "":
				return nil, fmt.Errorf("the phone answered %s", notif.GetResult())
			}
			return withDirectPath(file, notif.GetDirectPath())
		case <-wait.Done():
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("the phone did not answer within %s", a.retryWait)
		case <-a.ctx.Done():
			return nil, errClosed
		}
	}
}

// awaitMediaRetry registers for the phone's answers about message id
// until done is called.
func (a *Adapter) awaitMediaRetry(id types.MessageID) (<-chan *events.MediaRetry, func()) {
	ch := make(chan *events.MediaRetry, 4)
	a.mu.Lock()
	a.retries[id] = append(a.retries[id], ch)
	a.mu.Unlock()
	return ch, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		rest := a.retries[id][:0]
		for _, c := range a.retries[id] {
			if c != ch {
				rest = append(rest, c)
			}
		}
		if len(rest) == 0 {
			delete(a.retries, id)
			return
		}
		a.retries[id] = rest
	}
}

// handleMediaRetry passes the phone's answer to a media retry receipt to
// the downloads waiting for it; an answer nobody waits for is dropped.
func (a *Adapter) handleMediaRetry(evt *events.MediaRetry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ch := range a.retries[evt.MessageID] {
		select {
		case ch <- evt:
		default:
		}
	}
}

// withDirectPath is a copy of file that downloads from path. The old URL
// is dropped: whatsmeow prefers a URL to the direct path.
func withDirectPath(file whatsmeow.DownloadableMessage, path string) (whatsmeow.DownloadableMessage, error) {
	pm, ok := file.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("no direct path for a %T", file)
	}
	switch m := proto.Clone(pm).(type) {
	case *waE2E.ImageMessage:
		m.DirectPath, m.URL = &path, nil
		return m, nil
	case *waE2E.AudioMessage:
		m.DirectPath, m.URL = &path, nil
		return m, nil
	case *waE2E.DocumentMessage:
		m.DirectPath, m.URL = &path, nil
		return m, nil
	case *waE2E.StickerMessage:
		m.DirectPath, m.URL = &path, nil
		return m, nil
	}
	return nil, fmt.Errorf("no direct path for a %T", file)
}

// urlOf is a file's URL, "" for none.
func urlOf(file whatsmeow.DownloadableMessage) string {
	if u, ok := file.(interface{ GetURL() string }); ok {
		return u.GetURL()
	}
	return ""
}

// urlLike finds web addresses, whose path and query name a file on
// WhatsApp's servers (and carry its access token).
var urlLike = regexp.MustCompile(`(https?|wss?)://(?:[^/\s"'@]*@)?([A-Za-z0-9.:\[\]-]+)[^\s"']*`)

// hideURLs shortens each web address in s to its host.
func hideURLs(s string) string {
	return urlLike.ReplaceAllString(s, "$1://$2/…")
}

// downloadError is a failed download's error with the file's address
// (whatsmeow's errors quote the URL they asked) and the JIDs and numbers
// in its text hidden: the bridge logs it. errors.Is and errors.As still
// see whatsmeow's error.
type downloadError struct {
	err  error
	hide []string // the file's direct path and URL
}

func (e downloadError) Error() string {
	s := hideURLs(e.err.Error())
	for _, h := range e.hide {
		if h != "" {
			s = strings.ReplaceAll(s, h, "…")
		}
	}
	return redact(s)
}

func (e downloadError) Unwrap() error { return e.err }
