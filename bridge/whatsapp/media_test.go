package whatsapp

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waMmsRetry"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"waclaw/bridge"
)

// What a file's message carries that fetches it, as WhatsApp sends it:
// none of it may reach the inbox or the logs.
var (
	mediaKey   = []byte("0123456789abcdef0123456789abcdef")
	encSHA256  = sha256.Sum256([]byte("ciphertext"))
	fileSHA256 = sha256.Sum256([]byte("plaintext"))
	directPath = "/v/t62.7117-24/24801234_1234567890123456_1234567890123456789_n.enc?ccb=11-4&oh=01_Q5AaSECRETTOKEN&oe=68A1B2C3&_nc_sid=5e03e0"
	mediaURL   = "https://mmg.whatsapp.net" + directPath + "&mms3=true"
)

// voiceNote is a push-to-talk recording as WhatsApp's phone app sends it.
func voiceNote() *waE2E.Message {
	return &waE2E.Message{AudioMessage: &waE2E.AudioMessage{
		URL:               proto.String(mediaURL),
		Mimetype:          proto.String("audio/ogg; codecs=opus"),
		FileSHA256:        fileSHA256[:],
		FileLength:        proto.Uint64(18734),
		Seconds:           proto.Uint32(7),
		PTT:               proto.Bool(true),
		MediaKey:          mediaKey,
		FileEncSHA256:     encSHA256[:],
		DirectPath:        proto.String(directPath),
		MediaKeyTimestamp: proto.Int64(1772366400),
		Waveform:          []byte{0, 3, 9, 27, 40, 12},
	}}
}

func photo(caption string, ci *waE2E.ContextInfo) *waE2E.Message {
	return &waE2E.Message{ImageMessage: &waE2E.ImageMessage{
		URL: proto.String(mediaURL), Mimetype: proto.String("image/jpeg"), Caption: proto.String(caption),
		FileSHA256: fileSHA256[:], FileLength: proto.Uint64(204800), Height: proto.Uint32(1600), Width: proto.Uint32(1200),
		MediaKey: mediaKey, FileEncSHA256: encSHA256[:], DirectPath: proto.String(directPath),
		MediaKeyTimestamp: proto.Int64(1772366400), JPEGThumbnail: []byte{0xff, 0xd8, 0xff}, ContextInfo: ci,
	}}
}

func sticker() *waE2E.Message {
	return &waE2E.Message{StickerMessage: &waE2E.StickerMessage{
		URL: proto.String(mediaURL), FileSHA256: fileSHA256[:], FileEncSHA256: encSHA256[:], MediaKey: mediaKey,
		Mimetype: proto.String("image/webp"), Height: proto.Uint32(512), Width: proto.Uint32(512),
		DirectPath: proto.String(directPath), FileLength: proto.Uint64(23110), MediaKeyTimestamp: proto.Int64(1772366400),
		IsAnimated: proto.Bool(true),
	}}
}

func document(caption string) *waE2E.DocumentMessage {
	return &waE2E.DocumentMessage{
		URL: proto.String(mediaURL), Mimetype: proto.String("application/pdf"), Title: proto.String("Invoice March"),
		FileSHA256: fileSHA256[:], FileLength: proto.Uint64(91234), PageCount: proto.Uint32(2), MediaKey: mediaKey,
		FileName: proto.String("invoice-march.pdf"), FileEncSHA256: encSHA256[:], DirectPath: proto.String(directPath),
		MediaKeyTimestamp: proto.Int64(1772366400), Caption: proto.String(caption),
	}
}

func TestInboundAttachment(t *testing.T) {
	tests := []struct {
		name string
		raw  *waE2E.Message
		want bridge.Inbound
		file func(m *waE2E.Message) whatsmeow.DownloadableMessage // the part Fetch downloads
	}{
		{
			name: "voice note",
			raw:  voiceNote(),
			want: func() bridge.Inbound {
				in := attached(aliceDM(""), bridge.AttachVoice)
				in.Attachment.MIME, in.Attachment.Size, in.Attachment.Seconds = "audio/ogg; codecs=opus", 18734, 7
				return in
			}(),
			file: func(m *waE2E.Message) whatsmeow.DownloadableMessage { return m.GetAudioMessage() },
		},
		{
			name: "audio file",
			raw: &waE2E.Message{AudioMessage: &waE2E.AudioMessage{
				URL: proto.String(mediaURL), Mimetype: proto.String("audio/mpeg"), FileLength: proto.Uint64(3000000),
				Seconds: proto.Uint32(185), MediaKey: mediaKey, DirectPath: proto.String(directPath)}},
			want: func() bridge.Inbound {
				in := attached(aliceDM(""), bridge.AttachAudio)
				in.Attachment.MIME, in.Attachment.Size, in.Attachment.Seconds = "audio/mpeg", 3000000, 185
				return in
			}(),
			file: func(m *waE2E.Message) whatsmeow.DownloadableMessage { return m.GetAudioMessage() },
		},
		{
			name: "picture with a caption",
			raw:  photo("what is this?", nil),
			want: func() bridge.Inbound {
				in := attached(aliceDM("what is this?"), bridge.AttachImage)
				in.Attachment.MIME, in.Attachment.Size, in.Attachment.Width, in.Attachment.Height = "image/jpeg", 204800, 1200, 1600
				return in
			}(),
			file: func(m *waE2E.Message) whatsmeow.DownloadableMessage { return m.GetImageMessage() },
		},
		{
			name: "animated sticker",
			raw:  sticker(),
			want: func() bridge.Inbound {
				in := attached(aliceDM(""), bridge.AttachSticker)
				in.Attachment.MIME, in.Attachment.Size, in.Attachment.Width, in.Attachment.Height = "image/webp", 23110, 512, 512
				return in
			}(),
			file: func(m *waE2E.Message) whatsmeow.DownloadableMessage { return m.GetStickerMessage() },
		},
		{
			name: "document",
			raw:  &waE2E.Message{DocumentMessage: document("")},
			want: func() bridge.Inbound {
				in := attached(aliceDM(""), bridge.AttachDocument)
				in.Attachment.MIME, in.Attachment.Size, in.Attachment.FileName = "application/pdf", 91234, "invoice-march.pdf"
				return in
			}(),
			file: func(m *waE2E.Message) whatsmeow.DownloadableMessage { return m.GetDocumentMessage() },
		},
		{
			// How the apps send a document with a caption.
			name: "document with a caption",
			raw:  &waE2E.Message{DocumentWithCaptionMessage: &waE2E.FutureProofMessage{Message: &waE2E.Message{DocumentMessage: document("pay by Friday?")}}},
			want: func() bridge.Inbound {
				in := attached(aliceDM("pay by Friday?"), bridge.AttachDocument)
				in.Attachment.MIME, in.Attachment.Size, in.Attachment.FileName = "application/pdf", 91234, "invoice-march.pdf"
				return in
			}(),
			file: func(m *waE2E.Message) whatsmeow.DownloadableMessage {
				return m.GetDocumentWithCaptionMessage().GetMessage().GetDocumentMessage()
			},
		},
		{
			name: "document named only by its title",
			raw: &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{
				Title: proto.String("notes.txt"), Mimetype: proto.String("text/plain"), MediaKey: mediaKey, DirectPath: proto.String(directPath)}},
			want: func() bridge.Inbound {
				in := attached(aliceDM(""), bridge.AttachDocument)
				in.Attachment.MIME, in.Attachment.FileName = "text/plain", "notes.txt"
				return in
			}(),
			file: func(m *waE2E.Message) whatsmeow.DownloadableMessage { return m.GetDocumentMessage() },
		},
		{
			name: "video: no attachment",
			raw: &waE2E.Message{VideoMessage: &waE2E.VideoMessage{
				URL: proto.String(mediaURL), Mimetype: proto.String("video/mp4"), Caption: proto.String("look"), MediaKey: mediaKey}},
			want: func() bridge.Inbound { in := aliceDM("look"); in.Media = "video"; return in }(),
		},
		{
			name: "video note: no attachment",
			raw:  &waE2E.Message{PtvMessage: &waE2E.VideoMessage{URL: proto.String(mediaURL), MediaKey: mediaKey}},
			want: aliceMedia("video note"),
		},
		{
			name: "a reply quoting a picture: the quote stays a snippet",
			raw: extText("and this?", &waE2E.ContextInfo{
				StanzaID: proto.String("Q1"), Participant: proto.String(alicePN.String()), QuotedMessage: photo("a cat", nil)}),
			want: func() bridge.Inbound {
				in := aliceDM("and this?")
				in.QuotedText, in.QuotedID = "a cat", "Q1"
				return in
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			a, _, _ := testAdapter(t, f, Options{})
			got, reason, err := a.inbound(msgEvent(alicePN, alicePN, tt.raw))
			if err != nil || reason != "" {
				t.Fatalf("inbound() = reason %q, error %v; want it passed on", reason, err)
			}
			if diff := cmp.Diff(tt.want, got, ignoreFetch); diff != "" {
				t.Errorf("inbound() mismatch (-want +got):\n%s", diff)
			}
			if tt.file == nil {
				return
			}
			if got.Attachment == nil || got.Attachment.Fetch == nil {
				t.Fatal("inbound() has no Fetch")
			}
			f.downloadHook = func(ctx context.Context, msg whatsmeow.DownloadableMessage) ([]byte, error) {
				return []byte("the file"), nil
			}
			data, err := got.Attachment.Fetch(context.Background())
			if err != nil || string(data) != "the file" {
				t.Fatalf("Fetch() = %q, %v; want the downloaded bytes", data, err)
			}
			if len(f.downloads) != 1 || f.downloads[0] != tt.file(tt.raw) {
				t.Errorf("Download called with %v; want the message's own file part, once", f.downloads)
			}
		})
	}
}

// A caption that @mentions the bot addresses the picture to it in a group,
// and the mention is taken off the caption as off a text.
func TestInboundGroupCaptionMention(t *testing.T) {
	a, _, _ := testAdapter(t, newFake(), Options{})
	raw := photo("@99990001111 what is this?", &waE2E.ContextInfo{MentionedJID: []string{botLID.String()}})
	got, reason, err := a.inbound(msgEvent(group, device(alicePN, 2), raw))
	if err != nil || reason != "" {
		t.Fatalf("inbound() = reason %q, error %v; want it passed on", reason, err)
	}
	if !got.MentionsMe || got.Text != "what is this?" || got.Attachment == nil || got.Attachment.Kind != bridge.AttachImage {
		t.Errorf("inbound() = mention %v, text %q, attachment %+v; want a mention, %q and the picture",
			got.MentionsMe, got.Text, got.Attachment, "what is this?")
	}
	// Not addressed: still passed on (the bridge decides), with its file.
	got, _, _ = a.inbound(msgEvent(group, alicePN, photo("our trip", nil)))
	if got.MentionsMe || got.RepliesToMe || got.Attachment == nil {
		t.Errorf("group picture not addressed = mention %v, reply %v, attachment %v", got.MentionsMe, got.RepliesToMe, got.Attachment)
	}
}

// What the inbox stores of a message with a file names no key, address
// or hash that would fetch or identify the file.
func TestAttachmentJSONHoldsNoSecrets(t *testing.T) {
	a, _, _ := testAdapter(t, newFake(), Options{})
	for _, raw := range []*waE2E.Message{voiceNote(), photo("hi", nil), sticker(), {DocumentMessage: document("x")}} {
		in, _, _ := a.inbound(msgEvent(alicePN, alicePN, raw))
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}
		s := string(b)
		for _, secret := range []string{
			base64.StdEncoding.EncodeToString(mediaKey), string(mediaKey), hex.EncodeToString(mediaKey),
			base64.StdEncoding.EncodeToString(encSHA256[:]), base64.StdEncoding.EncodeToString(fileSHA256[:]),
			"mmg.whatsapp.net", "/v/t62", "SECRETTOKEN", "directPath", "url",
		} {
			if strings.Contains(strings.ToLower(s), strings.ToLower(secret)) {
				t.Errorf("inbox JSON %s contains %q", s, secret)
			}
		}
		if !strings.Contains(s, `"attachment":{"kind":`) {
			t.Errorf("inbox JSON %s has no attachment", s)
		}
	}
}

// fetchVoice is the Fetch of a voice note from Alice, over f.
func fetchVoice(t *testing.T, a *Adapter) func(context.Context) ([]byte, error) {
	t.Helper()
	in, _, err := a.inbound(msgEvent(alicePN, device(alicePN, 3), voiceNote()))
	if err != nil || in.Attachment == nil {
		t.Fatalf("inbound() = %+v, %v; want a voice note", in, err)
	}
	return in.Attachment.Fetch
}

// A file WhatsApp's servers no longer have is gone for the bridge, with
// whatsmeow's error in the chain; when the phone can upload it again, it
// is downloaded from there instead.
func TestFetchGone(t *testing.T) {
	for _, tt := range []struct {
		name  string
		err   error
		phone func(f *fakeClient, info types.MessageInfo, key []byte) // the phone's answer; nil for none
	}{
		{name: "404, the phone does not answer", err: whatsmeow.ErrMediaDownloadFailedWith404},
		{name: "410, the phone does not answer", err: whatsmeow.ErrMediaDownloadFailedWith410},
		{name: "403, the phone does not answer", err: whatsmeow.ErrMediaDownloadFailedWith403},
		{name: "no address", err: whatsmeow.ErrNoURLPresent},
		{
			name: "410 from the last host, the phone no longer has it",
			err:  fmt.Errorf("failed to download media from last host: %w", whatsmeow.ErrMediaDownloadFailedWith410),
			phone: func(f *fakeClient, info types.MessageInfo, _ []byte) {
				f.deliver(&events.MediaRetry{MessageID: info.ID, ChatID: info.Chat, Error: &events.MediaRetryError{Code: 2}})
			},
		},
		{
			name: "404, the phone cannot find it",
			err:  whatsmeow.ErrMediaDownloadFailedWith404,
			phone: func(f *fakeClient, info types.MessageInfo, key []byte) {
				f.deliver(retryAnswer(t, info.ID, key, waMmsRetry.MediaRetryNotification_NOT_FOUND, ""))
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			a, _, logs := testAdapter(t, f, Options{})
			a.retryWait = 20 * time.Millisecond
			f.downloadHook = func(context.Context, whatsmeow.DownloadableMessage) ([]byte, error) { return nil, tt.err }
			if tt.phone != nil {
				f.retryHook = func(info types.MessageInfo, key []byte) { tt.phone(f, info, key) }
			}
			data, err := fetchVoice(t, a)(context.Background())
			if !errors.Is(err, bridge.ErrMediaGone) || !errors.Is(err, tt.err) || data != nil {
				t.Fatalf("Fetch() = %q, %v; want ErrMediaGone and whatsmeow's error", data, err)
			}
			if len(f.mediaRetries) != 1 {
				t.Fatalf("media retry receipts = %d; want 1", len(f.mediaRetries))
			}
			if r := f.mediaRetries[0]; r.ID != "M1" || r.Chat != alicePN || r.Sender != device(alicePN, 3) {
				t.Errorf("media retry receipt for %+v; want the message as WhatsApp addressed it", r)
			}
			a.mu.Lock()
			left := len(a.retries)
			a.mu.Unlock()
			if left != 0 {
				t.Errorf("%d waits for the phone left behind", left)
			}
			noSecrets(t, "error", err.Error())
			noSecrets(t, "log", logs.String())
		})
	}
}

// The phone uploads the expired file again: it is downloaded from the new
// direct path, not from the message's old URL.
func TestFetchAfterThePhoneUploadsAgain(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{})
	const fresh = "/v/t62.7117-24/99999999_new.enc?ccb=11-4&oh=01_NEW&oe=68B00000"
	f.downloadHook = func(_ context.Context, msg whatsmeow.DownloadableMessage) ([]byte, error) {
		if msg.GetDirectPath() == fresh && urlOf(msg) == "" {
			return []byte("opus"), nil
		}
		return nil, whatsmeow.ErrMediaDownloadFailedWith410
	}
	f.retryHook = func(info types.MessageInfo, key []byte) {
		// An answer about another file with the same id comes first.
		f.deliver(retryAnswer(t, info.ID, []byte("another key, another file......"), waMmsRetry.MediaRetryNotification_SUCCESS, "/v/wrong"))
		go f.deliver(retryAnswer(t, info.ID, key, waMmsRetry.MediaRetryNotification_SUCCESS, fresh))
	}
	fetch := fetchVoice(t, a)
	data, err := fetch(context.Background())
	if err != nil || string(data) != "opus" {
		t.Fatalf("Fetch() = %q, %v; want the file from the new path", data, err)
	}
	if len(f.downloads) != 2 {
		t.Fatalf("downloads = %d; want 2", len(f.downloads))
	}
	if f.downloads[0].GetDirectPath() != directPath || urlOf(f.downloads[0]) != mediaURL {
		t.Errorf("the message's file part was changed by the retry")
	}
}

// A group message is asked for again naming its sender.
func TestFetchGroupRetryNamesTheSender(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{})
	a.retryWait = time.Millisecond
	f.downloadHook = func(context.Context, whatsmeow.DownloadableMessage) ([]byte, error) {
		return nil, whatsmeow.ErrMediaDownloadFailedWith404
	}
	in, _, _ := a.inbound(msgEvent(group, device(aliceLI, 2), voiceNote(), func(i *types.MessageInfo) { i.SenderAlt = alicePN }))
	if _, err := in.Attachment.Fetch(context.Background()); !errors.Is(err, bridge.ErrMediaGone) {
		t.Fatalf("Fetch() error = %v; want ErrMediaGone", err)
	}
	if r := f.mediaRetries[0]; r.Chat != group || r.Sender != device(aliceLI, 2) || !r.IsGroup {
		t.Errorf("media retry receipt for %+v; want the group and the sender as WhatsApp named them", r)
	}
}

// A network failure is not the file's: the bridge may try again later.
// The error names the host, not the file's address.
func TestFetchNetworkError(t *testing.T) {
	f := newFake()
	a, _, logs := testAdapter(t, f, Options{})
	netErr := &url.Error{Op: "Get", URL: "https://mmg.whatsapp.net" + directPath + "&hash=abc&mms-type=audio&__wa-mms=",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}
	f.downloadHook = func(context.Context, whatsmeow.DownloadableMessage) ([]byte, error) {
		return nil, fmt.Errorf("failed to download media from last host: %w", netErr)
	}
	_, err := fetchVoice(t, a)(context.Background())
	var ne net.Error
	if err == nil || errors.Is(err, bridge.ErrMediaGone) || !errors.As(err, &ne) {
		t.Fatalf("Fetch() error = %v; want the network error, not ErrMediaGone", err)
	}
	if len(f.mediaRetries) != 0 {
		t.Errorf("the phone was asked for a file the network failed to fetch")
	}
	if !strings.Contains(err.Error(), "mmg.whatsapp.net") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Fetch() error = %q; want the host and the cause", err)
	}
	noSecrets(t, "error", err.Error())
	noSecrets(t, "log", logs.String())
}

// A file whose length or hash differs from what was declared, but whose
// MAC whatsmeow checked, is taken, as WhatsApp's apps take it.
func TestFetchTakesADownloadWithAWarning(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{})
	f.downloadHook = func(context.Context, whatsmeow.DownloadableMessage) ([]byte, error) {
		return []byte("opus"), fmt.Errorf("%w: expected 18734, got 4", whatsmeow.ErrFileLengthMismatch)
	}
	if data, err := fetchVoice(t, a)(context.Background()); err != nil || string(data) != "opus" {
		t.Errorf("Fetch() = %q, %v; want the file", data, err)
	}
	f.downloadHook = func(context.Context, whatsmeow.DownloadableMessage) ([]byte, error) {
		return nil, whatsmeow.ErrInvalidMediaHMAC
	}
	if data, err := fetchVoice(t, a)(context.Background()); !errors.Is(err, whatsmeow.ErrInvalidMediaHMAC) || data != nil {
		t.Errorf("Fetch() of a forged file = %q, %v; want the MAC error", data, err)
	}
}

// When the phone cannot be asked now, the file is not given up: the
// bridge may try again.
func TestFetchPhoneNotReachable(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{})
	f.downloadHook = func(context.Context, whatsmeow.DownloadableMessage) ([]byte, error) {
		return nil, whatsmeow.ErrMediaDownloadFailedWith410
	}
	f.retryErr = whatsmeow.ErrNotConnected
	if _, err := fetchVoice(t, a)(context.Background()); errors.Is(err, bridge.ErrMediaGone) || !errors.Is(err, whatsmeow.ErrNotConnected) {
		t.Errorf("Fetch() while disconnected = %v; want ErrNotConnected, not ErrMediaGone", err)
	}
	f.retryErr = nil
	fetch := fetchVoice(t, a)
	a.Close()
	if _, err := fetch(context.Background()); errors.Is(err, bridge.ErrMediaGone) || !errors.Is(err, errClosed) {
		t.Errorf("Fetch() after Close = %v; want errClosed, not ErrMediaGone", err)
	}
}

// What a sender declares about a file is kept within bounds.
func TestAttachmentDeclaredBounds(t *testing.T) {
	long := strings.Repeat("é", 200) + ".pdf"
	att, _ := attachmentOf(&waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{
		FileName: proto.String(long), Mimetype: proto.String("text/plain\xff"), FileLength: proto.Uint64(1 << 63)}})
	if len(att.FileName) > maxDeclared || !utf8.ValidString(att.FileName) || !strings.HasPrefix(long, att.FileName) {
		t.Errorf("FileName = %q (%d bytes); want a valid prefix of at most %d bytes", att.FileName, len(att.FileName), maxDeclared)
	}
	if !utf8.ValidString(att.MIME) {
		t.Errorf("MIME = %q; want valid UTF-8", att.MIME)
	}
	if att.Size != math.MaxInt64 {
		t.Errorf("Size = %d for a declared 2^63; want the largest int64", att.Size)
	}
}

// Fetch ends when its context does: during the download, and while the
// phone is asked for an expired file.
func TestFetchHonoursTheContext(t *testing.T) {
	t.Run("downloading", func(t *testing.T) {
		f := newFake()
		a, _, _ := testAdapter(t, f, Options{})
		f.downloadHook = func(ctx context.Context, _ whatsmeow.DownloadableMessage) ([]byte, error) {
			<-ctx.Done() // whatsmeow's HTTP request and retry pauses end with ctx
			return nil, ctx.Err()
		}
		fetchReturnsPromptly(t, fetchVoice(t, a))
	})
	t.Run("waiting for the phone", func(t *testing.T) {
		f := newFake()
		a, _, _ := testAdapter(t, f, Options{})
		f.downloadHook = func(context.Context, whatsmeow.DownloadableMessage) ([]byte, error) {
			return nil, whatsmeow.ErrMediaDownloadFailedWith410
		}
		fetchReturnsPromptly(t, fetchVoice(t, a))
		if len(f.mediaRetries) != 1 {
			t.Errorf("media retry receipts = %d; want 1", len(f.mediaRetries))
		}
	})
}

func fetchReturnsPromptly(t *testing.T, fetch func(context.Context) ([]byte, error)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	_, err := fetch(ctx)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Fetch() took %s after its context ended", took)
	}
	if !errors.Is(err, context.Canceled) || errors.Is(err, bridge.ErrMediaGone) {
		t.Errorf("Fetch() error = %v; want context.Canceled, not ErrMediaGone", err)
	}
}

// whatsmeow's own warnings quote the address they failed to download;
// above debug the log keeps only the host.
func TestWhatsmeowDownloadWarningHidesTheAddress(t *testing.T) {
	var buf syncBuffer
	l := NewLogger(slog.New(slog.NewTextHandler(&buf, nil)), "Client", slog.LevelWarn)
	l.Warnf("Failed to download media: %s, trying with next host...", &url.Error{Op: "Get", URL: mediaURL, Err: errors.New("EOF")})
	if !strings.Contains(buf.String(), "mmg.whatsapp.net") {
		t.Errorf("log %q lost the host", buf.String())
	}
	noSecrets(t, "log", buf.String())
}

// noSecrets fails if s holds a file's address or key.
func noSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{"/v/t62", "SECRETTOKEN", "oh=", "hash=", base64.StdEncoding.EncodeToString(mediaKey), string(mediaKey)} {
		if strings.Contains(s, secret) {
			t.Errorf("%s %q contains %q", what, s, secret)
		}
	}
}

// retryAnswer is the phone's answer to a media retry receipt, encrypted
// as WhatsApp does (AES-GCM under a key derived from the media key, the
// message id as additional data).
func retryAnswer(t *testing.T, id types.MessageID, key []byte, result waMmsRetry.MediaRetryNotification_ResultType, path string) *events.MediaRetry {
	t.Helper()
	plain, err := proto.Marshal(&waMmsRetry.MediaRetryNotification{StanzaID: proto.String(id), DirectPath: proto.String(path), Result: result.Enum()})
	if err != nil {
		t.Fatal(err)
	}
	k, err := hkdf.Key(sha256.New, key, nil, "WhatsApp Media Retry Notification", 32)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	iv := make([]byte, gcm.NonceSize())
	copy(iv, "twelve bytes")
	return &events.MediaRetry{Ciphertext: gcm.Seal(nil, iv, plain, []byte(id)), IV: iv, MessageID: id, ChatID: alicePN, Timestamp: t0}
}

// Through the real bridge and store: a voice note from a friend is
// acknowledged and recorded in the inbox with its description, and
// nothing that fetches the file is written to the database. (Here no
// transcriber is set up, so the friend only hears that; the whole way to
// an answer is TestVoiceNoteAnsweredThroughWhatsApp.)
func TestVoiceNoteReachesTheInbox(t *testing.T) {
	f := newFake()
	b, st, _ := liveBot(t, f, `{ admins: ["+15550000001"], allowFrom: ["+15552223333"] }`)
	deliverAndWait(t, f, b, msgEvent(alicePN, alicePN, voiceNote(), func(mi *types.MessageInfo) { mi.ID, mi.Timestamp = "VOICE1", time.Now() }))
	var payload string
	if err := st.DB().QueryRow(`SELECT payload FROM inbox WHERE msg_id = 'VOICE1'`).Scan(&payload); err != nil {
		t.Fatalf("the voice note is not in the inbox: %v", err)
	}
	want := `"attachment":{"kind":"voice note","mime":"audio/ogg; codecs=opus","size":18734,"seconds":7}`
	if !strings.Contains(payload, want) {
		t.Errorf("inbox payload %s; want it to hold %s", payload, want)
	}
	noSecrets(t, "inbox payload", payload)
	if strings.Contains(payload, "mmg.whatsapp.net") {
		t.Errorf("inbox payload %s names the media host", payload)
	}
}
