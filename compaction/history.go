// Package compaction keeps each chat's history in the store and builds the
// context for a turn: the system prompt, the chat's summary as delimited
// notes, the most recent turns verbatim, then the new message, within a
// token budget however long the chat runs. Older turns are summarised into
// notes (marked compacted in the database, never deleted) so that the
// context stays small on local hardware and one injected message cannot
// steer every later turn.
package compaction

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"waclaw/agent"
	"waclaw/config"
	"waclaw/store"
)

// Replier is what compaction needs of the agent.
type Replier interface {
	Reply(ctx context.Context, conv agent.Conversation) (string, *agent.Outcome, error)
}

// tailWindow bounds how many recent messages a turn reads from the store:
// the context never needs more, so its cost does not grow with the history.
const tailWindow = 400

// History runs a chat's turns: it loads the chat's history, builds the
// context within the budget (compacting when it no longer fits), asks the
// agent, and stores the exchange.
type History struct {
	cfg   *config.Config
	store *store.Store
	agent Replier
	log   *slog.Logger
	calib calibration
	bg    *background
}

// New returns the History of the chats in st.
func New(cfg *config.Config, st *store.Store, ag Replier, log *slog.Logger) *History {
	if log == nil {
		log = slog.Default()
	}
	return &History{cfg: cfg, store: st, agent: ag, log: log, bg: newBackground()}
}

// Turn is the result of one exchange.
type Turn struct {
	Reply   string
	Outcome *agent.Outcome
	Model   *config.Model // the chat's model (the one asked first)
	// Compacted is set when this turn waited for a compaction: the model
	// said the context was too long. Compactions after a turn run in the
	// background and log their own report.
	Compacted *Report
	// Truncated is set when older turns were left out of the context of
	// this request (while the history waits for its compaction).
	Truncated bool
	// ContextTokens is the estimated size of the request, in the chat
	// model's tokens.
	ContextTokens int
	// Resumed is set when the history already held the answer to this
	// message (a run stored it, then stopped before sending it): Reply is
	// that answer, no model was asked and Outcome is nil.
	Resumed bool
}

// Answered reports whether a model answered in this turn (even if the
// answer could not be stored).
func (t *Turn) Answered() bool { return t != nil && t.Outcome != nil && t.Outcome.Model != nil }

// Report says what a compaction did.
type Report struct {
	Messages      int // messages folded into the notes
	SummaryTokens int
}

func (r Report) String() string {
	return fmt.Sprintf("%d messages -> summary of %d tokens", r.Messages, r.SummaryTokens)
}

// ErrNothingToCompact is returned by Compact when the history is already
// within its kept-recent tail.
var ErrNothingToCompact = errors.New("nothing to compact yet")

// Model is the model a chat's session uses: its /model choice when that
// still exists in the config, else the configured primary.
func (c *History) Model(sess store.Session) *config.Model {
	if sess.ModelOverride != "" {
		if m, ok := c.cfg.Model(sess.ModelOverride); ok {
			return m
		}
	}
	return c.cfg.Primary
}

// Reply answers text in chat, with the chat's history as context, and
// stores the exchange. A message whose answer is already stored (by a run
// that stopped before sending it) gets that answer again, without a model.
// The context is the notes and every turn not yet compacted, so that it
// only grows at its end between compactions; compaction runs after the
// turn, in the background. When the history does not fit the budget (its
// compaction is still running, or failed) the oldest turns are left out of
// this request rather than waited for. When the model says the context is
// too long anyway, the history is compacted harder now and the turn
// retried once.
//
// Images go to the model with text in this turn only; the history keeps
// text, which should say that a picture was shown ("[image] caption").
func (c *History) Reply(ctx context.Context, chatID, text, platformMsgID string, images ...agent.Image) (*Turn, error) {
	sess, err := c.store.ActiveSession(ctx, chatID)
	if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	m := c.Model(sess)
	turn := &Turn{Model: m}
	if stored, ok, err := c.store.StoredReply(ctx, sess.ID, platformMsgID); err != nil {
		return nil, fmt.Errorf("look up an earlier answer: %w", err)
	} else if ok {
		turn.Reply, turn.Resumed = stored, true
		return turn, nil
	}

	plan, err := c.prepare(ctx, sess, m, text, len(images), 1, turn)
	if err != nil {
		return nil, err
	}
	plan.localOnly = sess.Privacy == store.PrivacyLocal
	reply, out, err := c.agent.Reply(ctx, c.conversation(chatID, m, plan, text, true).WithImages(images).Streamed(ctx))
	if errors.Is(err, agent.ErrContextOverflow) {
		c.log.Warn("context overflow; compacting harder and retrying", "model", m.Ref(), "estimated", plan.estimate)
		if err := c.compactNow(ctx, sess, m, 2, turn); err != nil {
			c.log.Warn("compact after an overflow", "err", err)
		}
		if plan, err = c.prepare(ctx, sess, m, text, len(images), 2, turn); err != nil {
			return nil, err
		}
		plan.localOnly = sess.Privacy == store.PrivacyLocal
		reply, out, err = c.agent.Reply(ctx, c.conversation(chatID, m, plan, text, false).WithImages(images).Streamed(ctx))
	}
	turn.Reply, turn.Outcome, turn.ContextTokens = reply, out, plan.tokens(c.calib.get(m.Ref()))
	if err != nil {
		return turn, err
	}

	truncatedByServer := c.observe(out, plan)
	if err := c.saveTurn(ctx, sess.ID, text, platformMsgID, reply); err != nil {
		return turn, err
	}
	switch {
	case c.cfg.Agent.Compaction.Mode != "auto":
	case truncatedByServer:
		// The server cut the context without saying so: compact hard so
		// the next turn fits. The reply already made is kept.
		c.schedule(chatID, 2)
	case plan.history.with(text, reply).due():
		// Known from the window the turn was made from, without reading
		// the history again.
		c.schedule(chatID, 1)
	}
	return turn, nil
}

// Save stores a turn that Reply answered but could not store (it returned
// the turn with the error: turn.Answered() is true), without asking a
// model again.
func (c *History) Save(ctx context.Context, chatID, text, platformMsgID string, turn *Turn) error {
	sess, err := c.store.ActiveSession(ctx, chatID)
	if err != nil {
		return fmt.Errorf("load session: %w", err)
	}
	if err := c.saveTurn(ctx, sess.ID, text, platformMsgID, turn.Reply); err != nil {
		return err
	}
	c.afterTurn(ctx, sess)
	return nil
}

func (c *History) saveTurn(ctx context.Context, sessionID int64, text, platformMsgID, reply string) error {
	userMsg := store.Message{Role: store.RoleUser, Text: text, Tokens: Estimate(text), PlatformMsgID: platformMsgID}
	replyMsg := store.Message{Role: store.RoleAssistant, Text: reply, Tokens: Estimate(reply)}
	if _, _, err := c.store.AppendTurn(ctx, sessionID, userMsg, replyMsg); err != nil {
		return fmt.Errorf("store turn: %w", err)
	}
	return nil
}

// Compact folds everything but the kept-recent tail of chat's history into
// the notes now (/compact), after any compaction already running.
func (c *History) Compact(ctx context.Context, chatID string) (Report, error) {
	sess, err := c.store.ActiveSession(ctx, chatID)
	if err != nil {
		return Report{}, fmt.Errorf("load session: %w", err)
	}
	turn := &Turn{}
	if err := c.compactNow(ctx, sess, c.Model(sess), 1, turn); err != nil {
		return Report{}, err
	}
	if turn.Compacted == nil {
		return Report{}, ErrNothingToCompact
	}
	return *turn.Compacted, nil
}

// compactNow compacts sess in the caller's time, after any compaction of
// the chat already running, and reports it in turn.
func (c *History) compactNow(ctx context.Context, sess store.Session, m *config.Model, shrink int, turn *Turn) error {
	unlock, err := c.lock(ctx, sess.ChatID)
	if err != nil {
		return err
	}
	defer unlock()
	rep, err := c.compactLocked(ctx, sess, m, shrink)
	turn.Compacted = rep
	return err
}

// compactLocked summarises all but the newest 1/keepDen of the budget
// (divided by shrink) into new notes; nil when nothing is older than that.
// The chat's compaction lock is held, so the notes it starts from are the
// latest.
func (c *History) compactLocked(ctx context.Context, sess store.Session, m *config.Model, shrink int) (*Report, error) {
	w, err := c.window(ctx, sess, m, "", 0, shrink)
	if err != nil {
		return nil, err
	}
	keep := fitTail(w.tail, w.budget/keepDen, w.cost)
	old := w.tail[:len(w.tail)-len(keep)]
	if len(old) == 0 {
		return nil, nil
	}
	notes, err := c.summarise(ctx, sess, m, w.notes, old, w.budget/4)
	if err != nil {
		return nil, err
	}
	rep := &Report{Messages: len(old), SummaryTokens: Estimate(notes)}
	c.log.Info("compacted history", "session", sess.ID, "messages", len(old), "summary_tokens", rep.SummaryTokens)
	return rep, nil
}

// plan is a turn's context, decided.
type plan struct {
	notes     string          // the summary, "" for none
	recent    []store.Message // verbatim turns, oldest first
	estimate  int             // raw token estimate of the request's text
	pictures  int             // pictures shown with the new message
	localOnly bool            // the chat is set to /privacy local
	history   window          // what it was made from, to tell after the turn whether a compaction is due
}

// PictureTokens is what one picture is counted as in a turn's context: a
// picture of 1600x1200 (the default long side) costs about 765 tokens on
// OpenAI (detail "high": four 512-pixel tiles), 1,500 on Anthropic (its
// own downscale to 1.15 megapixels, w·h/750), 256 on Gemma 3 and 2,400 on
// Qwen2.5-VL (one token per 28x28 patch). Like Estimate, it errs high.
const PictureTokens = 1600

// tokens is the plan's size in the model's tokens, given its tokenizer's
// calibration factor: the text scaled, the pictures as they are.
func (p plan) tokens(factor float64) int {
	return int(float64(p.estimate)*factor) + p.pictures*PictureTokens
}

// budget is the room for notes and recent turns: the model's window less
// its answer, a reserve, the system prompt and the new message with its
// pictures, and never more than the configured history cap. shrink
// divides it (a harder compaction after an overflow).
func (c *History) budget(m *config.Model, text string, pictures, shrink int) int {
	factor := c.calib.get(m.Ref())
	limit := c.contextLimit(m)
	reserve := min(1024, limit/10)
	fixed := int(float64(Estimate(c.cfg.Agent.SystemPrompt)+Estimate(text)+Estimate(notesHeader+notesAck))*factor) + pictures*PictureTokens
	// A server whose real context is far below contextWindow (Ollama's
	// 4096 by default) would leave no room at all for a maxTokens meant
	// for the configured window: count at most a quarter of it for the
	// answer.
	room := limit - min(m.MaxTokens, limit/4) - reserve - fixed
	return max(min(c.cfg.Agent.Compaction.MaxHistoryTokens, room)/shrink, 0)
}

// contextLimiter is what the agent knows of a local server's real
// context for a model (*agent.Agent is one).
type contextLimiter interface {
	ContextLimit(m *config.Model) int
}

// contextLimit is the context the model really has: the smaller of what
// its server serves and contextWindow, when the agent knows the server.
func (c *History) contextLimit(m *config.Model) int {
	if l, ok := c.agent.(contextLimiter); ok {
		if n := l.ContextLimit(m); n > 0 {
			return min(n, m.ContextWindow)
		}
	}
	return m.ContextWindow
}

// prepare decides the context without waiting for a model: the notes and
// every turn not yet compacted when they fit the budget; else the newest
// turns that fit, for this request only, and a compaction is queued.
func (c *History) prepare(ctx context.Context, sess store.Session, m *config.Model, text string, pictures, shrink int, turn *Turn) (plan, error) {
	w, err := c.window(ctx, sess, m, text, pictures, shrink)
	if err != nil {
		return plan{}, err
	}
	if len(w.fits) < len(w.tail) {
		// The messages left out stay in the database.
		turn.Truncated = true
		if c.cfg.Agent.Compaction.Mode == "auto" {
			c.schedule(sess.ChatID, 1)
		}
	}
	p := c.finish(w.notes, w.fits, text)
	p.history, p.pictures = w, pictures
	return p, nil
}

// window is a session's history as a turn would see it: the notes, the
// recent tail, and the part of the tail that fits the budget beside them.
type window struct {
	notes      string
	tail, fits []store.Message
	budget     int
	cost       func(string) int // a text's size in the model's tokens, calibrated
}

// window loads the notes and the recent tail and fits them to the budget
// of a turn with text and pictures, without compacting anything.
func (c *History) window(ctx context.Context, sess store.Session, m *config.Model, text string, pictures, shrink int) (window, error) {
	factor := c.calib.get(m.Ref())
	w := window{budget: c.budget(m, text, pictures, shrink), cost: func(s string) int { return int(float64(Estimate(s))*factor) + 4 }}
	summary, hasSummary, err := c.store.LatestSummary(ctx, sess.ID)
	if err != nil {
		return w, fmt.Errorf("load summary: %w", err)
	}
	if w.tail, err = c.store.RecentMessages(ctx, sess.ID, tailWindow); err != nil {
		return w, fmt.Errorf("load history: %w", err)
	}
	notesCost := 0
	if hasSummary && summary.Text != "" {
		w.notes = summary.Text
		notesCost = w.cost(notesBlock(w.notes))
	}
	w.fits = fitTail(w.tail, w.budget-notesCost, w.cost)
	return w, nil
}

// ContextTokens estimates, in the chat model's tokens, the context the
// chat's next turn starts from: the system prompt, the notes and the recent
// turns that fit beside them (for /status).
func (c *History) ContextTokens(ctx context.Context, sess store.Session) (int, error) {
	m := c.Model(sess)
	w, err := c.window(ctx, sess, m, "", 0, 1)
	if err != nil {
		return 0, err
	}
	return int(float64(c.finish(w.notes, w.fits, "").estimate) * c.calib.get(m.Ref())), nil
}

// fitTail returns the longest suffix of msgs, starting at a user message,
// whose cost fits in budget.
func fitTail(msgs []store.Message, budget int, cost func(string) int) []store.Message {
	used, start := 0, len(msgs)
	for i := len(msgs) - 1; i >= 0; i-- {
		used += cost(msgs[i].Text)
		if used > budget {
			break
		}
		start = i
	}
	for start < len(msgs) && msgs[start].Role != store.RoleUser {
		start++
	}
	return msgs[start:]
}

// summarise asks the summarising model for new notes and stores them,
// marking old compacted, in one transaction.
func (c *History) summarise(ctx context.Context, sess store.Session, m *config.Model, previous string, old []store.Message, maxTokens int) (string, error) {
	maxTokens = max(maxTokens, 200)
	summariser := m
	if cm := c.cfg.Agent.Compaction.Model; cm != nil {
		summariser = cm
	}
	text, _, err := c.agent.Reply(ctx, agent.Conversation{
		ChatID:          sess.ChatID,
		LocalOnly:       sess.Privacy == store.PrivacyLocal,
		Instructions:    fmt.Sprintf(summariserInstructions, maxTokens*3/4),
		Messages:        []agent.Item{{Kind: agent.ItemMessage, Role: agent.RoleUser, Text: summariserInput(previous, old)}},
		Model:           summariser,
		MaxOutputTokens: maxTokens * 2,
		NoTools:         true,
	})
	if err != nil {
		return "", fmt.Errorf("summarise: %w", err)
	}
	notes := cleanSummary(text, maxTokens)
	if strings.TrimSpace(notes) == "" {
		return "", errors.New("summarise: the notes came back empty")
	}
	err = c.store.Compact(ctx, sess.ID, store.Summary{Text: notes, Tokens: Estimate(notes), ThroughMessageID: old[len(old)-1].ID})
	if err != nil {
		return "", fmt.Errorf("save summary: %w", err)
	}
	return notes, nil
}

// finish lays out the plan and its raw estimate.
func (c *History) finish(notes string, recent []store.Message, text string) plan {
	p := plan{notes: notes, recent: recent}
	p.estimate = Estimate(c.cfg.Agent.SystemPrompt) + Estimate(text)
	if notes != "" {
		p.estimate += Estimate(notesBlock(notes)) + Estimate(notesAck)
	}
	for _, m := range recent {
		p.estimate += Estimate(m.Text)
	}
	return p
}

// conversation turns a plan into the agent's input. The notes go in a
// user-role message of their own, never in the system position.
func (c *History) conversation(chatID string, m *config.Model, p plan, text string, canShrink bool) agent.Conversation {
	var items []agent.Item
	if p.notes != "" {
		items = append(items,
			agent.Item{Kind: agent.ItemMessage, Role: agent.RoleUser, Text: notesBlock(p.notes)},
			agent.Item{Kind: agent.ItemMessage, Role: agent.RoleAssistant, Text: notesAck})
	}
	for _, msg := range p.recent {
		role := agent.RoleUser
		if msg.Role == store.RoleAssistant {
			role = agent.RoleAssistant
		}
		items = append(items, agent.Item{Kind: agent.ItemMessage, Role: role, Text: msg.Text})
	}
	items = append(items, agent.Item{Kind: agent.ItemMessage, Role: agent.RoleUser, Text: text})
	return agent.Conversation{ChatID: chatID, Messages: items, Model: m, CanShrink: canShrink, LocalOnly: p.localOnly}
}

// observe learns the answering model's tokenizer from the server's count,
// and reports whether the server silently truncated the context (Ollama
// and LM Studio do; the agent tells, from the server's real context or
// from counts that stop growing). Truncated counts, the sums of a turn
// with tool steps, and turns with pictures (whose cost is a guess that
// differs tenfold between models) are never learnt from.
func (c *History) observe(out *agent.Outcome, p plan) bool {
	if out == nil || out.Model == nil || out.Usage.InputTokens == 0 {
		return false
	}
	in, m := out.Usage.InputTokens, out.Model
	est := float64(p.tokens(c.calib.get(m.Ref())))
	// The agent knows the server's real context, or sees counts that stop
	// growing; a count that reaches the window the model is known to have
	// was cut too (the server reports its context size as the input).
	if out.Truncated || in >= c.contextLimit(m) {
		c.log.Warn("the server cut the context to fit (reported input equals its context size); compacting",
			"model", m.Ref(), "reported_tokens", in, "estimated_tokens", int(est),
			"hint", "set contextWindow to the server's context length")
		return true
	}
	if out.Steps == 1 && p.pictures == 0 {
		c.calib.learn(m.Ref(), p.estimate, in)
	}
	return false
}
