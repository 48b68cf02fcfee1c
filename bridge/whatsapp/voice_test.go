package whatsapp

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"

	"waclaw/agent/agenttest"
	"waclaw/bridge"
)

// A friend's voice note, as WhatsApp delivers it, through the adapter, the
// real bridge and store, a fake speech-to-text server and a fake model:
// downloaded once with whatsmeow, transcribed, answered in text. The
// friend's phone gets the answer and a read receipt, never a "played"
// one: the owner has not listened to it.
func TestVoiceNoteAnsweredThroughWhatsApp(t *testing.T) {
	f := newFake()
	f.downloadHook = func(ctx context.Context, msg whatsmeow.DownloadableMessage) ([]byte, error) {
		return agenttest.VoiceNote(), nil
	}
	lm := agenttest.New(t, agenttest.LMStudio, "m")
	lm.SetDefault(agenttest.Reply{Text: "Paris."})
	stt := agenttest.NewTranscriber(t, agenttest.WhisperCpp)
	stt.SetDefault(agenttest.TranscriptReply{Text: " What is the capital of France?\n"})
	b, _ := liveBotFrom(t, f, fmt.Sprintf(`{
	  agents: { defaults: { model: { primary: "lmstudio/m", fallbacks: [] } } },
	  models: { mode: "replace", providers: {
	    lmstudio: { baseUrl: %q, api: "openai-responses", models: [{ id: "m" }] },
	    whisper: { baseUrl: %q, api: "openai-completions", models: [] },
	  } },
	  channels: { whatsapp: { allowFrom: ["+15552223333"] } },
	  tools: { media: { audio: { models: [{ provider: "whisper", model: "ggml-base" }] } } },
	}`, lm.URL, stt.URL), bridge.Options{})

	deliverAndWait(t, f, b, msgEvent(alicePN, alicePN, voiceNote(), func(mi *types.MessageInfo) { mi.ID, mi.Timestamp = "VOICE1", time.Now() }))

	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.downloads) != 1 || f.downloads[0].GetDirectPath() != directPath {
		t.Errorf("downloads = %d; want the voice note's own part once", len(f.downloads))
	}
	if len(f.sent) != 1 || f.sent[0].to != alicePN {
		t.Fatalf("sent %d messages; want the answer to the friend", len(f.sent))
	}
	if body := f.sent[0].msg.GetConversation() + f.sent[0].msg.GetExtendedTextMessage().GetText(); body != "Paris." {
		t.Errorf("the friend got %q; want the model's answer", body)
	}
	if calls := lm.Calls(); len(calls) != 1 || !strings.Contains(calls[0].LastInput(), "[voice note] What is the capital of France?") {
		t.Errorf("the model was not asked the transcript (%d calls)", len(calls))
	}
	if stt.Calls() != 1 {
		t.Errorf("transcriptions = %d; want 1", stt.Calls())
	}
	for _, r := range f.reads {
		if r.receipt == types.ReceiptTypePlayed {
			t.Error("the voice note was marked played")
		}
	}
	if len(f.reads) != 1 {
		t.Errorf("read receipts = %d; want 1", len(f.reads))
	}
}
