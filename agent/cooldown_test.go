package agent

import (
	"strings"
	"testing"
	"time"
)

// Two models on one local server, and a hosted fallback.
const siblings = `{
  agents: { defaults: {
    model: { primary: "local/big", fallbacks: ["local/small", "hosted/b"] },
    models: { "local/big": { alias: "Big" }, "local/small": { alias: "Small" }, "hosted/b": { alias: "Bee" } },
  } },
  models: { mode: "replace", providers: {
    local:  { baseUrl: "http://127.0.0.1:1/v1", api: "openai-responses", idleTimeout: "20s", models: [{ id: "big" }, { id: "small" }] },
    hosted: { baseUrl: "https://b.example/v1", apiKey: "k", api: "openai-completions", models: [{ id: "b" }] },
  } },
}`

func failWith(e Error) func(*Request) (*Result, error) {
	return func(*Request) (*Result, error) { cp := e; return nil, &cp }
}

// A failure that is the model's own cools down that model only: the
// other model on the same server answers at once, the hosted fallback is
// never asked, and while the broken model cools down it is skipped (and
// reported as not tried) without a call.
func TestModelFailureLeavesItsNeighboursUsable(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		why  string // the cooldown, as the skipped model's reason says it
	}{
		{"not found", Error{Class: ModelMissing, Status: 404, Detail: "model 'big' not found (not_found_error)"}, "it is not found on its server"},
		{"reasoning only", Error{Class: EmptyReply, Detail: "the response had no final text (status completed)"}, "it answered with nothing usable"},
		{"load failure", Error{Class: LoadFailed, Status: 500, Detail: "llama runner process has terminated: exit status 2"}, "it failed to load or crashed on its server"},
		{"500", Error{Class: ServerFailed, Status: 500, Detail: "Internal Server Error"}, "it had a server error"},
		{"503 naming the model", Error{Class: ServerFailed, Status: 503, Detail: "model big is unavailable"}, "it is unavailable (HTTP 503)"},
		{"cut stream", Error{Class: ServerFailed, Detail: "the connection dropped mid-reply"}, "it had a server error"},
		{"silent stream", Error{Class: Timeout, Detail: "no data for 20s"}, "it stopped responding"},
		{"malformed", Error{Class: Malformed, Detail: "unexpected end of JSON input"}, "it sent a reply that could not be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, siblings, nil)
			h.prov.on("local/big", failWith(tt.err))

			text, out, err := h.ask(t, Conversation{})
			if err != nil || text != "answer from local/small" {
				t.Fatalf("Reply = %q, %v; want the other local model's answer", text, err)
			}
			if h.prov.count("hosted/b") != 0 {
				t.Errorf("the hosted fallback was asked while a local model could answer")
			}
			if len(out.Failures) != 1 || !out.Failures[0].Tried() {
				t.Errorf("failures = %v; want only the broken model, as tried", out.Failures)
			}
			big, small := h.cfg.Chain()[0], h.cfg.Chain()[1]
			if cd := h.agent.CoolingDown(big); cd == nil || cd.Model != "big" {
				t.Errorf("CoolingDown(big) = %+v; want the model's own cooldown", cd)
			}
			if cd := h.agent.CoolingDown(small); cd != nil {
				t.Errorf("CoolingDown(small) = %+v; want none", cd)
			}

			// Ten seconds later: the broken model is skipped without a call.
			h.clock.Advance(10 * time.Second)
			text, out, err = h.ask(t, Conversation{})
			if err != nil || text != "answer from local/small" || h.prov.count("local/big") != 1 {
				t.Fatalf("Reply = %q, %v, big called %d times; want small's answer and no second call to big", text, err, h.prov.count("local/big"))
			}
			want := "the local model Big was not tried: " + tt.why
			if len(out.Failures) != 1 || out.Failures[0].Tried() || out.Failures[0].Reason() != want {
				t.Errorf("failures = %v; want one, not tried, with reason %q", out.Failures, want)
			}

			// After 30 s it is asked again.
			h.clock.Advance(21 * time.Second)
			if text, _, _ := h.ask(t, Conversation{}); text != "answer from local/big" {
				t.Errorf("after the cooldown: %q; want big asked again", text)
			}
		})
	}
}

// A failure that is the server's skips every model of that provider, and
// the models skipped are reported as not tried, each with its own reason.
func TestServerFailureSkipsTheWholeProvider(t *testing.T) {
	tests := []struct {
		name  string
		err   Error
		why   string
		until time.Duration
	}{
		{"unreachable", Error{Class: Unreachable, Detail: "connection refused"}, "its server is unreachable", 30 * time.Second},
		{"401", Error{Class: AuthFailed, Status: 401, Detail: "unauthorized"}, "its server refused the API key", 30 * time.Minute},
		{"403", Error{Class: AuthFailed, Status: 403, Detail: "forbidden"}, "its server denied access (check the API key's permissions)", 30 * time.Minute},
		{"429", Error{Class: RateLimited, Status: 429, Detail: "too many requests", RetryAfter: 90 * time.Second}, "its server is rate limited", 90 * time.Second},
		{"overloaded", Error{Class: Overloaded, Status: 529, Detail: "Overloaded"}, "its server is overloaded", 30 * time.Second},
		{"503 busy", Error{Class: ServerFailed, Status: 503, Detail: "server busy, please try again.  maximum pending requests exceeded"}, "its server is unavailable (HTTP 503)", 30 * time.Second},
		{"no such endpoint", Error{Class: EndpointMissing, Status: 404, Detail: "404 page not found"}, "its server has no endpoint for the configured API", 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, siblings, nil)
			h.prov.on("local/big", failWith(tt.err))
			text, out, err := h.ask(t, Conversation{})
			if err != nil || text != "answer from hosted/b" {
				t.Fatalf("Reply = %q, %v; want the hosted fallback", text, err)
			}
			if h.prov.count("local/small") != 0 {
				t.Errorf("the other model of a server that failed as a whole was called")
			}
			if len(out.Failures) != 2 || !out.Failures[0].Tried() || out.Failures[1].Tried() {
				t.Fatalf("failures = %v; want big tried, small not tried", out.Failures)
			}
			if got, want := out.Failures[1].Reason(), "the local model Small was not tried: "+tt.why; got != want {
				t.Errorf("skipped model's reason = %q; want %q", got, want)
			}
			if !strings.HasPrefix(out.Failures[0].Reason(), "the local model Big ") {
				t.Errorf("failed model's reason = %q", out.Failures[0].Reason())
			}
			small := h.cfg.Chain()[1]
			cd := h.agent.CoolingDown(small)
			if cd == nil || cd.Model != "" || cd.Until.Sub(h.clock.Now()) != tt.until {
				t.Errorf("CoolingDown(small) = %+v; want the provider's, for %v", cd, tt.until)
			}
		})
	}
}

// The provider's backoff grows as before (30 s, 1 min, 5 min), and a
// model's own backoff grows the same way without touching its neighbour.
func TestBackoffPerModelAndPerProvider(t *testing.T) {
	h := newHarness(t, siblings, nil)
	big, small := h.cfg.Chain()[0], h.cfg.Chain()[1]
	empty := Error{Class: EmptyReply, Detail: "no final text"}
	h.prov.on("local/big", failWith(empty), failWith(empty), failWith(empty))
	for i, want := range []time.Duration{30 * time.Second, time.Minute, 5 * time.Minute} {
		if text, _, _ := h.ask(t, Conversation{}); text != "answer from local/small" {
			t.Fatalf("turn %d answered %q; want small", i, text)
		}
		cd := h.agent.CoolingDown(big)
		if cd == nil || cd.Until.Sub(h.clock.Now()) != want {
			t.Fatalf("turn %d: big's cooldown = %+v; want %v", i, cd, want)
		}
		h.clock.Advance(want)
	}
	if h.agent.CoolingDown(small) != nil || h.prov.count("hosted/b") != 0 {
		t.Error("a model's own failures reached its neighbour or the hosted fallback")
	}
	// An answer from big ends its record; the next failure starts at 30 s.
	h.ask(t, Conversation{})
	h.prov.on("local/big", failWith(empty))
	h.ask(t, Conversation{})
	if cd := h.agent.CoolingDown(big); cd == nil || cd.Until.Sub(h.clock.Now()) != 30*time.Second {
		t.Errorf("after a recovery: %+v; want 30s again", cd)
	}
	if got := h.agent.Health(); len(got) != 1 || got[0].Provider != "local" || got[0].Model != "big" {
		t.Errorf("Health() = %+v; want big's cooldown only", got)
	}
}
