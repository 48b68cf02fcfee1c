package agent

import (
	"strings"
)

const (
	thinkOpen  = "<think>"
	thinkClose = "</think>"
)

// thinkState is where a thinkFilter is in the text.
type thinkState int

const (
	thinkVisible thinkState = iota // answer text
	thinkInside                    // between <think> and </think>
)

// thinkFilter removes reasoning that a model wrote inline into its answer:
// <think>...</think> blocks, an unclosed <think> (everything after it), and
// everything before a lone </think> (LM Studio's MiniMax writes its
// reasoning with no opening tag). It is fed text in chunks as they stream,
// so a tag may arrive split across chunks; the answer is read with Text
// once the stream has ended. This is a second guard: reasoning that a server
// reports separately never reaches it.
type thinkFilter struct {
	state   thinkState
	pending string // a possible tag prefix held back until the next chunk
	out     strings.Builder

	// For streaming (fresh): text is only handed out once it can no
	// longer turn out to be reasoning.
	settled bool // a </think> was passed, or the caller vouched (settle)
	given   int  // bytes of out handed out by fresh
	broken  bool // out was dropped after some of it was handed out
}

// settle says that text seen from now on is the answer unless tagged: the
// server reports reasoning apart, or the model does not reason.
func (f *thinkFilter) settle() { f.settled = true }

// fresh returns the answer text written since its last call that can be
// handed out while the stream goes on: none inside an open <think>, none
// before the first </think> unless settled (a lone </think> would make it
// reasoning), and none after text already handed out was dropped by a
// later lone </think>.
func (f *thinkFilter) fresh() string {
	if !f.settled || f.broken || f.out.Len() <= f.given {
		return ""
	}
	s := f.out.String()[f.given:]
	f.given = f.out.Len()
	return s
}

// Write feeds the next chunk of streamed text.
func (f *thinkFilter) Write(chunk string) {
	s := f.pending + chunk
	f.pending = ""
	for s != "" {
		switch f.state {
		case thinkVisible:
			open, closing := strings.Index(s, thinkOpen), strings.Index(s, thinkClose)
			switch {
			case open >= 0 && (closing < 0 || open < closing):
				f.out.WriteString(s[:open])
				s = s[open+len(thinkOpen):]
				f.state = thinkInside
			case closing >= 0:
				// A closing tag with no opening one: what came before was
				// reasoning.
				if f.given > 0 {
					f.broken = true
				}
				f.out.Reset()
				f.given = 0
				f.settled = true
				s = s[closing+len(thinkClose):]
			default:
				keep := partialTagSuffix(s)
				f.out.WriteString(s[:len(s)-keep])
				f.pending = s[len(s)-keep:]
				s = ""
			}
		case thinkInside:
			closing := strings.Index(s, thinkClose)
			if closing < 0 {
				keep := partialTagSuffix(s)
				f.pending = s[len(s)-keep:]
				s = ""
				break
			}
			s = s[closing+len(thinkClose):]
			f.state = thinkVisible
			f.settled = true
		}
	}
}

// Text returns the answer with the reasoning removed and surrounding space
// trimmed. Text inside a <think> that never closed is dropped.
func (f *thinkFilter) Text() string {
	if f.state == thinkVisible {
		f.out.WriteString(f.pending) // a partial tag that never completed is text
	}
	f.pending = ""
	return strings.TrimSpace(f.out.String())
}

// partialTagSuffix returns the length of the longest suffix of s that is a
// proper prefix of <think> or </think>.
func partialTagSuffix(s string) int {
	for n := min(len(s), len(thinkClose)-1); n > 0; n-- {
		suffix := s[len(s)-n:]
		if strings.HasPrefix(thinkOpen, suffix) || strings.HasPrefix(thinkClose, suffix) {
			return n
		}
	}
	return 0
}

// stripThink cleans a whole text at once.
func stripThink(s string) string {
	var f thinkFilter
	f.Write(s)
	return f.Text()
}
