package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"waclaw/config"
)

// maxErrorBody caps how much of an error response is kept.
const maxErrorBody = 64 << 10

// exchange observes one call's HTTP response underneath the SDK, so that
// failures are classified the same way whichever SDK made the call and
// whatever shape the server's error body had (the SDKs keep only part of
// it, and an HTTP 200 whose body is an error gives them no error at all).
type exchange struct {
	mu         sync.Mutex
	status     int
	retryAfter time.Duration
	body       []byte // error bodies only
}

// errBodyIn200 is returned through the SDK when a server answers 200 with an
// error object instead of a result (LM Studio does this for some failures).
var errBodyIn200 = errors.New("server answered 200 with an error body")

// observe is the middleware body shared by both SDKs.
func (x *exchange) observe(req *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	res, err := next(req)
	if err != nil {
		return res, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.status = res.StatusCode
	x.retryAfter = parseRetryAfter(res.Header.Get("Retry-After"), time.Now())
	mediaType, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	switch {
	case res.StatusCode >= 400:
		x.body = readAndRestore(res, maxErrorBody)
	case mediaType == "application/json":
		body := readAndRestore(res, -1)
		if hasErrorField(body) {
			x.body = truncateBytes(body, maxErrorBody)
			res.Body.Close()
			return nil, errBodyIn200
		}
	}
	return res, nil
}

func (x *exchange) snapshot() (int, time.Duration, []byte) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.status, x.retryAfter, x.body
}

// readAndRestore reads the body (up to limit bytes, or all when limit < 0)
// and puts an identical body back for the SDK to read.
func readAndRestore(res *http.Response, limit int64) []byte {
	var r io.Reader = res.Body
	if limit >= 0 {
		r = io.LimitReader(res.Body, limit)
	}
	b, _ := io.ReadAll(r)
	res.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), res.Body), res.Body}
	return b
}

func truncateBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// hasErrorField reports whether a JSON object has a non-null top-level
// "error".
func hasErrorField(body []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return false
	}
	e, ok := top["error"]
	return ok && string(e) != "null"
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && secs > 0 {
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// errorMessage pulls the human text out of an error body in any of the
// shapes servers use: {"error":{"message":...}}, {"error":"..."},
// {"object":"error","message":...}, {"type":"error","error":{...}}.
func errorMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  string          `json:"detail"`
	}
	if json.Unmarshal(body, &v) != nil {
		return strings.TrimSpace(string(truncateBytes(body, 300)))
	}
	var nested struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    any    `json:"code"`
	}
	var s string
	switch {
	case json.Unmarshal(v.Error, &s) == nil && s != "":
		return s
	case json.Unmarshal(v.Error, &nested) == nil && nested.Message != "":
		msg := nested.Message
		if code, ok := nested.Code.(string); ok && code != "" && !strings.Contains(msg, code) {
			msg += " (" + code + ")"
		} else if nested.Type != "" && !strings.Contains(msg, nested.Type) {
			msg += " (" + nested.Type + ")"
		}
		return msg
	case v.Message != "":
		return v.Message
	case v.Detail != "":
		return v.Detail
	}
	return strings.TrimSpace(string(truncateBytes(body, 300)))
}

// errIdle is the cause of a call abandoned because its stream went silent.
var errIdle = errors.New("stream went silent")

// idleTimer cancels a call's context when no event has arrived for d: a
// model that is loading or generating keeps streaming and is not cut, a hung
// one is abandoned quickly.
type idleTimer struct {
	timer *time.Timer
	d     time.Duration
}

// withIdleTimeout returns a context that is cancelled with cause errIdle
// after d without a call to kick, and a stop function to release it.
func withIdleTimeout(ctx context.Context, d time.Duration) (context.Context, *idleTimer, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	if d <= 0 {
		return ctx, &idleTimer{}, func() { cancel(nil) }
	}
	t := &idleTimer{d: d, timer: time.AfterFunc(d, func() { cancel(fmt.Errorf("%w for %s", errIdle, d)) })}
	return ctx, t, func() { t.timer.Stop(); cancel(nil) }
}

// callContext bounds one call: the provider's overall cap and its idle
// timeout. stop releases both.
func callContext(ctx context.Context, p *config.Provider) (context.Context, *idleTimer, func()) {
	ctx, cancel := context.WithTimeout(ctx, p.RequestTimeout)
	ctx, idle, stopIdle := withIdleTimeout(ctx, p.IdleTimeout)
	return ctx, idle, func() { stopIdle(); cancel() }
}

// kick records that an event arrived.
func (t *idleTimer) kick() {
	if t.timer != nil {
		t.timer.Reset(t.d)
	}
}
