package agenttest

import (
	"bytes"
	"context"
	"net/http"
	"time"
)

// sseEvent is one server-sent event.
type sseEvent struct {
	name  string // the event: line; empty for chat completions
	data  []byte
	delta bool // a text, reasoning or arguments delta
}

func (e sseEvent) encode() []byte {
	var b bytes.Buffer
	if e.name != "" {
		b.WriteString("event: ")
		b.WriteString(e.name)
		b.WriteByte('\n')
	}
	b.WriteString("data: ")
	b.Write(e.data)
	b.WriteString("\n\n")
	return b.Bytes()
}

// startStream writes the headers of an event stream.
func (s *Server) startStream(w http.ResponseWriter) {
	if s.style == Anthropic {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "text/event-stream")
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_ = http.NewResponseController(w).Flush()
}

// emit writes events one by one, flushing each, until the client goes away,
// waiting pace before each delta after the first.
func emit(ctx context.Context, w http.ResponseWriter, events []sseEvent, pace time.Duration) {
	rc := http.NewResponseController(w)
	deltas := 0
	for _, e := range events {
		if e.delta {
			if deltas > 0 && pace > 0 {
				select {
				case <-time.After(pace):
				case <-ctx.Done():
					return
				}
			}
			deltas++
		}
		if _, err := w.Write(e.encode()); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// writeStreamEvents writes a whole event stream.
func (s *Server) writeStreamEvents(c *call, events []sseEvent) {
	s.startStream(c.w)
	emit(c.r.Context(), c.w, events, c.reply.ChunkDelay)
}

// cutPoint is the index of the last event a failing stream still sends: the
// n-th delta (the last one if there are fewer; n < 1 counts as 1), or,
// without deltas, the second event.
func cutPoint(events []sseEvent, n int) int {
	last := -1
	for i, e := range events {
		if e.delta {
			last = i
			if n--; n <= 0 {
				return i
			}
		}
	}
	if last >= 0 {
		return last
	}
	return min(1, len(events)-1)
}

// writeStream writes an event stream, failing it as the reply's fault says.
func (s *Server) writeStream(c *call, events []sseEvent) {
	if len(events) == 0 {
		s.writeStreamEvents(c, nil)
		return
	}
	k := cutPoint(events, c.reply.FaultAfter)
	switch c.reply.Fault {
	case HangMidStream:
		s.writeStreamEvents(c, events[:k+1])
		s.hang(c.r.Context())
	case CutStream:
		s.writeStreamEvents(c, events[:k+1])
		dropConnection(c.w)
	case StreamEndsEarly:
		s.writeStreamEvents(c, events[:k+1])
	case StreamError, ResponseFailed:
		if c.api == apiResponses && c.reply.Fault == ResponseFailed {
			s.writeStreamEvents(c, events) // already ends with response.failed
			return
		}
		e := s.errorDetail(c, StreamError)
		s.writeStreamEvents(c, append(events[:k+1:k+1], s.errorEvent(c, e, k+1)))
	case MalformedJSON:
		broken := events[k]
		broken.data = broken.data[:len(broken.data)/2]
		out := append(append(events[:k:k], broken), events[k+1:]...)
		s.writeStreamEvents(c, out)
	default:
		s.writeStreamEvents(c, events)
	}
}

// errorEvent is a mid-stream error event of the call's API; seq is its
// sequence number in a Responses stream.
func (s *Server) errorEvent(c *call, e errDetail, seq int) sseEvent {
	switch c.api {
	case apiResponses:
		return s.responsesErrorEvent(e, seq)
	case apiMessages:
		return sseEvent{name: "error", data: mustJSON(obj{{"type", "error"}, {"error", s.errorObject(e)}})}
	}
	return sseEvent{data: mustJSON(s.errorEnvelope(e))}
}

// responsesErrorEvent is the `error` event of a Responses stream, with the
// error object nested under "error" as OpenAI sends it (so openai-go ends
// the stream with an *ssestream.StreamError).
func (s *Server) responsesErrorEvent(e errDetail, seq int) sseEvent {
	inner := obj{{"type", e.typ}, {"code", e.code}, {"message", e.message}, {"param", e.param}}
	data := obj{{"type", "error"}, {"error", inner}, {"sequence_number", seq}}
	return sseEvent{name: "error", data: mustJSON(sorted(data))}
}
