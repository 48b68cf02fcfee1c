package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"waclaw/bridge"
	"waclaw/config/clock"
)

// Handler takes inbound messages; the bridge is one. A nil error means the
// message is durably recorded (or deliberately dropped), so it may be
// acknowledged to WhatsApp; an error means WhatsApp should deliver it
// again.
type Handler interface {
	Handle(ctx context.Context, in bridge.Inbound) error
}

// Options are the adapter's collaborators and limits; all may be zero.
type Options struct {
	Logger *slog.Logger                                     // default slog.Default()
	Now    func() time.Time                                 // default time.Now
	Sleep  func(ctx context.Context, d time.Duration) error // waits between retries; default a timer
	// KnownNumbers are E.164 numbers (the allowlist and the admins). After
	// connecting, their LIDs are looked up so that messages from them that
	// arrive LID-addressed still carry their phone number.
	KnownNumbers []string
	// IgnoreSelfChat drops the messages the owner writes in the linked
	// account's own "message yourself" chat (channels.whatsapp.selfChatMode
	// false); by default that chat is the owner's line to the bot.
	IgnoreSelfChat bool
	// RejectCalls rejects incoming 1:1 calls and passes each to the
	// handler as an Inbound with Media "call", so the bridge can text the
	// caller (channels.whatsapp.rejectCalls, for a bot's own number). Off,
	// calls are left alone: on a personal number the owner takes them.
	RejectCalls bool
	// OnConnected, if set, is told each time the connection comes up (the
	// command records it for doctor).
	OnConnected func(at time.Time)
	// TextChunkLimit is the most characters one message may hold
	// (channels.whatsapp.textChunkLimit); longer replies are split.
	// Default 4000.
	TextChunkLimit int
	// SendAttempts bounds the tries per outgoing message; default 3.
	SendAttempts int
	// TypingRefresh is how often "typing" is sent again while it is on
	// (WhatsApp clears it after about 25 s); default 10 s.
	TypingRefresh time.Duration
	// Chats, if set, is the store the bridge keeps chats in: what an
	// older waclaw stored under a person's LID is moved to their
	// phone-number chat (see keys.go).
	Chats ChatStore
}

// StopReason says why the adapter stopped talking to WhatsApp.
type StopReason string

// Why the adapter stopped. The text is shown to the operator.
const (
	StopLoggedOut      StopReason = "the phone unlinked this device: run `waclaw pair` to link it again"
	StopStreamReplaced StopReason = "another waclaw or WhatsApp Web session took over this device: stopped so the two do not fight"
	StopClientOutdated StopReason = "WhatsApp says this client version is outdated: update waclaw"
	StopConnectFailed  StopReason = "WhatsApp refused the connection too many times"
	StopTemporaryBan   StopReason = "WhatsApp temporarily banned this account"
)

// State is the link's health, for /status and doctor.
type State struct {
	LinkedNumber  string    // E.164 of the linked account, "" before pairing
	Connected     bool      // logged in and connected now
	LastConnected time.Time // when the connection last came up
	LastEvent     time.Time // when WhatsApp last sent anything
	Degraded      bool      // keep-alive pings are failing; whatsmeow reconnects on its own
	LastError     string    // the last connection problem, "" when none
	Stopped       bool      // the adapter gave up until the operator acts (or a ban expires)
	StopReason    string    // why, in words for the operator
	Until         time.Time // when a temporary stop ends, zero if not known
}

// Silence is how long WhatsApp has sent nothing, as of now.
func (s State) Silence(now time.Time) time.Duration {
	if s.LastEvent.IsZero() {
		return 0
	}
	return now.Sub(s.LastEvent)
}

// Describe is one line for /status and doctor, e.g. "linked as
// +15551234567, connected, last event 3m ago".
func (s State) Describe(now time.Time) string {
	out := "linked as " + s.LinkedNumber
	if s.LinkedNumber == "" {
		if !s.Stopped {
			return "not linked: run `waclaw pair`"
		}
		out = "not linked"
	}
	switch {
	case s.Stopped:
		out += ", stopped: " + s.StopReason
		if !s.Until.IsZero() {
			out += fmt.Sprintf(" (until %s)", s.Until.Format(time.RFC3339))
		}
	case s.Connected && s.Degraded:
		out += ", connected but keep-alive pings are failing"
	case s.Connected:
		out += ", connected"
	default:
		out += ", disconnected"
	}
	if !s.LastEvent.IsZero() {
		out += fmt.Sprintf(", last event %s ago", s.Silence(now).Round(time.Second))
	}
	return out
}

// Adapter is waclaw's WhatsApp front end: it turns whatsmeow events into
// bridge.Inbound messages, keeps the connection's state, and implements
// bridge.Channel for replies.
type Adapter struct {
	cli   Client
	log   *slog.Logger
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	opts  Options

	// fetchVersion and setVersion are whatsmeow.GetLatestVersion and
	// store.SetWAVersion; tests replace them.
	fetchVersion func(ctx context.Context) (*store.WAVersionContainer, error)
	setVersion   func(store.WAVersionContainer)

	ctx    context.Context // background work; cancelled by Close
	cancel context.CancelFunc
	bg     sync.WaitGroup

	mu            sync.Mutex
	handler       Handler
	handlerID     uint32
	state         State
	changed       chan struct{}  // closed and replaced on every state change
	done          chan struct{}  // closed on a permanent stop
	presence      types.Presence // last presence sent on this connection, "" for none
	reconnecting  bool
	pairing       bool               // Pair is running: it handles an outdated client itself
	failures      int                // consecutive connect failures
	offline       int                // consecutive attempts that could not reach WhatsApp
	connCancel    context.CancelFunc // ends the current connection's context
	outdatedTried bool
	msgs          *recent[quoteRef]      // inbound messages by id, for quoting
	timers        *recent[uint32]        // disappearing timer by chat, seconds
	addresses     *recent[types.JID]     // the address a chat key last wrote from, when not the key
	moved         *recent[struct{}]      // LIDs whose stored chat was moved to their number
	typing        map[string]*typingChat // chats showing "typing"
	// retries are the downloads waiting for the phone to upload a file
	// again, by message id (media.go).
	retries map[types.MessageID][]chan *events.MediaRetry
	// retryWait bounds each of those waits; tests shorten it.
	retryWait time.Duration

	typingMu sync.Mutex // orders every presence and chat-state sent (presence.go)
	// newTicker makes the typing refresh's ticker; tests tick by hand.
	newTicker func(d time.Duration) (<-chan time.Time, func())
}

// quoteRef is what a reply needs to quote an inbound message.
type quoteRef struct {
	chat   string    // the chat it came from
	sender types.JID // who sent it
	text   string
}

var _ bridge.Channel = (*Adapter)(nil)

// New adapts a real whatsmeow client. It turns on synchronous
// acknowledgement and the decrypted-event buffer, so that a message is
// acknowledged only after the handler recorded it and one that was not
// recorded can be decrypted again when WhatsApp redelivers it, and it sends
// whatsmeow's context logs (zerolog) to opts.Logger.
func New(cli *whatsmeow.Client, opts Options) *Adapter {
	cli.SynchronousAck = true
	cli.EnableDecryptedEventBuffer = true
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	zl := NewZerolog(log, DefaultLogLevel)
	cli.BackgroundEventCtx = zl.WithContext(context.Background())
	return newAdapter(Live{cli}, opts, cli.BackgroundEventCtx)
}

// NewWithClient builds an adapter over any Client (tests use a fake) and
// registers its event handler.
func NewWithClient(c Client, opts Options) *Adapter {
	return newAdapter(c, opts, context.Background())
}

// newAdapter builds an adapter whose background work and connections run
// in a context derived from base (whatsmeow takes its logger from it).
func newAdapter(c Client, opts Options, base context.Context) *Adapter {
	a := &Adapter{
		cli: c, log: opts.Logger, now: opts.Now, sleep: opts.Sleep, opts: opts,
		fetchVersion: func(ctx context.Context) (*store.WAVersionContainer, error) {
			return whatsmeow.GetLatestVersion(ctx, nil)
		},
		setVersion: store.SetWAVersion,
		changed:    make(chan struct{}),
		done:       make(chan struct{}),
		msgs:       newRecent[quoteRef](quoteMemory),
		timers:     newRecent[uint32](timerMemory),
		addresses:  newRecent[types.JID](addressMemory),
		moved:      newRecent[struct{}](movedMemory),
		typing:     map[string]*typingChat{},
		retries:    map[types.MessageID][]chan *events.MediaRetry{},
		retryWait:  mediaRetryWait,
		newTicker:  timeTicker,
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.sleep == nil {
		a.sleep = clock.Sleep
	}
	if a.opts.TextChunkLimit <= 0 {
		a.opts.TextChunkLimit = DefaultTextChunkLimit
	}
	if a.opts.SendAttempts <= 0 {
		a.opts.SendAttempts = 3
	}
	if a.opts.TypingRefresh <= 0 {
		a.opts.TypingRefresh = 10 * time.Second
	}
	a.ctx, a.cancel = context.WithCancel(base)
	pn, _, _ := c.Identity()
	a.state.LinkedNumber = phoneOf(pn)
	a.handlerID = c.AddEventHandlerWithSuccessStatus(a.handleEvent)
	return a
}

// SetHandler sets where inbound messages go. Until it is set, messages are
// left unacknowledged, so WhatsApp delivers them again later.
func (a *Adapter) SetHandler(h Handler) {
	a.mu.Lock()
	a.handler = h
	a.mu.Unlock()
}

// ErrNotLinked is returned by Connect when no account is linked yet.
var ErrNotLinked = errors.New("no WhatsApp account is linked: run `waclaw pair` first")

// Connect connects to WhatsApp with the stored session. It returns once
// the connection is made or failed, or as soon as ctx is done (Ctrl-C),
// abandoning the attempt (see connect.go). The connection lives until
// Close; reconnects after that are whatsmeow's (network drops) or the
// adapter's (connect failures, bans, an outdated client). When the
// network is in the way the error is an *UnreachableError, and
// KeepConnecting keeps trying.
func (a *Adapter) Connect(ctx context.Context) error {
	if pn, _, _ := a.cli.Identity(); pn.IsEmpty() {
		return ErrNotLinked
	}
	if err := a.connect(ctx); err != nil {
		var u *UnreachableError
		if errors.As(err, &u) || ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("connect to WhatsApp: %w", err)
	}
	return nil
}

// Close disconnects, stops background work (typing refreshes, reconnects,
// connection attempts) and unregisters the event handler. It does not
// wait long for a connection attempt whatsmeow holds on to.
func (a *Adapter) Close() {
	a.cancel()
	a.mu.Lock()
	for chat, tc := range a.typing {
		tc.stop()
		delete(a.typing, chat)
	}
	a.mu.Unlock()
	a.cli.RemoveEventHandler(a.handlerID)
	disconnected := make(chan struct{})
	go func() {
		a.cli.Disconnect()
		close(disconnected)
	}()
	select {
	case <-disconnected:
	case <-time.After(closeWait):
		a.log.Debug("whatsapp: left a connection attempt to end by itself")
	}
	a.bg.Wait()
}

// State returns a snapshot of the link's health.
func (a *Adapter) State() State {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state
}

// Done is closed when the adapter stops for good (logged out, replaced by
// another session, outdated, or too many connect failures); State says why.
func (a *Adapter) Done() <-chan struct{} { return a.done }

// update changes the state under the lock and wakes waiters.
func (a *Adapter) update(fn func(s *State)) {
	a.mu.Lock()
	fn(&a.state)
	close(a.changed)
	a.changed = make(chan struct{})
	a.mu.Unlock()
}

// waitState waits until ok(State) holds.
func (a *Adapter) waitState(ctx context.Context, ok func(State) bool) (State, error) {
	for {
		a.mu.Lock()
		s, ch := a.state, a.changed
		a.mu.Unlock()
		if ok(s) {
			return s, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return s, ctx.Err()
		}
	}
}

// goBackground runs fn on the adapter's background context; Close waits
// for it.
func (a *Adapter) goBackground(fn func(ctx context.Context)) {
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		fn(a.ctx)
	}()
}

// recent is a bounded map that forgets its oldest entries.
type recent[T any] struct {
	m     map[string]T
	order []string
	n     int
}

func newRecent[T any](n int) *recent[T] { return &recent[T]{m: map[string]T{}, n: n} }

func (r *recent[T]) put(k string, v T) {
	if k == "" {
		return
	}
	if _, ok := r.m[k]; !ok {
		r.order = append(r.order, k)
	}
	r.m[k] = v
	if len(r.order) > r.n {
		delete(r.m, r.order[0])
		r.order = r.order[1:]
	}
}

func (r *recent[T]) del(k string) {
	if _, ok := r.m[k]; !ok {
		return
	}
	delete(r.m, k)
	r.order = slices.DeleteFunc(r.order, func(o string) bool { return o == k })
}

func (r *recent[T]) get(k string) (T, bool) {
	v, ok := r.m[k]
	return v, ok
}
