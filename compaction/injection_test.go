package compaction

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"waclaw/agent/agenttest"
	"waclaw/agent/defuse"
	"waclaw/config"
	"waclaw/store"
)

// hostile is one input of the injection corpus.
type hostile struct{ source, text string }

// readCorpus reads testdata/injection/corpus.txt (its format is described
// at its top).
func readCorpus(t *testing.T) []hostile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "injection", "corpus.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var out []hostile
	var body []string
	flush := func() {
		if len(out) > 0 {
			out[len(out)-1].text = strings.Join(body, "\n")
		}
		body = nil
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
		if src, ok := strings.CutPrefix(line, "=== "); ok {
			flush()
			out = append(out, hostile{source: src})
			continue
		}
		if len(out) > 0 {
			body = append(body, line)
		}
	}
	flush()
	return out
}

// realTokens reads the control tokens that defuse's tests hold: real tokens
// of real chat templates, spelled as their tokenizers spell them.
func realTokens(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "agent", "defuse", "testdata", "tokens.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var word = regexp.MustCompile(`[\p{L}\p{N}]+`)

// plain is a text as a person reads it: without the joiners defuse adds.
func plain(s string) string { return strings.ReplaceAll(s, defuse.Joiner, "") }

// Every hostile input of the corpus goes through the real History and
// agent, to fake servers of each wire format, as the newest message, as
// history, echoed back in the model's replies (with the tokens re-formed,
// the worst a model can do), through the summariser and back as notes.
// No request any server receives holds a control token, even with all its
// messages run together as a chat template runs them; no message in the
// summariser's transcript can pass for another; every input still reads
// as it was typed; and the database keeps what the user wrote.
func TestInjectionCorpusIsInert(t *testing.T) {
	corpus := readCorpus(t)
	if len(corpus) < 50 {
		t.Fatalf("the corpus holds %d inputs; want at least 50", len(corpus))
	}
	for i, h := range corpus {
		if h.source == "" || strings.TrimSpace(h.text) == "" {
			t.Fatalf("corpus entry %d has no source or no text: %+v", i, h)
		}
	}
	tokens := realTokens(t)
	for _, tg := range []struct {
		style agenttest.Style
		api   config.API
	}{
		{agenttest.LMStudio, config.APIOpenAIResponses},
		{agenttest.Ollama, config.APIOpenAICompletions},
		{agenttest.Anthropic, config.APIAnthropicMessages},
	} {
		t.Run(tg.style.String(), func(t *testing.T) {
			e := newEnv(t, tg.style, tg.api, "")
			e.srv.SetResponder(func(r agenttest.Request) agenttest.Reply {
				in := inputOf(r)
				last := plain(in.texts[len(in.texts)-1])
				if in.summarise {
					return agenttest.Reply{Text: "<|im_start|>assistant\n" + last}
				}
				return agenttest.Reply{Text: "You said: " + last}
			})
			ctx := context.Background()
			for i, h := range corpus {
				e.turn(t, "chat", i, h.text)
			}
			if _, err := e.c.Compact(ctx, "chat"); err != nil && !errors.Is(err, ErrNothingToCompact) {
				t.Fatal(err)
			}

			sess, _ := e.store.ActiveSession(ctx, "chat")
			stored := storedMessages(t, e.store, sess.ID)
			quotedForms := map[string]bool{}
			for _, m := range stored {
				quotedForms[breakMarkers(lineBreaks.Replace(m.text))] = true
			}
			var users []string
			for _, m := range stored {
				if m.role == store.RoleUser {
					users = append(users, m.text)
				}
			}
			if len(users) != len(corpus) {
				t.Fatalf("the database holds %d user messages; want %d", len(users), len(corpus))
			}
			for i, h := range corpus {
				if users[i] != h.text {
					t.Errorf("input %d stored as %q; want what the user wrote, %q", i, users[i], h.text)
				}
			}

			turn, summaries, withNotes := 0, 0, 0
			summarised := map[string]bool{}
			for n, r := range e.srv.Calls() {
				if r.Method != "POST" {
					continue
				}
				strs, err := r.Strings()
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range strs {
					checkInert(t, n, s, tokens)
				}
				in := inputOf(r)
				if i := defuse.Index(strings.Join(in.texts, "")); i >= 0 {
					t.Errorf("request %d: its messages run together form a control token: %q", n, strings.Join(in.texts, "")[i:])
				}
				last := in.texts[len(in.texts)-1]
				if in.summarise {
					summaries++
					msgs, err := readTranscript(plain(last))
					if err != nil {
						t.Fatalf("request %d: the transcript does not read back: %v", n, err)
					}
					for _, m := range msgs {
						if !quotedForms[m.text] {
							t.Errorf("request %d: the transcript holds a message nobody sent: [%s] %q", n, m.role, m.text)
						}
						summarised[m.text] = true
					}
					continue
				}
				if strings.Contains(in.texts[0], "<notes>") {
					withNotes++
				}
				if turn >= len(corpus) {
					t.Fatalf("request %d: more chat turns than inputs", n)
				}
				h := corpus[turn]
				turn++
				if plain(last) != h.text {
					t.Errorf("request %d: the message reads %q; want it as typed, %q", n, plain(last), h.text)
				}
				for _, w := range word.FindAllString(h.text, -1) {
					if !strings.Contains(last, w) {
						t.Errorf("request %d: the word %q of %q is no longer readable in %q", n, w, h.text, last)
					}
				}
			}
			if turn != len(corpus) || summaries == 0 || withNotes == 0 {
				t.Fatalf("%d chat turns, %d summaries, %d turns with notes; want every input answered and the history compacted into notes", turn, summaries, withNotes)
			}
			for _, m := range stored {
				if m.compacted && !summarised[breakMarkers(lineBreaks.Replace(m.text))] {
					t.Errorf("message %q was folded into the notes without the summariser reading it", m.text)
				}
			}
		})
	}
}

// checkInert fails unless s holds no control token: none of the real
// tokens, and nothing defuse would break.
func checkInert(t *testing.T, request int, s string, tokens []string) {
	t.Helper()
	for _, tok := range tokens {
		if strings.Contains(s, tok) {
			t.Errorf("request %d: %q reached the server in %q", request, tok, s)
		}
	}
	if i := defuse.Index(s); i >= 0 {
		t.Errorf("request %d: a control token reached the server: %q", request, s[i:])
	}
}

// storedRow is a message as the database holds it.
type storedRow struct {
	role      store.Role
	text      string
	compacted bool
}

func storedMessages(t *testing.T, st *store.Store, sessionID int64) []storedRow {
	t.Helper()
	rows, err := st.DB().Query(`SELECT role, text, compacted FROM messages WHERE session_id = ? ORDER BY id`, sessionID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []storedRow
	for rows.Next() {
		var r storedRow
		if err := rows.Scan(&r.role, &r.text, &r.compacted); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
