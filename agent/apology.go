package agent

import "slices"

// UserMessage is the one short apology a chat sees, naming no internals:
// what went wrong as far as the user can act on it (wait, ask otherwise,
// start afresh, or nothing until the owner fixes the setup), of "my
// model" or "my models" as it is. The failures of models that were
// called decide it; those skipped without a call count only when no model
// was called.
func (e *ChainError) UserMessage() string {
	fs := slices.DeleteFunc(slices.Clone(e.Failures), func(f *Error) bool { return !f.Tried() })
	if len(fs) == 0 {
		fs = e.Failures
	}
	decisive, all := map[trouble]bool{}, map[trouble]int{}
	for _, f := range fs {
		decisive[troubleOf(f.Class)] = true
	}
	for _, f := range e.Failures {
		all[troubleOf(f.Class)]++
	}
	// Waiting helps if anything is passing; then an unusable answer (asking
	// otherwise may help), then the rest.
	for _, t := range []trouble{passing, unusable, tooLong, refused, broken, blind} {
		if !decisive[t] {
			continue
		}
		// "None of my models is available" is said of them all; "my
		// model replied with nothing usable" of those that replied.
		one := all[t] == 1
		if t == passing || t == broken {
			one = len(e.Failures) == 1
		}
		return troubleWords(t, one)
	}
	return troubleWords(passing, false)
}

// trouble is what a failure means to the person waiting for an answer.
type trouble int

const (
	passing  trouble = iota // down, busy, loading, crashed, erring: trying later may work
	unusable                // it answered, but with nothing that can be shown
	tooLong                 // the conversation does not fit
	refused                 // the request itself was refused or looped
	broken                  // missing, unauthorised, not set up: the owner must act
	blind                   // a picture, and no model that can see it
)

func troubleOf(c Class) trouble {
	switch c {
	case EmptyReply, Malformed:
		return unusable
	case ContextOverflow:
		return tooLong
	case BadRequest, ToolLoop:
		return refused
	case ModelMissing, EndpointMissing, AuthFailed, NotConfigured:
		return broken
	case CannotSee:
		return blind
	}
	// A model that failed to load or crashed is loaded afresh on the next
	// request (LM Studio's just-in-time loading, a new Ollama runner):
	// it may well answer then.
	return passing
}

func troubleWords(t trouble, one bool) string {
	switch t {
	case unusable:
		if one {
			return "Sorry, I couldn't answer that: my model replied with nothing usable. Asking in other words may help; waiting won't."
		}
		return "Sorry, I couldn't answer that: my models replied with nothing usable. Asking in other words may help; waiting won't."
	case tooLong:
		if one {
			return "Sorry, I can't answer: this conversation has grown too long for my model. An admin can start a fresh one with /new."
		}
		return "Sorry, I can't answer: this conversation has grown too long for my models. An admin can start a fresh one with /new."
	case refused:
		if one {
			return "Sorry, I couldn't answer that: my model could not handle this message."
		}
		return "Sorry, I couldn't answer that: my models could not handle this message."
	case blind:
		if one {
			return "Sorry, my model can't see pictures. Please describe the picture in words."
		}
		return "Sorry, none of my models can see pictures. Please describe the picture in words."
	case broken:
		if one {
			return "Sorry, I can't answer: my model is not working, and trying again won't help until the bot's owner fixes its setup."
		}
		return "Sorry, I can't answer: none of my models is working, and trying again won't help until the bot's owner fixes their setup."
	}
	if one {
		return "Sorry, I can't answer right now: my model is not available. Please try again in a few minutes."
	}
	return "Sorry, I can't answer right now: none of my models is available. Please try again in a few minutes."
}
