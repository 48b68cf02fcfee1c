package bridge

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"waclaw/agent/agenttest"
	"waclaw/agent/defuse"
)

// What people see when they send voice notes, pictures and files, with a
// real bridge, store and agent over fake model and transcription servers.

// sttHarness is a harness whose voice notes go to a fake whisper.cpp
// server, provider "stt" (audio: more keys of tools.media.audio).
func sttHarness(t testing.TB, whatsapp, audio string) (*harness, *agenttest.TranscriptionServer) {
	t.Helper()
	stt := agenttest.NewTranscriber(t, agenttest.WhisperCpp)
	h := newHarnessWith(t, whatsapp,
		fmt.Sprintf(`stt: { baseUrl: %q, api: "openai-completions", models: [] },`, stt.URL),
		fmt.Sprintf(`{ media: { audio: { %s models: [{ provider: "stt", model: "ggml-base" }] } } }`, audio))
	return h, stt
}

// voice is a voice note from in's sender, fetched from data; fetches
// counts the downloads.
func voice(in Inbound, data []byte, fetches *atomic.Int32) Inbound {
	in.Media = AttachVoice
	in.Text = ""
	in.Attachment = &Attachment{Kind: AttachVoice, MIME: "audio/ogg; codecs=opus", Size: int64(len(data)), Seconds: 2,
		Fetch: func(ctx context.Context) ([]byte, error) {
			if fetches != nil {
				fetches.Add(1)
			}
			return data, nil
		}}
	return in
}

func TestVoiceNoteIsAnsweredAndKeptAsText(t *testing.T) {
	h, stt := sttHarness(t, unlimited, "")
	stt.Enqueue(agenttest.TranscriptReply{Text: " Remind me to buy milk.\n"})

	h.send(t, voice(h.dm(friend, ""), agenttest.VoiceNote(), nil))

	if got := h.last(friend); got != "echo: [voice note] Remind me to buy milk." {
		t.Fatalf("reply = %q, want the model's answer to the transcript", got)
	}
	// The history keeps the words, marked as spoken; a later turn sends
	// them as text and no audio.
	h.send(t, h.dm(friend, "and eggs"))
	calls := h.srv.Calls()
	_, msgs := calls[len(calls)-1].Decoded()
	if len(msgs) < 3 || msgs[len(msgs)-3].Text != "[voice note] Remind me to buy milk." {
		t.Errorf("the next turn's history is %+v, want the voice note's transcript in it", msgs)
	}
	if stt.Calls() != 1 {
		t.Errorf("transcriptions = %d, want 1", stt.Calls())
	}
}

func TestVoiceNoteEchoesItsTranscript(t *testing.T) {
	h, stt := sttHarness(t, unlimited, "echoTranscript: true,")
	stt.Enqueue(agenttest.TranscriptReply{Text: "What time is it?"})

	h.send(t, voice(h.dm(friend, ""), agenttest.VoiceNote(), nil))

	got := h.ch.to(friend)
	if len(got) != 2 || !strings.Contains(got[0], "What time is it?") || !strings.HasPrefix(got[1], "echo:") {
		t.Fatalf("replies = %q, want the transcript, then the answer", got)
	}
}

func TestVoiceNoteWithNoWords(t *testing.T) {
	h, stt := sttHarness(t, unlimited, "")
	stt.Enqueue(agenttest.TranscriptReply{Text: " [BLANK_AUDIO]\n"})

	h.send(t, voice(h.dm(friend, ""), agenttest.VoiceNote(), nil))

	if got := h.last(friend); got != emptyVoiceNotice {
		t.Fatalf("reply = %q, want the sender told no words were heard", got)
	}
	if n := len(h.srv.Calls()); n != 0 {
		t.Errorf("the model was asked %d times about silence", n)
	}
}

func TestVoiceNoteTooLongIsNotDownloaded(t *testing.T) {
	h, stt := sttHarness(t, unlimited, "maxSeconds: 300,")
	var fetches atomic.Int32
	in := voice(h.dm(friend, ""), agenttest.VoiceNote(), &fetches)
	in.Attachment.Seconds = 754

	h.send(t, in)

	if got := h.last(friend); !strings.Contains(got, "12:34 long") || !strings.Contains(got, "at most 5:00") {
		t.Fatalf("reply = %q, want the length and the limit", got)
	}
	if fetches.Load() != 0 || stt.Calls() != 0 {
		t.Errorf("downloads = %d, transcriptions = %d: a voice note over the cap was fetched", fetches.Load(), stt.Calls())
	}
}

func TestVoiceNoteLengthIsCheckedOnTheAudio(t *testing.T) {
	// A sender's app can declare any length: the Ogg stream says.
	h, stt := sttHarness(t, unlimited, "maxSeconds: 30,")
	in := voice(h.dm(friend, ""), agenttest.VoiceNoteMinute(), nil)
	in.Attachment.Seconds = 5

	h.send(t, in)

	if got := h.last(friend); !strings.Contains(got, "at most 0:30") {
		t.Fatalf("reply = %q, want the minute-long note refused", got)
	}
	if stt.Calls() != 0 {
		t.Errorf("transcriptions = %d, want none", stt.Calls())
	}
}

func TestVoiceNoteThatCannotBeFetched(t *testing.T) {
	h, stt := sttHarness(t, unlimited, "")
	for _, tc := range []struct {
		name  string
		fetch func(context.Context) ([]byte, error)
		want  string
	}{
		{"expired", func(context.Context) ([]byte, error) { return nil, fmt.Errorf("download: %w", ErrMediaGone) }, "no longer on WhatsApp's servers"},
		{"failed", func(context.Context) ([]byte, error) { return nil, errors.New("connection reset") }, "couldn't download"},
		{"restarted", nil, "restarted before I could open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := voice(h.dm(friend, ""), nil, nil)
			in.Attachment.Fetch = tc.fetch
			h.send(t, in)
			if got := h.last(friend); !strings.Contains(got, tc.want) || !strings.Contains(got, "send it again") {
				t.Errorf("reply = %q, want %q and a request to send it again", got, tc.want)
			}
		})
	}
	if stt.Calls() != 0 || len(h.srv.Calls()) != 0 {
		t.Errorf("transcriptions = %d, model calls = %d, want none", stt.Calls(), len(h.srv.Calls()))
	}
}

func TestVoiceNoteAfterARestartIsAskedForAgain(t *testing.T) {
	// The inbox keeps what a voice note is, never the audio or how to
	// fetch it: a restart asks for it again.
	h, _ := sttHarness(t, unlimited, "")
	in := voice(h.dm(friend, ""), agenttest.VoiceNote(), nil)
	payload, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(payload), "OggS") || strings.Contains(string(payload), "etch") {
		t.Errorf("the inbox row %s holds the audio or its fetcher", payload)
	}
	var back Inbound
	if err := json.Unmarshal(payload, &back); err != nil {
		t.Fatal(err)
	}
	if back.Attachment == nil || back.Attachment.Kind != AttachVoice || back.Attachment.Fetch != nil {
		t.Fatalf("read back: %+v", back.Attachment)
	}
	h.send(t, back)
	if got := h.last(friend); !strings.Contains(got, "send it again") {
		t.Errorf("reply = %q, want the sender asked to send it again", got)
	}
}

func TestTranscriptionOff(t *testing.T) {
	h := newHarness(t, unlimited)
	var fetches atomic.Int32
	h.send(t, voice(h.dm(friend, ""), agenttest.VoiceNote(), &fetches))
	h.send(t, voice(h.dm(friend, ""), agenttest.VoiceNote(), &fetches))
	h.send(t, voice(h.self(""), agenttest.VoiceNote(), &fetches))

	if got := h.ch.to(friend); len(got) != 1 || got[0] != noListenNotice {
		t.Errorf("friend heard %q, want one notice for two voice notes", got)
	}
	if got := h.last("self"); !strings.Contains(got, "tools.media.audio") {
		t.Errorf("the owner heard %q, want how to set transcription up", got)
	}
	if fetches.Load() != 0 {
		t.Errorf("%d voice notes downloaded with nothing to transcribe them", fetches.Load())
	}
}

func TestVoiceNoteFloodIsRateLimited(t *testing.T) {
	h, stt := sttHarness(t, fmt.Sprintf(`{ allowFrom: [%q], rateLimit: { perMinute: 6, burst: 3 } }`, friend), "")
	stt.SetDefault(agenttest.TranscriptReply{Text: "hello"})
	var fetches atomic.Int32
	for range 50 {
		h.send(t, voice(h.dm(friend, ""), agenttest.VoiceNote(), &fetches))
	}
	if n := fetches.Load(); n != 3 {
		t.Errorf("%d of 50 voice notes downloaded, want the burst of 3", n)
	}
	if stt.Calls() != 3 {
		t.Errorf("transcriptions = %d, want 3", stt.Calls())
	}
	if got := h.ch.to(friend); len(got) != 4 || got[3] != rateLimitNotice {
		t.Errorf("friend heard %q, want 3 answers and one rate-limit notice", got)
	}
}

func TestVoiceNoteInAGroup(t *testing.T) {
	h, stt := sttHarness(t, fmt.Sprintf(`{ allowFrom: [%q], groupPolicy: "open" }`, friend), "")
	stt.SetDefault(agenttest.TranscriptReply{Text: "what do you think?"})
	var fetches atomic.Int32
	group := "120363000000000001@g.us"
	chatter := voice(h.dm(friend, ""), agenttest.VoiceNote(), &fetches)
	chatter.ChatID, chatter.IsGroup = group, true
	h.send(t, chatter)
	if fetches.Load() != 0 || h.ch.count() != 0 {
		t.Fatalf("a voice note to the group, not to the bot, was downloaded (%d) or answered (%d)", fetches.Load(), h.ch.count())
	}
	toBot := voice(h.dm(friend, ""), agenttest.VoiceNote(), &fetches)
	toBot.ChatID, toBot.IsGroup, toBot.RepliesToMe = group, true, true
	h.send(t, toBot)
	if got := h.last(group); got != "echo: [voice note] what do you think?" {
		t.Errorf("group reply = %q, want the answer to the voice note that replied to the bot", got)
	}
}

// photoFrom is a photo with caption from in's sender.
func photoFrom(in Inbound, data []byte, caption string) Inbound {
	in.Media, in.Text = AttachImage, caption
	in.Attachment = &Attachment{Kind: AttachImage, MIME: "image/jpeg", Size: int64(len(data)),
		Fetch: func(context.Context) ([]byte, error) { return data, nil }}
	return in
}

func TestPictureGoesToTheNextModelThatCanSee(t *testing.T) {
	h := newHarness(t, unlimited)
	hosted, _ := h.cfg.Model("hosted/m")
	hosted.Input = []string{"text", "image"}

	h.send(t, photoFrom(h.dm(friend, ""), agenttest.Photo(), "what is this?"))

	got := h.last(friend)
	if !strings.Contains(got, "answered by Hosted One") || !strings.Contains(got, "can't see pictures") {
		t.Errorf("reply = %q, want the fallback notice saying the chat's model can't see", got)
	}
	calls := h.srv.Calls()
	if len(calls) != 1 || len(calls[0].Images()) != 1 {
		t.Fatalf("model calls = %d, want one, with the picture", len(calls))
	}
	// The next turn goes to the chat's own model, with the picture as
	// text only.
	h.send(t, h.dm(friend, "thanks"))
	calls = h.srv.Calls()
	last := calls[len(calls)-1]
	if len(last.Images()) != 0 {
		t.Errorf("a later turn sent %d old pictures again", len(last.Images()))
	}
	if body := string(last.Body); !strings.Contains(body, "[image] what is this?") {
		t.Errorf("the next turn's history lacks the picture's caption: %s", body)
	}
	if got := h.last(friend); strings.Contains(got, "answered by") {
		t.Errorf("the text turn after the picture was not answered by the chat's model: %q", got)
	}
}

func TestPictureInALocalOnlyChat(t *testing.T) {
	h := newHarness(t, unlimited)
	hosted, _ := h.cfg.Model("hosted/m")
	hosted.Input = []string{"text", "image"}
	var fetches atomic.Int32
	h.send(t, h.self("/privacy local"))
	in := photoFrom(h.self(""), agenttest.Photo(), "")
	in.Attachment.Fetch = func(context.Context) ([]byte, error) { fetches.Add(1); return agenttest.Photo(), nil }

	h.send(t, in)

	if got := h.last("self"); got != localSeeNotice {
		t.Errorf("reply = %q, want the local-only notice", got)
	}
	if fetches.Load() != 0 || len(h.srv.Calls()) != 0 {
		t.Errorf("downloads = %d, model calls = %d: the picture went somewhere", fetches.Load(), len(h.srv.Calls()))
	}
}

func TestPictureTellsTheOwnerWhichModelCanSee(t *testing.T) {
	h := newHarness(t, unlimited)
	// The chain is the text-only model alone; another model can see.
	h.cfg.Fallbacks = nil
	other, _ := h.cfg.Model("hosted/m")
	other.Input = []string{"text", "image"}

	h.send(t, photoFrom(h.self(""), agenttest.Photo(), ""))

	got := h.last("self")
	if !strings.Contains(got, "(Local) can't see pictures") || !strings.Contains(got, "/model Hosted One") {
		t.Errorf("reply = %q, want the model that can't see and the one to switch to", got)
	}
}

func TestDocuments(t *testing.T) {
	h := newHarness(t, unlimited)
	doc := func(name, mime string, data []byte, caption string) Inbound {
		in := h.dm(friend, caption)
		in.Media = AttachDocument
		in.Attachment = &Attachment{Kind: AttachDocument, FileName: name, MIME: mime, Size: int64(len(data)),
			Fetch: func(context.Context) ([]byte, error) { return data, nil }}
		return in
	}
	h.send(t, doc("notes.txt", "text/plain", []byte("buy milk\n"), "summarise"))
	if got := h.last(friend); got != "echo: [document: notes.txt]\nbuy milk\n[end of document]\n\nsummarise" {
		t.Errorf("reply = %q, want the document read as text with its name", got)
	}
	h.send(t, doc("main.go", "application/octet-stream", []byte("package main\n"), ""))
	if got := h.last(friend); !strings.HasPrefix(got, "echo: [document: main.go]") {
		t.Errorf("reply = %q, want source code read by its name", got)
	}
	h.send(t, doc("scan.pdf", "application/pdf", []byte("%PDF-1.7"), ""))
	if got := h.last(friend); !strings.Contains(got, "not PDF files") {
		t.Errorf("reply = %q, want the notice for a PDF", got)
	}
	h.send(t, doc("data.csv", "text/csv", []byte("a,b\x00\xff"), ""))
	if got := h.last(friend); !strings.Contains(got, "doesn't look like a text file") {
		t.Errorf("reply = %q, want binary data refused", got)
	}
	long := strings.Repeat("x", h.cfg.WhatsApp.MaxMessageChars+1)
	h.send(t, doc("long.txt", "text/plain", []byte(long), ""))
	if got := h.last(friend); !strings.Contains(got, "too long") {
		t.Errorf("reply = %q, want a document over the text cap refused", got)
	}
	if n := len(h.srv.Calls()); n != 2 {
		t.Errorf("model calls = %d, want 2 (the text file and the source code)", n)
	}
}

func TestSpokenCommand(t *testing.T) {
	h, stt := sttHarness(t, unlimited, "")
	stt.Enqueue(agenttest.TranscriptReply{Text: " Slash status.\n"}, agenttest.TranscriptReply{Text: "Slash status."})

	h.send(t, voice(h.self(""), agenttest.VoiceNote(), nil))
	if got := h.last("self"); !strings.Contains(got, "*Model:*") {
		t.Errorf("the owner said \"slash status\" and heard %q, want /status's answer", got)
	}
	// Only admins run commands: a friend's words go to the model.
	h.send(t, voice(h.dm(friend, ""), agenttest.VoiceNote(), nil))
	if got := h.last(friend); got != "echo: [voice note] Slash status." {
		t.Errorf("friend heard %q", got)
	}
	for in, want := range map[string]string{
		"slash model, Sonnet.": "/model Sonnet",
		"Slash help":           "/help",
		"Slash and burn.":      "Slash and burn.",
		"slash":                "slash",
	} {
		if got := spokenCommand(in); got != want {
			t.Errorf("spokenCommand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStatusSaysWhoHearsAndSees(t *testing.T) {
	h, _ := sttHarness(t, unlimited, "")
	h.send(t, h.self("/status"))
	got := h.last("self")
	if !strings.Contains(got, "*Voice notes:* transcribed by stt/ggml-base") || !strings.Contains(got, "*Pictures:* no model of this chat can see pictures") {
		t.Errorf("/status = %q", got)
	}
	hosted, _ := h.cfg.Model("hosted/m")
	hosted.Input = []string{"text", "image"}
	h.send(t, h.self("/status"))
	if got := h.last("self"); !strings.Contains(got, "*Pictures:* seen by Hosted One (Local can't see pictures)") {
		t.Errorf("/status = %q", got)
	}
	h.send(t, h.self("/privacy local"))
	h.send(t, h.self("/status"))
	if got := h.last("self"); !strings.Contains(got, "*Pictures:* no model of this chat can see pictures") {
		t.Errorf("/status in a local-only chat = %q", got)
	}
}

func TestPictureBombIsRefused(t *testing.T) {
	// A small PNG whose header claims 30000x30000 pixels, sent with no
	// size declared: refused from its header, before it is decoded.
	h := newHarness(t, unlimited)
	m, _ := h.cfg.Model("local/m")
	m.Input = []string{"text", "image"}
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	bomb := buf.Bytes()
	binary.BigEndian.PutUint32(bomb[16:], 30000)
	binary.BigEndian.PutUint32(bomb[20:], 30000)
	binary.BigEndian.PutUint32(bomb[29:], crc32.ChecksumIEEE(bomb[12:29]))

	h.send(t, photoFrom(h.dm(friend, ""), bomb, "what is this?"))

	if got := h.last(friend); !strings.Contains(got, "too many pixels") || !strings.Contains(got, "at most 50 megapixels") {
		t.Errorf("reply = %q, want the picture refused for its pixels", got)
	}
	if n := len(h.srv.Calls()); n != 0 {
		t.Errorf("model calls = %d, want none", n)
	}
}

func TestShutdownWhileAVoiceNoteDownloadsLeavesItPending(t *testing.T) {
	h, stt := sttHarness(t, unlimited, "")
	started := make(chan struct{})
	in := voice(h.dm(friend, ""), nil, nil)
	in.Attachment.Fetch = func(ctx context.Context) ([]byte, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if err := h.b.Handle(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	h.b.Shutdown(ctx) // the drain times out: the turn's context ends
	pending, err := h.store.InboxPending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].MsgID != in.MessageID {
		t.Errorf("pending after the shutdown: %+v; want the voice note, to be asked for again", pending)
	}
	if n := len(h.ch.to(friend)); n != 0 || stt.Calls() != 0 {
		t.Errorf("sent %d messages and %d transcriptions for a download cut short", n, stt.Calls())
	}
}

func TestStickers(t *testing.T) {
	h := newHarness(t, unlimited)
	m, _ := h.cfg.Model("local/m")
	m.Input = []string{"text", "image"}
	sticker := func(data []byte) Inbound {
		in := photoFrom(h.dm(friend, ""), data, "")
		in.Media, in.Attachment.Kind, in.Attachment.MIME = AttachSticker, AttachSticker, "image/webp"
		return in
	}
	h.send(t, sticker(agenttest.Sticker()))
	calls := h.srv.Calls()
	// (A text that ends in "]" gets a word joiner: defuse.)
	if len(calls) != 1 || len(calls[0].Images()) != 1 || strings.ReplaceAll(calls[0].LastInput(), defuse.Joiner, "") != "[sticker]" {
		t.Fatalf("a sticker reached the model as %d calls; want one, with the picture and \"[sticker]\"", len(calls))
	}
	h.send(t, sticker(agenttest.AnimatedSticker()))
	if got := h.last(friend); got != stickerNotice {
		t.Errorf("an animated sticker got %q; want the sticker notice", got)
	}
	if n := len(h.srv.Calls()); n != 1 {
		t.Errorf("model calls = %d; the animated sticker reached a model", n)
	}
}
