// Package bridge is the channel-agnostic core between a chat front end and
// the agent: every inbound message is recorded in a durable inbox, checked
// against the access policy and rate limits, and then either handled as an
// admin command or answered by the agent with the chat's history, in order
// within a chat and in parallel across chats. Everything the bot says is
// written in Markdown, and each channel renders it its own way (WhatsApp
// markup split at WhatsApp's limit; the Markdown as written in a terminal).
package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"waclaw/agent"
	"waclaw/bridge/access"
	"waclaw/compaction"
	"waclaw/config"
	"waclaw/config/clock"
	"waclaw/media/transcribe"
	"waclaw/store"
)

// Inbound is one message from a channel, already translated from the
// platform's event.
type Inbound struct {
	ChatID      string `json:"chat"`            // the conversation: a DM peer or a group
	SenderID    string `json:"sender"`          // the platform's id of the sender
	SenderPhone string `json:"phone,omitempty"` // E.164, "" when unknown
	PushName    string `json:"name,omitempty"`
	Text        string `json:"text"`
	QuotedText  string `json:"quoted,omitempty"`   // the message this one replies to
	QuotedID    string `json:"quotedId,omitempty"` // the id of the message this one replies to
	Media       string `json:"media,omitempty"`    // what it carries that is not text ("image", "voice note", "location", "call", ...); "" for none
	// Attachment is the voice note, picture or document the message
	// carries, when the bridge can read it; nil for none.
	Attachment *Attachment `json:"attachment,omitempty"`
	// Revokes is the id of an earlier message in this chat that its sender
	// deleted for everyone; such an Inbound carries nothing else to answer.
	Revokes     string `json:"revokes,omitempty"`
	IsGroup     bool   `json:"group,omitempty"`     // sent in a group
	MentionsMe  bool   `json:"mention,omitempty"`   // the bot is @mentioned
	RepliesToMe bool   `json:"replyToMe,omitempty"` // quotes the bot (the bridge also knows the ids it sent)
	// Cut is set by the bridge: the length in characters of a text longer
	// than channels.whatsapp.maxMessageChars, cut to that many.
	Cut       int       `json:"cut,omitempty"`
	FromSelf  bool      `json:"self,omitempty"`     // sent from the linked account
	SelfChat  bool      `json:"selfChat,omitempty"` // in the linked account's own "message yourself" chat
	MessageID string    `json:"id"`
	Time      time.Time `json:"time"`
}

// Attachment is what the bridge knows of a message's file before it
// downloads it: enough to refuse one that is too large or too long
// without fetching a byte. Only this description is stored with the
// message (in the inbox), never the file or what fetches it.
type Attachment struct {
	Kind     string `json:"kind"`               // AttachVoice, AttachAudio, AttachImage, AttachSticker or AttachDocument
	MIME     string `json:"mime,omitempty"`     // as the sender's app declared it: "audio/ogg; codecs=opus", "image/jpeg"
	FileName string `json:"fileName,omitempty"` // a document's name
	Size     int64  `json:"size,omitempty"`     // bytes, as declared; 0 when unknown
	Seconds  int    `json:"seconds,omitempty"`  // an audio's length, as declared; 0 when unknown
	Width    int    `json:"width,omitempty"`    // a picture's size, as declared; 0 when unknown
	Height   int    `json:"height,omitempty"`
	// Fetch downloads the file. It is nil for a message read back from
	// the inbox after a restart: the file is then asked for again. An
	// error wrapping ErrMediaGone means the platform no longer has it.
	Fetch func(ctx context.Context) ([]byte, error) `json:"-"`
}

// The kinds of Attachment.
const (
	AttachVoice    = "voice note" // recorded in the app (push to talk)
	AttachAudio    = "audio"      // an audio file
	AttachImage    = "image"
	AttachSticker  = "sticker"
	AttachDocument = "document"
)

// ErrMediaGone marks a download that cannot succeed however often it is
// tried: the platform's copy has expired or was deleted. The sender is
// asked to send the file again.
var ErrMediaGone = errors.New("the file is no longer on the server")

// Channel is what the bridge needs of a front end.
type Channel interface {
	// Format renders a reply written in Markdown as the messages to send,
	// in order, each within the platform's size limit; none for a reply
	// with nothing to show.
	Format(markdown string) []string
	// NewMessageID returns a fresh id for a message the bot will send.
	NewMessageID() string
	// Send delivers text to a chat as message id, quoting quoteID when it
	// is not "". The bridge records id before sending, and after a crash
	// sends a part it has no confirmation for again under the same id: a
	// platform that drops a repeated id (WhatsApp does) shows it once.
	// A failed send is tried again later under the same id (the
	// connection may be down), unless the error wraps ErrUndeliverable.
	Send(ctx context.Context, chatID, id, text, quoteID string) error
	// Typing shows or clears the typing indicator.
	Typing(ctx context.Context, chatID string, on bool) error
	// MarkRead marks messages as read.
	MarkRead(ctx context.Context, chatID, senderID string, ids ...string) error
}

// ErrUndeliverable marks a send error that trying again cannot fix (the
// chat id is not one the platform can send to): the reply is given up at
// once. Any other send error is taken as the connection's, and the reply
// is sent again later under the same ids.
var ErrUndeliverable = errors.New("cannot be delivered")

// Options are the bridge's collaborators and limits; all may be zero.
type Options struct {
	Logger      *slog.Logger
	Now         func() time.Time
	Sleep       func(ctx context.Context, d time.Duration) error
	MaxParallel int // chats answered at once; default 4
	// DrainTimeout bounds how long Shutdown waits for turns in flight.
	DrainTimeout time.Duration
	// Link describes the channel's connection for /status ("linked as
	// +1555..., connected, last event 2m ago"); nil for none.
	Link func() string
	// Owner lists the chats where the owner is told of pairing requests:
	// the linked account's self-chat on a personal number, the admins'
	// chats on a bot number. Nil or empty: nobody is told.
	Owner func() []string
	// Unpaced lets replies out as fast as the channel takes them, without
	// the outbound rate limit that keeps a WhatsApp number from being
	// banned: for a person at a terminal.
	Unpaced bool
}

// Bridge is the core. Create it with New, call Start once, then Handle for
// every inbound message.
type Bridge struct {
	cfg     *config.Config
	store   *store.Store
	history *compaction.History
	agent   *agent.Agent
	ch      Channel
	log     *slog.Logger
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error

	access  *access.Policy
	limits  *limits
	sent    *recentIDs // ids of messages the bot sent: never input
	slots   chan struct{}
	runCtx  context.Context // turns run under it; cancelled when a drain times out
	stopRun context.CancelFunc
	// draining ends when Shutdown starts: pauses between tries end at
	// once, and their jobs stay pending for the next start.
	draining   context.Context
	startDrain context.CancelFunc

	mu       sync.Mutex
	workers  map[string][]job // queued jobs by chat; present while a worker runs
	closing  bool
	inflight sync.WaitGroup
	lastFail map[string]string // last fallback reason by chat, for /status
	// noticed is when each chat last heard each kind of notice that goes
	// out at most once in a while (see once).
	noticed   map[string]time.Time
	idle      chan struct{} // closed when the last worker goes away
	lastPrune time.Time     // when finished inbox rows were last pruned
	stats     stats
	drain     time.Duration
	link      func() string
	owner     func() []string
	unpaced   bool
	// transcriber turns voice notes into text (tools.media.audio).
	transcriber *transcribe.Transcriber
	// pictureSlot lets one picture at a time be prepared.
	pictureSlot chan struct{}
}

// New builds a bridge.
func New(cfg *config.Config, st *store.Store, history *compaction.History, ag *agent.Agent, ch Channel, opts Options) *Bridge {
	b := &Bridge{
		cfg: cfg, store: st, history: history, agent: ag, ch: ch,
		log: opts.Logger, now: opts.Now, sleep: opts.Sleep, drain: opts.DrainTimeout, link: opts.Link, owner: opts.Owner, unpaced: opts.Unpaced,
		sent: newRecentIDs(4096), workers: map[string][]job{}, lastFail: map[string]string{}, noticed: map[string]time.Time{},
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.sleep == nil {
		b.sleep = clock.Sleep
	}
	if b.drain == 0 {
		b.drain = 30 * time.Second
	}
	b.transcriber = transcribe.New(cfg.Media.Audio, nil, b.log)
	b.pictureSlot = make(chan struct{}, 1)
	n := opts.MaxParallel
	if n <= 0 {
		n = 4
	}
	b.slots = make(chan struct{}, n)
	b.access = access.New(cfg.WhatsApp, st, b.now)
	b.limits = newLimits(cfg.WhatsApp.RateLimit, b.now)
	b.runCtx, b.stopRun = context.WithCancel(context.Background())
	b.draining, b.startDrain = context.WithCancel(b.runCtx)
	return b
}

// job is one inbox row to process.
type job struct {
	inboxID int64
	in      Inbound
	role    access.Role
	resumed bool // left pending by an earlier run: part of its reply may be out
	started bool // its attempt is counted in the inbox
	// unsaved is an answer the model gave that could not be stored (the
	// disk was full); it is stored on the next try instead of asking again.
	unsaved *compaction.Turn
	// stream is sending this run's answer in parts while it is written.
	stream *streamer
	// read is the attachment once read (transcribed, scaled, decoded), so
	// that a retry does not download and transcribe it again.
	read *read
}

// maxAttempts is how many runs may stop while answering a message before
// the next gives up on it, so that a message that somehow kills the
// process cannot keep it in a crash loop.
const maxAttempts = 3

// Start processes the messages a previous run recorded but did not finish,
// in the order they arrived, after pruning finished ones older than the
// inbox retention.
func (b *Bridge) Start(ctx context.Context) error {
	b.prune(ctx)
	pending, err := b.store.InboxPending(ctx)
	if err != nil {
		return fmt.Errorf("read pending messages: %w", err)
	}
	for _, it := range pending {
		var in Inbound
		if err := json.Unmarshal(it.Payload, &in); err != nil {
			b.finish(ctx, it.ID, store.InboxFailed, "unreadable inbox row: "+err.Error())
			continue
		}
		r, err := b.access.Decide(ctx, b.sender(in))
		if err != nil {
			return err
		}
		if ignored(in, r) {
			// Access changed while it waited (the sender was denied).
			b.finish(ctx, it.ID, store.InboxSkipped, "sender no longer allowed")
			continue
		}
		if it.Attempts >= maxAttempts && !b.stale(in) {
			// The sender is told instead; a reply already recorded for the
			// message still goes out in its place.
			b.log.Warn("giving up on a message: waclaw stopped every time while answering it", "inbox", it.ID, "attempts", it.Attempts)
			parts, err := b.store.Outbox(ctx, it.ID)
			if err != nil {
				return fmt.Errorf("read a recorded reply: %w", err)
			}
			if len(parts) == 0 {
				giveUp := say(in, gaveUpNotice, "", store.InboxFailed, fmt.Sprintf("gave up after %d attempts: waclaw stopped each time while answering it", it.Attempts))
				if _, err := b.record(ctx, it.ID, giveUp); err != nil {
					return fmt.Errorf("record a notice: %w", err)
				}
			}
		} else {
			b.log.Info("resuming a message from before the restart", "inbox", it.ID, "attempts", it.Attempts)
		}
		b.enqueue(job{inboxID: it.ID, in: in, role: r, resumed: true})
	}
	return nil
}

// Handle takes one inbound message. When it returns nil the message is
// either safely in the inbox (and will be answered, even after a crash) or
// deliberately ignored; it never waits for a model. Nothing is stored for
// a message the bot does not answer: from a stranger, over the rate limit,
// or chatter in a group. A stranger who may ask for pairing leaves a row
// (without the text) only when told something.
func (b *Bridge) Handle(ctx context.Context, in Inbound) error {
	if b.sent.has(in.MessageID) {
		return nil // our own reply, echoed back
	}
	if in.Revokes != "" {
		// Before the access check: a deletion in a group does not mention
		// the bot, and a group admin may delete anyone's message. It only
		// ever touches what the bot stored for that chat.
		return b.revoke(ctx, in)
	}
	r, err := b.access.Decide(ctx, b.sender(in))
	if err != nil {
		return err
	}
	if ignored(in, r) {
		if r == access.Ignore && !in.IsGroup && !in.FromSelf {
			b.stats.strangers.Add(1)
		}
		return nil
	}
	if in.Time.IsZero() {
		in.Time = b.now()
	}
	if b.stale(in) {
		// A backlog after downtime: no rate-limit notice, no pairing code,
		// no answer; at most one line per chat that says so.
		if rep := b.backlogReply(in, r); len(rep.msgs) > 0 {
			return b.settle(ctx, in, r, rep)
		}
		return nil
	}
	if r == access.Pairing {
		// Stores nothing unless a code is minted or someone must be told,
		// which the policy caps per requester and overall.
		return b.pairRequest(ctx, in, r)
	}
	if r != access.Admin {
		if ok, notify := b.limits.allowSender(senderKey(in)); !ok {
			b.stats.limited.Add(1)
			if !notify || !r.Answered() {
				return nil
			}
			return b.settle(ctx, in, r, say(in, rateLimitNotice, "", store.InboxSkipped, "rate limited"))
		}
	}
	in = capText(in, b.cfg.WhatsApp.MaxMessageChars)
	id, added, err := b.add(ctx, in)
	if err != nil || !added {
		return err // a redelivery or duplicate is not an error
	}
	b.enqueue(job{inboxID: id, in: in, role: r})
	return nil
}

// add records a message in the inbox; added is false for one it holds
// already (a redelivery).
func (b *Bridge) add(ctx context.Context, in Inbound) (id int64, added bool, err error) {
	b.pruneEvery(ctx)
	payload, err := json.Marshal(in)
	if err != nil {
		return 0, false, fmt.Errorf("encode message: %w", err)
	}
	id, added, err = b.store.InboxAdd(ctx, store.InboxItem{
		ChatID: in.ChatID, SenderID: in.SenderID, MsgID: in.MessageID, Payload: payload, ReceivedAt: in.Time,
	})
	if store.IsDiskFull(err) {
		return 0, false, fmt.Errorf("record message: the disk holding %s is full: free some space there (this message was not taken; nothing stored before is lost): %w", b.store.Path(), err)
	} else if err != nil {
		return 0, false, fmt.Errorf("record message: %w", err)
	}
	return id, added, nil
}

// settle records a message whose reply is already known (a notice, a
// pairing code) without its text, records the reply, and queues it to be
// sent: it survives a crash like any answer, and no model is asked.
func (b *Bridge) settle(ctx context.Context, in Inbound, r access.Role, rep reply) error {
	in.Text, in.QuotedText = "", ""
	id, added, err := b.add(ctx, in)
	if err != nil || !added {
		return err
	}
	parts, err := b.record(ctx, id, rep)
	if err != nil {
		return fmt.Errorf("record a reply: %w", err)
	}
	if len(parts) == 0 {
		b.finish(ctx, id, rep.state, rep.reason)
		return nil
	}
	b.enqueue(job{inboxID: id, in: in, role: r, resumed: true})
	return nil
}

// revoke handles a message deleted for everyone: not answered if it is
// still waiting, and blanked in the chat's history so that it never
// reaches a model again.
func (b *Bridge) revoke(ctx context.Context, in Inbound) error {
	skipped, err := b.store.InboxRevoke(ctx, in.ChatID, in.Revokes, "deleted by the sender")
	if err != nil {
		return err
	}
	forgot, err := b.store.RevokeMessage(ctx, in.ChatID, in.Revokes, revokedText, revokedReplyText, compaction.Estimate(revokedReplyText))
	if err != nil {
		return err
	}
	if skipped || forgot {
		b.log.Info("message deleted for everyone", "chat", HashID(in.ChatID), "was_waiting", skipped, "was_in_history", forgot)
	}
	return nil
}

// capText cuts a message longer than max characters (0: no cap) to max,
// noting its length in Cut: it is never sent whole to a model, and the
// sender is told. Quoted text is cut to what a turn shows of it.
func capText(in Inbound, max int) Inbound {
	if n := utf8.RuneCountInString(in.Text); max > 0 && n > max {
		in.Text, in.Cut = string([]rune(in.Text)[:max]), n
	}
	in.QuotedText = truncate(in.QuotedText, quoteShown)
	return in
}

// prune deletes inbox rows finished longer ago than the retention.
func (b *Bridge) prune(ctx context.Context) {
	keep := b.cfg.WhatsApp.InboxRetention
	if keep <= 0 {
		return
	}
	now := b.now()
	b.mu.Lock()
	b.lastPrune = now
	b.mu.Unlock()
	n, err := b.store.InboxPrune(ctx, now.Add(-keep))
	if err != nil {
		b.log.Warn("prune the inbox", "err", err)
		return
	}
	if n > 0 {
		b.log.Info("pruned finished messages from the inbox", "rows", n, "older_than", keep)
	}
}

// pruneEvery prunes at most once an hour.
func (b *Bridge) pruneEvery(ctx context.Context) {
	b.mu.Lock()
	due := b.now().Sub(b.lastPrune) >= time.Hour
	b.mu.Unlock()
	if due {
		b.prune(ctx)
	}
}

// ignored reports a message the bot neither stores nor answers: one the
// access policy ignores, an attachment from someone the bot does not
// answer, and media it cannot read (a location, a video) with no text
// except in a DM from someone the bot answers (only they hear that it
// cannot be read; nobody else learns anything).
func ignored(in Inbound, r access.Role) bool {
	switch {
	case r == access.Ignore:
		return true
	case !mediaOnly(in):
		return false
	case in.Attachment != nil:
		return !r.Answered() // read and answered where text would be
	default:
		return !r.Answered() || in.IsGroup || in.FromSelf
	}
}

// sender is what the access policy needs of a message. A reply that
// quotes one of the bot's own messages is addressed to it.
func (b *Bridge) sender(in Inbound) access.Sender {
	return access.Sender{
		Chat: in.ChatID, Phone: in.SenderPhone, Group: in.IsGroup,
		Addressed: in.MentionsMe || in.RepliesToMe || b.sent.has(in.QuotedID),
		FromSelf:  in.FromSelf, SelfChat: in.SelfChat,
	}
}

func senderKey(in Inbound) string {
	if in.SenderPhone != "" {
		return in.SenderPhone
	}
	return in.SenderID
}

// enqueue adds a job to its chat's queue, starting the chat's worker if it
// has none.
func (b *Bridge) enqueue(j job) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing {
		return // stays pending in the inbox for the next start
	}
	q, running := b.workers[j.in.ChatID]
	b.workers[j.in.ChatID] = append(q, j)
	if !running {
		b.inflight.Add(1)
		go b.work(j.in.ChatID)
	}
}

// work answers one chat's jobs in order, then goes away.
func (b *Bridge) work(chatID string) {
	defer b.inflight.Done()
	for {
		b.mu.Lock()
		q := b.workers[chatID]
		if len(q) == 0 || b.closing {
			delete(b.workers, chatID)
			if len(b.workers) == 0 && b.idle != nil {
				close(b.idle)
				b.idle = nil
			}
			b.mu.Unlock()
			return
		}
		j := q[0]
		b.workers[chatID] = q[1:]
		b.mu.Unlock()

		select {
		case b.slots <- struct{}{}:
		case <-b.runCtx.Done():
			return
		}
		b.process(b.runCtx, j)
		<-b.slots
	}
}

// Shutdown stops taking new work and waits for turns in flight, up to the
// drain timeout or ctx; what is left stays pending in the inbox.
func (b *Bridge) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	b.closing = true
	b.mu.Unlock()
	b.startDrain()
	// Background summaries get the same drain time, then are cancelled:
	// a cancelled one stores nothing, and the next turn queues it again.
	defer func() {
		hctx, cancel := context.WithTimeout(ctx, b.drain)
		defer cancel()
		if err := b.history.Close(hctx); err != nil {
			b.log.Info("shutdown", "compaction", err)
		}
	}()
	done := make(chan struct{})
	go func() { b.inflight.Wait(); close(done) }()
	timer := time.NewTimer(b.drain)
	defer timer.Stop()
	select {
	case <-done:
		b.stopRun()
		return nil
	case <-timer.C:
	case <-ctx.Done():
	}
	b.stopRun()
	<-done
	return errors.New("shutdown: turns still running were cancelled; they stay pending and are answered on the next start")
}

// Idle waits until no chat has work queued or running (for tests and for
// `waclaw chat` reading a script).
func (b *Bridge) Idle(ctx context.Context) error {
	b.mu.Lock()
	if len(b.workers) == 0 {
		b.mu.Unlock()
		return nil
	}
	if b.idle == nil {
		b.idle = make(chan struct{})
	}
	idle := b.idle
	b.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *Bridge) isClosing() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closing
}

func (b *Bridge) finish(ctx context.Context, inboxID int64, state store.InboxState, reason string) {
	if inboxID == 0 {
		return
	}
	if err := b.store.InboxFinish(context.WithoutCancel(ctx), inboxID, state, reason); err != nil {
		b.log.Error("update inbox", "inbox", inboxID, "err", err)
	}
}

// stats count what the bot left unanswered since it started, for /status.
type stats struct {
	strangers atomic.Int64 // direct messages from people not allowed
	limited   atomic.Int64 // messages over the per-sender rate limit
}

// recentIDs remembers the last n message ids the bot sent.
type recentIDs struct {
	mu    sync.Mutex
	ids   map[string]struct{}
	order []string
	n     int
}

func newRecentIDs(n int) *recentIDs { return &recentIDs{ids: map[string]struct{}{}, n: n} }

func (r *recentIDs) add(id string) {
	if id == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.ids[id]; ok {
		return
	}
	r.ids[id] = struct{}{}
	r.order = append(r.order, id)
	if len(r.order) > r.n {
		delete(r.ids, r.order[0])
		r.order = r.order[1:]
	}
}

func (r *recentIDs) has(id string) bool {
	if id == "" {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.ids[id]
	return ok
}
