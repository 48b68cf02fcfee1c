package agent

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// What a user reads when a model fails, for each failure class, for a
// local and a hosted model, with and without a fallback configured: the
// reason (in a fallback notice, /status, waclaw ask) names the right kind
// of model and the right cause; the apology (when nothing answers) says
// whether waiting helps, and says "my model" or "my models" as it is.
func TestWhatTheUserIsTold(t *testing.T) {
	tests := []struct {
		name    string
		err     Error
		because string // the reason, after "the local model First " or "the hosted model First "
		sorry   string // the apology with one model; "models" in it becomes plural with two
	}{
		{"unreachable", Error{Class: Unreachable, Detail: "connection refused"}, "is unreachable", passingOne},
		{"timeout", Error{Class: Timeout, Detail: "no data for 60s"}, "stopped responding", passingOne},
		{"429", Error{Class: RateLimited, Status: 429}, "is rate limited", passingOne},
		{"500", Error{Class: ServerFailed, Status: 500, Detail: "Internal Server Error"}, "had a server error", passingOne},
		{"503", Error{Class: ServerFailed, Status: 503, Detail: "Service unavailable"}, "is unavailable (HTTP 503)", passingOne},
		{"overloaded", Error{Class: Overloaded, Status: 529}, "is overloaded", passingOne},
		{"loading", Error{Class: Loading, Status: 503, Detail: "Loading model"}, "is still loading", passingOne},
		{"load failure", Error{Class: LoadFailed, Status: 500, Detail: "llama runner process has terminated: exit status 2"}, "failed to load or crashed on its server", passingOne},
		{"not found", Error{Class: ModelMissing, Status: 404, Detail: "model 'm1' not found"}, "is not found on its server", brokenOne},
		{"not loaded", Error{Class: ModelMissing, Status: 404, Detail: "No models loaded. Please load a model."}, "is not loaded on its server", brokenOne},
		{"no endpoint", Error{Class: EndpointMissing, Status: 404, Detail: "404 page not found"}, "has no endpoint for the configured API", brokenOne},
		{"401", Error{Class: AuthFailed, Status: 401, Detail: "invalid x-api-key"}, "refused the API key", brokenOne},
		{"402", Error{Class: AuthFailed, Status: 402, Detail: "Insufficient credits"}, "refused the request: payment required (check the account's credit)", brokenOne},
		{"403", Error{Class: AuthFailed, Status: 403, Detail: "forbidden"}, "denied access (check the API key's permissions)", brokenOne},
		{"reasoning only", Error{Class: EmptyReply, Detail: "the response had no final text (status completed)"}, "answered with nothing usable", unusableOne},
		{"malformed", Error{Class: Malformed, Detail: "unexpected EOF"}, "sent a reply that could not be read", unusableOne},
		{"overflow", Error{Class: ContextOverflow, Status: 400}, "cannot take a conversation this long", tooLongOne},
		{"400", Error{Class: BadRequest, Status: 400, Detail: "invalid tool schema"}, "refused the request", refusedOne},
		{"tool loop", Error{Class: ToolLoop, Detail: "no answer after 5 steps"}, "kept calling tools without answering", refusedOne},
	}
	for _, tt := range tests {
		for _, kind := range []string{"local", "hosted"} {
			for _, fallback := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/fallback=%v", tt.name, kind, fallback)
				t.Run(name, func(t *testing.T) {
					h := newHarness(t, twoModels(kind, fallback, ""), nil)
					for range 40 { // a loading model is asked again while it loads
						h.prov.on("p1/m1", failWith(tt.err))
						h.prov.on("p2/m2", failWith(tt.err))
					}
					_, out, err := h.ask(t, Conversation{})
					var ce *ChainError
					if !errors.As(err, &ce) {
						t.Fatalf("err = %v; want a ChainError", err)
					}
					if got, want := out.Failures[0].Reason(), "the "+kind+" model First "+tt.because; got != want {
						t.Errorf("reason = %q; want %q", got, want)
					}
					if fallback {
						other := map[string]string{"local": "hosted", "hosted": "local"}[kind]
						if got, want := out.Failures[1].Reason(), "the "+other+" model Second "+tt.because; got != want {
							t.Errorf("fallback's reason = %q; want %q", got, want)
						}
					}
					sorry := tt.sorry
					if fallback {
						sorry = plural(sorry)
					}
					if got := ce.UserMessage(); got != sorry {
						t.Errorf("apology = %q; want %q", got, sorry)
					}
					checkApology(t, ce.UserMessage(), tt.sorry == passingOne)
				})
			}
		}
	}
}

const (
	passingOne  = "Sorry, I can't answer right now: my model is not available. Please try again in a few minutes."
	brokenOne   = "Sorry, I can't answer: my model is not working, and trying again won't help until the bot's owner fixes its setup."
	unusableOne = "Sorry, I couldn't answer that: my model replied with nothing usable. Asking in other words may help; waiting won't."
	tooLongOne  = "Sorry, I can't answer: this conversation has grown too long for my model. An admin can start a fresh one with /new."
	refusedOne  = "Sorry, I couldn't answer that: my model could not handle this message."
)

// plural is the apology when more than one model failed.
func plural(one string) string {
	return map[string]string{
		passingOne:  "Sorry, I can't answer right now: none of my models is available. Please try again in a few minutes.",
		brokenOne:   "Sorry, I can't answer: none of my models is working, and trying again won't help until the bot's owner fixes their setup.",
		unusableOne: strings.Replace(unusableOne, "my model ", "my models ", 1),
		tooLongOne:  strings.Replace(tooLongOne, "my model.", "my models.", 1),
		refusedOne:  strings.Replace(refusedOne, "my model ", "my models ", 1),
	}[one]
}

// checkApology: an apology names no model, kind or server, and promises
// that waiting helps only when it may.
func checkApology(t *testing.T, msg string, waitingHelps bool) {
	t.Helper()
	for _, internal := range []string{"First", "Second", "local", "hosted", "p1", "HTTP", "KEY"} {
		if strings.Contains(msg, internal) {
			t.Errorf("apology %q names %q", msg, internal)
		}
	}
	if got := strings.Contains(msg, "try again in a few minutes"); got != waitingHelps {
		t.Errorf("apology %q: says waiting helps = %v; want %v", msg, got, waitingHelps)
	}
}

// twoModels is a config with primary p1/m1 ("First") of the given kind
// and, with fallback, p2/m2 ("Second") of the other kind. key, if set, is
// p1's apiKey.
func twoModels(kind string, fallback bool, key string) string {
	urls := map[string]string{"local": "http://127.0.0.1:1/v1", "hosted": "https://x.example/v1"}
	other := map[string]string{"local": "hosted", "hosted": "local"}[kind]
	fallbacks := ""
	if fallback {
		fallbacks = `"p2/m2"`
	}
	if key == "" {
		key = "k"
	}
	return fmt.Sprintf(`{
	  agents: { defaults: { model: { primary: "p1/m1", fallbacks: [%s] }, models: { "p1/m1": { alias: "First" }, "p2/m2": { alias: "Second" } } } },
	  models: { mode: "replace", providers: {
	    p1: { baseUrl: %q, apiKey: %q, api: "openai-responses", models: [{ id: "m1" }] },
	    p2: { baseUrl: %q, apiKey: "k", api: "openai-responses", models: [{ id: "m2" }] },
	  } },
	}`, fallbacks, urls[kind], key, urls[other])
}

// A model whose provider is not set up is never called: it is reported as
// not tried, with the missing setting, whichever kind it is; when it was
// the only model, the owner must act.
func TestNotSetUpIsNotTried(t *testing.T) {
	for _, kind := range []string{"local", "hosted"} {
		for _, fallback := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/fallback=%v", kind, fallback), func(t *testing.T) {
				h := newHarness(t, twoModels(kind, fallback, "${FIRST_KEY}"), nil)
				text, out, err := h.ask(t, Conversation{})
				if h.prov.count("p1/m1") != 0 {
					t.Fatal("a model whose provider is not set up was called")
				}
				want := "the " + kind + " model First was not tried: it is not set up (FIRST_KEY is not set)"
				if got := out.Failures[0].Reason(); got != want || out.Failures[0].Tried() {
					t.Errorf("reason = %q; want %q, not tried", got, want)
				}
				if fallback {
					if err != nil || text != "answer from p2/m2" {
						t.Errorf("Reply = %q, %v; want the fallback's answer", text, err)
					}
					return
				}
				var ce *ChainError
				if !errors.As(err, &ce) || ce.UserMessage() != brokenOne {
					t.Errorf("err = %v; want the apology %q", err, brokenOne)
				}
			})
		}
	}
}

// The models that were called decide the apology: a reasoning-only answer
// from the local model, with the hosted fallback not set up, is an answer
// with nothing usable (not "try again in a few minutes"); a local model
// that is down with an unusable fallback is worth waiting for.
func TestApologyFollowsWhatWasCalled(t *testing.T) {
	h := newHarness(t, twoModels("local", true, ""), nil)
	h.prov.on("p1/m1", failWith(Error{Class: EmptyReply}))
	h.prov.on("p2/m2", failWith(Error{Class: AuthFailed, Status: 401}))
	_, _, err := h.ask(t, Conversation{})
	var ce *ChainError
	if !errors.As(err, &ce) || ce.UserMessage() != unusableOne {
		t.Errorf("reasoning-only, then a refused key: %v; want %q", err, unusableOne)
	}

	h = newHarness(t, twoModels("local", true, ""), nil)
	h.prov.on("p1/m1", failWith(Error{Class: Unreachable}))
	h.prov.on("p2/m2", failWith(Error{Class: EmptyReply}))
	_, _, err = h.ask(t, Conversation{})
	if !errors.As(err, &ce) || ce.UserMessage() != plural(passingOne) {
		t.Errorf("down, then reasoning-only: %v; want %q", err, plural(passingOne))
	}
}
