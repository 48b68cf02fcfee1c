package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"waclaw/agent/agenttest"
	"waclaw/config"
)

var update = flag.Bool("update", false, "rewrite testdata/textonly/*.json from the current output")

// jpegImage is a small real JPEG (the test photo), as media/picture would
// hand it over.
var jpegImage = Image{MIME: "image/jpeg", Data: agenttest.Photo()}

// TestEachAPISendsPicturesInItsWireShape: a picture reaches every kind of
// server through the real SDK, in the shape that server's API documents,
// with the text beside it.
func TestEachAPISendsPicturesInItsWireShape(t *testing.T) {
	for _, tg := range []target{targets[0], targets[3], targets[7]} {
		t.Run(tg.String(), func(t *testing.T) {
			srv := agenttest.New(t, tg.style, "m")
			srv.SetDefault(agenttest.Reply{DescribeImages: true})
			m, p := setup(t, tg.api, srv.URL, "")
			req := question("what is in this picture?")
			req.Input = append([]Item{
				{Kind: ItemMessage, Role: RoleUser, Text: "earlier question"},
				{Kind: ItemMessage, Role: RoleAssistant, Text: "earlier answer"},
			}, req.Input...)
			req.Input[2].Images = []Image{jpegImage}
			res, err := p.Complete(context.Background(), m, req)
			if err != nil {
				t.Fatalf("Complete() error = %v", err)
			}
			if want := "I see a 2000x1500 image/jpeg."; res.Text != want {
				t.Errorf("answer = %q; want %q", res.Text, want)
			}
			call := srv.Calls()[0]
			imgs := call.Images()
			if len(imgs) != 1 || imgs[0].Err != nil || imgs[0].MIME != "image/jpeg" || !bytes.Equal(imgs[0].Data, jpegImage.Data) {
				t.Fatalf("Images() = %+v; want the photo, once", summary(imgs))
			}
			if _, msgs := call.Decoded(); len(msgs) < 3 || msgs[len(msgs)-1].Text != "what is in this picture?" || msgs[len(msgs)-3].Text != "earlier question" {
				t.Errorf("messages = %+v; want the history as text and the question beside the picture", msgs)
			}
			wire := wireShape(t, call, tg.api)
			if wire != wantShape[tg.api] {
				t.Errorf("last message content = %s;\nwant %s", wire, wantShape[tg.api])
			}
			if tg.api == config.APIOpenAIResponses && imgs[0].Detail != "auto" {
				t.Errorf("detail = %q; want auto", imgs[0].Detail)
			}
		})
	}
}

// wantShape is the last message's content parts, by type, as each API
// documents them.
var wantShape = map[config.API]string{
	config.APIOpenAIResponses:   "input_text,input_image(image_url=data:image/jpeg;base64,…)",
	config.APIOpenAICompletions: "text,image_url(image_url.url=data:image/jpeg;base64,…)",
	config.APIAnthropicMessages: "image(source=base64 image/jpeg),text",
}

// wireShape describes the content parts of the request's last message.
func wireShape(t *testing.T, r agenttest.Request, api config.API) string {
	t.Helper()
	var body struct {
		Input, Messages []struct {
			Content json.RawMessage
		}
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("request body: %v", err)
	}
	msgs := append(body.Input, body.Messages...)
	var content []map[string]any
	if err := json.Unmarshal(msgs[len(msgs)-1].Content, &content); err != nil {
		t.Fatalf("the last message's content is not a list of parts: %v", err)
	}
	var parts []string
	for _, p := range content {
		s := fmt.Sprint(p["type"])
		switch s {
		case "input_image":
			s += "(image_url=" + prefix(p["image_url"]) + ")"
		case "image_url":
			u, _ := p["image_url"].(map[string]any)
			s += "(image_url.url=" + prefix(u["url"]) + ")"
		case "image":
			src, _ := p["source"].(map[string]any)
			s += fmt.Sprintf("(source=%v %v)", src["type"], src["media_type"])
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

func prefix(v any) string {
	s := fmt.Sprint(v)
	if i := strings.Index(s, ","); i >= 0 {
		return s[:i+1] + "…"
	}
	return s
}

func summary(imgs []agenttest.ImagePart) []string {
	var out []string
	for _, i := range imgs {
		out = append(out, fmt.Sprintf("%s %d bytes detail %q err %v", i.MIME, len(i.Data), i.Detail, i.Err))
	}
	return out
}

// TestTextOnlyRequestsAreUnchanged: a request without pictures is, byte
// for byte, what it was before pictures existed (the golden files were
// written by the adapters of the commit before), so a local server's
// cached prefix and the request-size budget are untouched.
func TestTextOnlyRequestsAreUnchanged(t *testing.T) {
	req := &Request{
		Instructions: config.DefaultSystemPrompt,
		Input: []Item{
			{Kind: ItemMessage, Role: RoleUser, Text: "Hi, who are you?"},
			{Kind: ItemMessage, Role: RoleAssistant, Text: "I'm waclaw. How can I help?"},
			{Kind: ItemMessage, Role: RoleUser, Text: "Tell me a fact about octopuses."},
		},
		MaxOutputTokens: 512,
	}
	m, _ := setup(t, config.APIOpenAIResponses, "http://127.0.0.1:1/v1", "")
	for name, params := range map[string]any{
		"responses":   responsesParams(m, req),
		"completions": completionsParams(m, req),
		"anthropic":   anthropicParams(m, req),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := json.MarshalIndent(params, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "textonly", name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden: %v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("text-only %s request changed:\n%s\nwant\n%s", name, got, want)
			}
		})
	}
}

// seeing is a chain of a local text-only primary, a local model that can
// see, and a hosted one that can see, each on its own fake server.
func seeingChain(t *testing.T, primary, fallbacks string) (*Agent, map[string]*agenttest.Server) {
	t.Helper()
	srvs := map[string]*agenttest.Server{
		"text":   agenttest.New(t, agenttest.LMStudio, "minimax"),
		"eyes":   agenttest.New(t, agenttest.Ollama, "gemma3"),
		"hosted": agenttest.New(t, agenttest.Anthropic, "claude"),
	}
	for _, s := range srvs {
		s.SetDefault(agenttest.Reply{DescribeImages: true})
	}
	src := fmt.Sprintf(`{
  agents: { defaults: { model: { primary: %q, fallbacks: %s } } },
  models: { mode: "replace", providers: {
    text:   { baseUrl: %q, api: "openai-responses", local: true, models: [{ id: "minimax", input: ["text"] }] },
    eyes:   { baseUrl: %q, api: "openai-completions", local: true, models: [{ id: "gemma3", input: ["text", "image"] }] },
    hosted: { baseUrl: %q, apiKey: "k", api: "anthropic-messages", local: false, models: [{ id: "claude", input: ["text", "image"] }] },
  } },
}`, primary, fallbacks, srvs["text"].URL, srvs["eyes"].URL, srvs["hosted"].URL)
	cfg, err := config.Parse("t", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a, srvs
}

func pictureTurn(text string, images ...Image) Conversation {
	return Conversation{Messages: []Item{{Kind: ItemMessage, Role: RoleUser, Text: text, Images: images}}}
}

// TestPictureSkipsModelsThatCannotSee: the text-only primary is not asked
// (a picture would be lost on it), the next model that can see answers,
// the chat is told who answered and why, and the primary is not cooled
// down: the next text message goes to it.
func TestPictureSkipsModelsThatCannotSee(t *testing.T) {
	a, srvs := seeingChain(t, "text/minimax", `["eyes/gemma3", "hosted/claude"]`)
	text, out, err := a.Reply(context.Background(), pictureTurn("what is this?", jpegImage))
	if err != nil {
		t.Fatalf("Reply() error = %v", err)
	}
	if text != "I see a 2000x1500 image/jpeg." || out.Model.Ref() != "eyes/gemma3" {
		t.Errorf("Reply() = %q from %s; want the picture described by eyes/gemma3", text, out.Model.Ref())
	}
	if !out.FellBack() || out.Failures[0].Class != CannotSee {
		t.Fatalf("FellBack() = %v, failures %v; want a CannotSee fallback", out.FellBack(), out.Reasons())
	}
	if got, want := out.Failures[0].Reason(), "the local model text/minimax can't see pictures"; got != want {
		t.Errorf("Reason() = %q; want %q", got, want)
	}
	if out.Failures[0].Tried() {
		t.Error("Tried() = true for a model that was not called")
	}
	if n := len(srvs["text"].Calls()); n != 0 {
		t.Errorf("the text-only primary got %d calls; want none", n)
	}
	if a.CoolingDown(out.Failures[0].Model) != nil {
		t.Error("the text-only primary is cooling down after a picture it was never shown")
	}

	text, out, err = a.Reply(context.Background(), pictureTurn("and now just text"))
	if err != nil || out.Model.Ref() != "text/minimax" || out.FellBack() {
		t.Fatalf("text turn after the picture: %q from %v, fell back %v, err %v; want the primary", text, out.Model, out.FellBack(), err)
	}
	if n := len(srvs["text"].Calls()); n != 1 {
		t.Errorf("the primary got %d calls; want 1", n)
	}
}

// TestPictureWhenNoModelCanSee: a local-only chat whose only model that
// can see is hosted gets ErrCannotSee, and the picture goes nowhere.
func TestPictureWhenNoModelCanSee(t *testing.T) {
	a, srvs := seeingChain(t, "text/minimax", `["hosted/claude"]`)
	conv := pictureTurn("what is this?", jpegImage)
	conv.LocalOnly = true
	_, out, err := a.Reply(context.Background(), conv)
	var ce *ChainError
	if !errors.Is(err, ErrCannotSee) || !errors.As(err, &ce) {
		t.Fatalf("Reply() error = %v (answered by %v, failures %s); want a *ChainError matching ErrCannotSee", err, out.Model, out.Reasons())
	}
	if out.Model != nil {
		t.Errorf("answered by %s; want nobody", out.Model.Ref())
	}
	for name, s := range srvs {
		if n := len(s.Calls()); n != 0 {
			t.Errorf("server %s got %d calls; want none", name, n)
		}
	}
	if got := ce.UserMessage(); !strings.Contains(got, "can't see pictures") {
		t.Errorf("UserMessage() = %q; want it to say the model can't see pictures", got)
	}
	if got := a.Seeing(true); len(got) != 1 || got[0].Ref() != "eyes/gemma3" {
		t.Errorf("Seeing(true) = %v; want [eyes/gemma3], the local model to switch to", refs(got))
	}
}

// TestPictureFailureOfASeeingModelIsNotBlindness: when a model that can
// see was asked and failed, the turn failed like any other (an apology,
// not "switch to a model that can see").
func TestPictureFailureOfASeeingModelIsNotBlindness(t *testing.T) {
	a, srvs := seeingChain(t, "text/minimax", `["eyes/gemma3"]`)
	srvs["eyes"].Enqueue(agenttest.Reply{Fault: agenttest.ServerError})
	_, _, err := a.Reply(context.Background(), pictureTurn("what is this?", jpegImage))
	if err == nil || errors.Is(err, ErrCannotSee) {
		t.Fatalf("Reply() error = %v; want a failure that does not match ErrCannotSee", err)
	}
	// A chain with nothing but a model that cannot see is blind, and says
	// it without asking anyone.
	a, srvs = seeingChain(t, "text/minimax", `[]`)
	if _, _, err := a.Reply(context.Background(), pictureTurn("what is this?", jpegImage)); !errors.Is(err, ErrCannotSee) {
		t.Fatalf("Reply() error = %v; want ErrCannotSee", err)
	}
	if n := len(srvs["text"].Calls()); n != 0 {
		t.Errorf("the text-only model got %d calls; want none", n)
	}
	// Text alone is never ErrCannotSee, whatever fails.
	srvs["text"].Enqueue(agenttest.Reply{Fault: agenttest.ServerError})
	if _, _, err := a.Reply(context.Background(), pictureTurn("hello")); err == nil || errors.Is(err, ErrCannotSee) {
		t.Fatalf("text-only failure: error = %v; want one that does not match ErrCannotSee", err)
	}
}

func TestSeeingListsTheChainFirst(t *testing.T) {
	src := `{
  agents: { defaults: { model: { primary: "loc/text", fallbacks: ["cloud/b", "loc/eyes"] } } },
  models: { mode: "replace", providers: {
    cloud: { baseUrl: "https://c.example/v1", apiKey: "k", api: "openai-completions", models: [
      { id: "a", input: ["text", "image"] }, { id: "b", input: ["text", "image"] }, { id: "blind" } ] },
    nokey: { baseUrl: "https://n.example/v1", apiKey: "${MISSING}", api: "openai-completions", models: [{ id: "x", input: ["image"] }] },
    loc: { baseUrl: "http://127.0.0.1:1/v1", api: "openai-responses", local: true, models: [
      { id: "text" }, { id: "eyes", input: ["text", "image"] }, { id: "eyes2", input: ["image", "text"] } ] },
  } },
}`
	cfg, err := config.Parse("t", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if got, want := strings.Join(refs(a.Seeing(false)), " "), "cloud/b loc/eyes cloud/a loc/eyes2"; got != want {
		t.Errorf("Seeing(false) = %s; want %s (the chain's first, no key-less provider)", got, want)
	}
	if got, want := strings.Join(refs(a.Seeing(true)), " "), "loc/eyes loc/eyes2"; got != want {
		t.Errorf("Seeing(true) = %s; want %s", got, want)
	}
}

func refs(ms []*config.Model) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Ref())
	}
	return out
}
