package compaction

import (
	"context"
	"fmt"
	"testing"

	"waclaw/agent"
	"waclaw/agent/agenttest"
	"waclaw/media/picture"
)

// newSeeingEnv is an LM Studio env whose model can see pictures.
func newSeeingEnv(t *testing.T) *env {
	t.Helper()
	e := newEnvWindow(t, 16384, "maxHistoryTokens: 1000")
	m, _ := e.cfg.Model("local/m")
	m.Input = []string{"text", "image"}
	return e
}

// TestPictureTurn: a photo sent to the chat reaches the model scaled down,
// counts in the turn's context, teaches the tokenizer calibration nothing,
// and leaves only its caption in the history: neither the next turn nor
// the summariser is sent the picture again.
func TestPictureTurn(t *testing.T) {
	e := newSeeingEnv(t)
	ctx := context.Background()
	e.srv.SetResponder(func(r agenttest.Request) agenttest.Reply {
		if inputOf(r).summarise {
			return factual(inputOf(r).texts[len(inputOf(r).texts)-1])
		}
		if len(r.Images()) > 0 {
			// A real server counts a picture as ~1-2.5k tokens; the fake's
			// default (body bytes / 4) would count the base64.
			return agenttest.Reply{DescribeImages: true, InputTokens: 2000}
		}
		return agenttest.Reply{Text: "Noted, thank you. Here is a helpful answer about that topic."}
	})
	e.turn(t, "chat", 0, "Hello, I am going to show you a photo of my house.")
	factor := e.c.calib.get("local/m")

	pic, err := picture.Prepare(agenttest.Photo(), e.cfg.Media.Image)
	if err != nil {
		t.Fatal(err)
	}
	caption := "[image] what colour is my house?"
	turn, err := e.c.Reply(ctx, "chat", caption, "msg-1", agent.Image{MIME: pic.MIME, Data: pic.Data})
	if err != nil {
		t.Fatalf("picture turn: %v", err)
	}
	if want := "I see a 1600x1200 image/jpeg."; turn.Reply != want {
		t.Errorf("reply = %q; want %q (the model sees the scaled photo)", turn.Reply, want)
	}
	if textOnly := Estimate(e.cfg.Agent.SystemPrompt) + Estimate(caption); turn.ContextTokens < textOnly+PictureTokens {
		t.Errorf("ContextTokens = %d; want at least %d for the text and %d for the picture", turn.ContextTokens, textOnly, PictureTokens)
	}
	if got := e.c.calib.get("local/m"); got != factor {
		t.Errorf("calibration moved from %.3f to %.3f on a turn with a picture", factor, got)
	}
	if err := e.c.Wait(ctx); err != nil {
		t.Fatal(err)
	}

	for i := 2; i < 30; i++ {
		e.turn(t, "chat", i, fmt.Sprintf("Message %d: and what about the garden, the roof and the windows?", i))
	}
	pictures, summaries, sawCaption := 0, 0, false
	for i, r := range e.srv.Calls() {
		in := inputOf(r)
		if in.summarise {
			summaries++
		}
		if n := len(r.Images()); n > 0 {
			pictures++
			if in.summarise || in.texts[len(in.texts)-1] != caption {
				t.Errorf("request %d carries %d pictures; only the picture's own turn should", i, n)
			}
		}
		if !in.summarise && len(in.texts) > 1 && in.texts[len(in.texts)-1] != caption {
			for _, s := range in.texts {
				sawCaption = sawCaption || s == caption
			}
		}
	}
	if pictures != 1 || summaries == 0 || !sawCaption {
		t.Errorf("%d requests carried the picture, %d summarised, caption in later history %v; want 1, some, true", pictures, summaries, sawCaption)
	}
	if e.c.calib.get("local/m") == factor {
		t.Error("calibration never learnt from the text turns; the picture check above proves nothing")
	}
}
