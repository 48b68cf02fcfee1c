package bridge

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"waclaw/agent"
	"waclaw/bridge/access"
	"waclaw/config"
	"waclaw/media/picture"
	"waclaw/media/transcribe"
	"waclaw/store"
)

// read is what a message's attachment became once read: the text a
// model is asked and the history keeps ("[voice note] ...", "[image]
// caption", a document's text), the pictures shown with it in this turn
// only, and a line for the end of the answer (which transcriber heard a
// voice note, when it was not the first).
type read struct {
	text   string
	images []agent.Image
	note   string
	echo   string // the transcript, sent back first when tools.media.audio.echoTranscript is on
}

// What the bot says about attachments it does not answer.
const (
	noListenNotice     = "I can't listen to voice notes here yet. Could you type it instead?"
	noListenAdminHint  = "\n\n_(To have voice notes transcribed, add a speech-to-text server or command under tools.media.audio in the config: see \"Voice notes and pictures\" in the README.)_"
	localListenNotice  = "This chat is set to local only, and no transcriber on this computer is set up, so I didn't send your voice note anywhere. Could you type it instead?"
	unheardNotice      = "Sorry, I couldn't transcribe your voice note just now. Could you try again in a while, or type it?"
	emptyVoiceNotice   = "I couldn't make out any words in your voice note. Could you say it again, or type it?"
	tooBigNotice       = "Sorry, that %s is too large for me: %s, and I take at most %s. Could you send a smaller one?"
	tooLongVoiceNotice = "Sorry, that %s is %s long, and I take at most %s. Could you send a shorter one, or type it?"
	restartedMedia     = "Sorry, I restarted before I could open your %s. Could you send it again?"
	goneNotice         = "Sorry, your %s is no longer on WhatsApp's servers, so I couldn't open it. Could you send it again?"
	fetchFailedNotice  = "Sorry, I couldn't download your %s. Could you send it again?"
	noSeeNotice        = "Sorry, none of the models here can see pictures, so I can't look at that. Could you describe it in words?"
	noSeeAdminHint     = "\n\n_(To read pictures, add a model whose input includes \"image\", such as a vision model in LM Studio: see \"Voice notes and pictures\" in the README.)_"
	localSeeNotice     = "This chat is set to local only, and no model on this computer can see pictures, so I didn't send your picture anywhere. Could you describe it in words?"
	switchSeeNotice    = "Sorry, the model this chat uses (%s) can't see pictures, and neither can its fallbacks. Could you describe it in words?"
	switchSeeAdminHint = "\n\n_(Switch to one that can with /model %s.)_"
	stickerNotice      = "Sorry, I can't see that sticker (I can't open animated ones). Could you tell me in words?"
	noPictureNotice    = "Sorry, I couldn't open that picture. Could you send it again as a photo?"
	hugePictureNotice  = "Sorry, that picture is too large for me: %d megapixels, and I take at most %d. Could you send a smaller one?"
	manyPixelsNotice   = "Sorry, that picture has too many pixels for me: I take at most %d megapixels. Could you send a smaller one?"
	pictureOffNotice   = "I can't look at pictures here. Could you describe it in words?"
	documentNotice     = "Sorry, I can only read text files (plain text, Markdown, CSV, JSON, source code) and pictures, not %s. Could you paste the part you need help with?"
	longDocumentNotice = "Sorry, %s is too long for me: it has %d characters, and I read at most %d. Could you send the part you need help with?"
	notTextNotice      = "Sorry, %s doesn't look like a text file to me. Could you paste the part you need help with?"
)

// readAttachment downloads and reads j's attachment within the caps of
// tools.media: a voice note is transcribed, a picture scaled for a model
// that can see, a text document read. It returns the reply and true when
// the message ends here (refused, failed, nothing heard), with the sender
// told why; otherwise j.read is set and the message is answered.
func (b *Bridge) readAttachment(ctx context.Context, j *job) (rep reply, done bool) {
	// Reading can take a while (a download, a transcription): the sender
	// sees the bot typing, as while it answers.
	b.typing(ctx, j.in.ChatID, true)
	defer func() {
		if done {
			b.typing(ctx, j.in.ChatID, false)
		}
	}()
	a := j.in.Attachment
	kind := a.Kind
	if kind == AttachDocument {
		switch {
		case strings.HasPrefix(a.MIME, "image/"):
			kind = AttachImage
		case strings.HasPrefix(a.MIME, "audio/"):
			kind = AttachAudio
		}
	}
	switch kind {
	case AttachVoice, AttachAudio:
		return b.listen(ctx, j, kind)
	case AttachImage, AttachSticker:
		return b.look(ctx, j, kind)
	default:
		return b.readDocument(ctx, j)
	}
}

// fetch downloads the attachment, refusing one over maxBytes (declared or
// real). The reply is the notice when it could not be had.
func (b *Bridge) fetch(ctx context.Context, in Inbound, what string, maxBytes int) ([]byte, reply, bool) {
	a := in.Attachment
	if a.Size > int64(maxBytes) {
		return nil, b.refuse(in, fmt.Sprintf(tooBigNotice, what, config.SizeText(a.Size), config.SizeText(int64(maxBytes))), "too large: "+config.SizeText(a.Size)), false
	}
	if a.Fetch == nil {
		return nil, b.refuse(in, fmt.Sprintf(restartedMedia, what), what+" not downloaded before a restart"), false
	}
	start := b.now()
	data, err := a.Fetch(ctx)
	switch {
	case ctx.Err() != nil:
		return nil, reply{}, false
	case errors.Is(err, ErrMediaGone):
		b.log.Info("media no longer on the server", "chat", HashID(in.ChatID), "kind", a.Kind, "err", err)
		return nil, b.refuse(in, fmt.Sprintf(goneNotice, what), "download: "+err.Error()), false
	case err != nil:
		b.log.Warn("download media", "chat", HashID(in.ChatID), "kind", a.Kind, "err", err)
		return nil, b.refuse(in, fmt.Sprintf(fetchFailedNotice, what), "download: "+err.Error()), false
	case len(data) > maxBytes:
		return nil, b.refuse(in, fmt.Sprintf(tooBigNotice, what, config.SizeText(int64(len(data))), config.SizeText(int64(maxBytes))), "too large: "+config.SizeText(int64(len(data)))), false
	}
	b.log.Debug("downloaded media", "chat", HashID(in.ChatID), "kind", a.Kind, "bytes", len(data), "took", b.now().Sub(start))
	return data, reply{}, true
}

// refuse is a notice that ends a message unanswered.
func (b *Bridge) refuse(in Inbound, text, reason string) reply {
	return say(in, text, in.MessageID, store.InboxSkipped, reason)
}

// listen transcribes a voice note or audio file; the transcript is then
// the message, so a spoken "/status" is a command like a typed one.
func (b *Bridge) listen(ctx context.Context, j *job, kind string) (reply, bool) {
	in, cfg := j.in, b.cfg.Media.Audio
	what := "voice note"
	if kind == AttachAudio {
		what = "audio file"
	}
	if !cfg.Enabled {
		if !b.once("media", in.ChatID, mediaNoticeEvery) {
			return reply{state: store.InboxSkipped, reason: what + ": transcription is off; not told"}, true
		}
		text := noListenNotice
		if j.role == access.Admin {
			text += noListenAdminHint
		}
		return say(in, text, "", store.InboxSkipped, what+": transcription is off"), true
	}
	maxLen := time.Duration(cfg.MaxSeconds) * time.Second
	if secs := time.Duration(in.Attachment.Seconds) * time.Second; secs > maxLen {
		return b.refuse(in, fmt.Sprintf(tooLongVoiceNotice, what, config.LengthText(secs), config.LengthText(maxLen)), "too long: "+config.LengthText(secs)), true
	}
	localOnly := b.localOnly(ctx, in.ChatID)
	data, rep, ok := b.fetch(ctx, in, what, cfg.MaxBytes)
	if !ok {
		return rep, true
	}
	if transcribe.IsOggOpus(data) {
		if d, err := transcribe.Duration(data); err == nil && d > maxLen {
			return b.refuse(in, fmt.Sprintf(tooLongVoiceNotice, what, config.LengthText(d), config.LengthText(maxLen)), "too long: "+config.LengthText(d)), true
		}
	}
	heard, err := b.transcriber.Transcribe(ctx, transcribe.Clip{Data: data, MIME: in.Attachment.MIME}, localOnly)
	var ce *transcribe.ChainError
	switch {
	case ctx.Err() != nil:
		return reply{}, true
	case errors.Is(err, transcribe.ErrNoTranscriber) && localOnly:
		return say(in, localListenNotice, in.MessageID, store.InboxSkipped, what+": no local transcriber in a local-only chat"), true
	case errors.Is(err, transcribe.ErrNoTranscriber):
		return say(in, noListenNotice, in.MessageID, store.InboxSkipped, what+": no transcriber"), true
	case errors.As(err, &ce):
		text := unheardNotice
		if j.role == access.Admin {
			text += "\n\n_(" + ce.Error() + ")_"
		}
		return say(in, text, in.MessageID, store.InboxFailed, "transcription failed: "+err.Error()), true
	case err != nil:
		return say(in, unheardNotice, in.MessageID, store.InboxFailed, "transcription failed: "+err.Error()), true
	}
	words := strings.TrimSpace(heard.Text)
	if words == "" {
		return say(in, emptyVoiceNotice, in.MessageID, store.InboxSkipped, what+": no words heard"), true
	}
	limit := cfg.MaxChars
	if limit == 0 {
		limit = b.cfg.WhatsApp.MaxMessageChars
	}
	if limit > 0 && utf8.RuneCountInString(words) > limit {
		words = string([]rune(words)[:limit])
	}
	if j.role == access.Admin {
		words = spokenCommand(words)
	}
	r := &read{text: "[" + what + "] " + words}
	if len(heard.Failures) > 0 && b.cfg.Agent.FallbackNotice && !in.IsGroup {
		r.note = "_(" + what + " transcribed by " + heard.By.Name() + ": " + heard.Failures[0].Reason + ")_"
	}
	if cfg.Echo {
		r.echo = "🎙️ _" + words + "_"
	}
	j.read = r
	// A caption does not come with a voice note: the words are the message.
	j.in.Text = words
	return reply{}, false
}

// look prepares a picture for a model that can see, after making sure
// one of the chat's models can.
func (b *Bridge) look(ctx context.Context, j *job, kind string) (reply, bool) {
	in, cfg := j.in, b.cfg.Media.Image
	what := "picture"
	if kind == AttachSticker {
		what = "sticker"
	}
	if !cfg.Enabled {
		if !b.once("media", in.ChatID, mediaNoticeEvery) {
			return reply{state: store.InboxSkipped, reason: what + ": pictures are off; not told"}, true
		}
		return say(in, pictureOffNotice, "", store.InboxSkipped, what+": pictures are off"), true
	}
	if rep, blind := b.blind(ctx, j); blind {
		return rep, true
	}
	if a := in.Attachment; a.Width > 0 && a.Height > 0 && a.Width*a.Height > cfg.MaxPixels {
		return b.refuse(in, fmt.Sprintf(hugePictureNotice, a.Width*a.Height/1e6, cfg.MaxPixels/1e6), "too many pixels"), true
	}
	data, rep, ok := b.fetch(ctx, in, what, cfg.MaxBytes)
	if !ok {
		return rep, true
	}
	// One picture at a time: preparing one takes a core and ~30 MB for a
	// 12-megapixel photo, and a burst of them must not multiply that.
	select {
	case b.pictureSlot <- struct{}{}:
	case <-ctx.Done():
		return reply{}, true
	}
	start := b.now()
	pic, err := picture.Prepare(data, cfg)
	<-b.pictureSlot
	switch {
	case err != nil && kind == AttachSticker:
		// Animated stickers (WebP animations) have no decoder here.
		b.log.Debug("sticker could not be read", "chat", HashID(in.ChatID), "err", err)
		return b.refuse(in, stickerNotice, "sticker: "+err.Error()), true
	case errors.Is(err, picture.ErrTooManyPixels):
		// The file said less than its header: Prepare read the header.
		return b.refuse(in, fmt.Sprintf(manyPixelsNotice, cfg.MaxPixels/1e6), "too many pixels: "+err.Error()), true
	case err != nil:
		b.log.Debug("picture could not be read", "chat", HashID(in.ChatID), "err", err)
		return b.refuse(in, noPictureNotice, "picture: "+err.Error()), true
	}
	b.log.Debug("picture", "chat", HashID(in.ChatID), "kind", kind, "bytes_in", len(data), "bytes_out", len(pic.Data),
		"size", fmt.Sprintf("%dx%d", pic.Width, pic.Height), "took", b.now().Sub(start))
	label := "[" + kind + "]"
	if name := in.Attachment.FileName; name != "" {
		label = "[" + kind + ": " + name + "]"
	}
	text := label
	if caption := strings.TrimSpace(in.Text); caption != "" {
		text += " " + caption
	}
	j.read = &read{text: text, images: []agent.Image{{MIME: pic.MIME, Data: pic.Data}}}
	return reply{}, false
}

// blind reports, with the notice to send, a chat none of whose models can
// see pictures: before the picture is downloaded.
func (b *Bridge) blind(ctx context.Context, j *job) (reply, bool) {
	in := j.in
	sess, err := b.store.ActiveSession(ctx, in.ChatID)
	if err != nil {
		return reply{}, false // the turn will say what is wrong
	}
	localOnly := sess.Privacy == store.PrivacyLocal
	m := b.history.Model(sess)
	if slices.ContainsFunc(b.agent.Candidates(m, localOnly), (*config.Model).CanSee) {
		return reply{}, false
	}
	return b.cannotSee(in, j.role, m, localOnly), true
}

// cannotSee is the notice for a picture no model of the chat can see:
// which one to switch to, for an admin who can.
func (b *Bridge) cannotSee(in Inbound, role access.Role, m *config.Model, localOnly bool) reply {
	seeing := b.agent.Seeing(localOnly)
	var text string
	switch {
	case len(seeing) > 0:
		text = fmt.Sprintf(switchSeeNotice, m.Label())
		if role == access.Admin {
			text += fmt.Sprintf(switchSeeAdminHint, seeing[0].Label())
		}
	case localOnly:
		text = localSeeNotice
	default:
		text = noSeeNotice
		if role == access.Admin {
			text += noSeeAdminHint
		}
	}
	return say(in, text, in.MessageID, store.InboxSkipped, "picture: no model of the chat can see")
}

// textExtensions are the documents read as text whatever their declared
// type (phones send source code as application/octet-stream).
var textExtensions = []string{
	".txt", ".md", ".markdown", ".csv", ".tsv", ".json", ".jsonl", ".yaml", ".yml", ".toml", ".ini", ".xml", ".html", ".htm",
	".log", ".go", ".py", ".js", ".ts", ".tsx", ".jsx", ".java", ".kt", ".c", ".h", ".cc", ".cpp", ".hpp", ".rs", ".rb",
	".php", ".sh", ".bash", ".zsh", ".sql", ".swift", ".cs", ".lua", ".pl", ".r", ".scala", ".css", ".tex", ".srt", ".vtt",
}

// isTextDocument reports a document that is text by its type or name.
func isTextDocument(name, mimeType string) bool {
	mt, _, _ := mime.ParseMediaType(mimeType)
	switch {
	case strings.HasPrefix(mt, "text/"), mt == "application/json", mt == "application/xml", mt == "application/x-yaml",
		mt == "application/yaml", mt == "application/toml", mt == "application/x-sh", mt == "application/javascript":
		return true
	}
	return slices.Contains(textExtensions, strings.ToLower(filepath.Ext(name)))
}

// readDocument reads a text document, within the text size cap, as text
// with its name; any other document gets a notice.
func (b *Bridge) readDocument(ctx context.Context, j *job) (reply, bool) {
	in := j.in
	a := in.Attachment
	name := a.FileName
	if name == "" {
		name = "that file"
	}
	if !isTextDocument(a.FileName, a.MIME) {
		kind := strings.TrimPrefix(strings.ToLower(filepath.Ext(a.FileName)), ".")
		if kind == "" {
			kind = "this kind of file"
		} else {
			kind = strings.ToUpper(kind) + " files"
		}
		return say(in, fmt.Sprintf(documentNotice, kind), in.MessageID, store.InboxSkipped, "document: not text"), true
	}
	limit := b.cfg.WhatsApp.MaxMessageChars
	data, rep, ok := b.fetch(ctx, in, "file", 4*limit) // UTF-8 takes at most 4 bytes a character
	if !ok {
		return rep, true
	}
	if !utf8.Valid(data) || slices.Contains(data, 0) {
		return say(in, fmt.Sprintf(notTextNotice, name), in.MessageID, store.InboxSkipped, "document: not UTF-8 text"), true
	}
	text := strings.TrimPrefix(string(data), "\ufeff")
	if n := utf8.RuneCountInString(text); n > limit {
		return say(in, fmt.Sprintf(longDocumentNotice, name, n, limit), in.MessageID, store.InboxSkipped, fmt.Sprintf("document too long: %d characters", n)), true
	}
	body := "[document: " + a.FileName + "]\n" + strings.TrimRight(text, "\n") + "\n[end of document]"
	if caption := strings.TrimSpace(in.Text); caption != "" {
		body += "\n\n" + caption
	}
	j.read = &read{text: body}
	return reply{}, false
}

// localOnly reports a chat set to /privacy local.
func (b *Bridge) localOnly(ctx context.Context, chatID string) bool {
	sess, err := b.store.ActiveSession(ctx, chatID)
	return err == nil && sess.Privacy == store.PrivacyLocal
}

// spokenCommand turns a transcript that says a command ("Slash status.",
// "slash model, Sonnet") into the command as typed ("/status", "/model
// Sonnet"). Any other transcript is returned as it is.
func spokenCommand(words string) string {
	fields := strings.Fields(words)
	trim := func(s string) string { return strings.TrimRight(s, ".,!?;:") }
	if len(fields) < 2 || !strings.EqualFold(trim(fields[0]), "slash") {
		return words
	}
	name := "/" + strings.ToLower(trim(fields[1]))
	if !slices.ContainsFunc(commands(), func(c command) bool { return c.name == name }) {
		return words
	}
	rest := trim(strings.TrimSpace(strings.Join(fields[2:], " ")))
	return strings.TrimSpace(name + " " + rest)
}
