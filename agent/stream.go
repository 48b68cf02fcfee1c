package agent

import (
	"context"
	"errors"
)

// Stream receives a turn's answer while the model writes it, so that a
// long answer can reach the user in parts. It is only ever given answer
// text: reasoning, inline <think> blocks and anything that could still
// turn out to be reasoning are held back, and a model offered tools does
// not stream (text before a tool call is not the answer).
type Stream interface {
	// Write takes the next piece of the answer.
	Write(piece string)
	// Committed reports whether some of the text written has gone, or is
	// on its way, to the user. After that a failed model is not followed
	// by a fallback: it would answer again from the start.
	Committed() bool
	// Reset forgets the text of an attempt that failed before anything
	// was committed; the next model starts afresh.
	Reset()
}

// ErrCutOff matches the error of a turn whose model failed after part of
// its answer had been committed to its Stream.
var ErrCutOff = errors.New("the answer was cut off")

type streamKey struct{}

// WithStream returns ctx carrying s, for the caller's answer
// conversation (see Conversation.Streamed); no other call streams.
func WithStream(ctx context.Context, s Stream) context.Context {
	return context.WithValue(ctx, streamKey{}, s)
}

// Streamed returns c with the Stream that ctx carries, if any: an
// intermediate layer (compaction) passes the stream through to the answer
// call only, never to a summary.
func (c Conversation) Streamed(ctx context.Context) Conversation {
	if s, ok := ctx.Value(streamKey{}).(Stream); ok {
		c.Stream = s
	}
	return c
}
