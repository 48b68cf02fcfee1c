package bridge

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"waclaw/config"
)

// limits are the per-sender buckets and the global outbound one. Time is
// passed in explicitly so tests can drive it.
type limits struct {
	cfg config.RateLimit
	now func() time.Time

	mu       sync.Mutex
	senders  map[string]*senderBucket
	outbound *rate.Limiter
}

type senderBucket struct {
	lim      *rate.Limiter
	noticed  bool // told once that they are over the limit
	lastSeen time.Time
}

func newLimits(cfg config.RateLimit, now func() time.Time) *limits {
	return &limits{
		cfg: cfg, now: now, senders: map[string]*senderBucket{},
		outbound: rate.NewLimiter(perMinute(cfg.OutboundPerMinute), cfg.OutboundBurst),
	}
}

func perMinute(n int) rate.Limit { return rate.Limit(float64(n) / 60) }

// allowSender takes a token from key's bucket. Over the limit it says
// whether this is the first refusal since the bucket last allowed, so that
// the sender gets one notice and then silence until it refills.
func (l *limits) allowSender(key string) (ok, notify bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.senders[key]
	if b == nil {
		b = &senderBucket{lim: rate.NewLimiter(perMinute(l.cfg.PerMinute), l.cfg.Burst)}
		l.senders[key] = b
		l.forgetIdle(now)
	}
	b.lastSeen = now
	if b.lim.AllowN(now, 1) {
		b.noticed = false
		return true, false
	}
	notify = !b.noticed
	b.noticed = true
	return false, notify
}

// forgetIdle drops buckets that have been full for a while, so a flood of
// new senders does not grow memory without bound.
func (l *limits) forgetIdle(now time.Time) {
	if len(l.senders) < 1024 {
		return
	}
	for k, b := range l.senders {
		if now.Sub(b.lastSeen) > 10*time.Minute {
			delete(l.senders, k)
		}
	}
}

// waitOutbound blocks until the global outbound budget allows one more
// message, so a burst of replies cannot get the number banned.
func (l *limits) waitOutbound(ctx context.Context, sleep func(context.Context, time.Duration) error) error {
	l.mu.Lock()
	r := l.outbound.ReserveN(l.now(), 1)
	l.mu.Unlock()
	if !r.OK() {
		return nil
	}
	if d := r.DelayFrom(l.now()); d > 0 {
		if err := sleep(ctx, d); err != nil {
			r.CancelAt(l.now())
			return err
		}
	}
	return nil
}
