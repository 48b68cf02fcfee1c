package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"waclaw/bridge/access"
	"waclaw/compaction"
	"waclaw/config"
	"waclaw/store"
)

// isCommand reports whether a whole message is a command: it starts with
// "/" and a letter. Commands are read only from the sender's own text,
// never from quoted text or model output.
func isCommand(text string) bool {
	t := strings.TrimSpace(text)
	return len(t) > 1 && t[0] == '/' && (t[1] >= 'a' && t[1] <= 'z' || t[1] >= 'A' && t[1] <= 'Z')
}

// command is one admin command: its name, the forms /help lists, and what
// it does.
type command struct {
	name  string // "/model"
	usage []usage
	run   func(b *Bridge, ctx context.Context, c *call) (string, error)
	// private answers name people, codes or the linked number: sent in a
	// group, the answer goes to the admin's own chat instead.
	private bool
}

// usage is one form of a command, as /help shows it.
type usage struct{ args, help string }

// call is one command as an admin sent it.
type call struct {
	chatID string // where it was sent, and where the answer goes
	name   string // the command, lower-cased
	args   string // the text after the command's name
	forms  []usage
	// tell are messages to other chats that go out before the answer
	// (the sender of an approved pairing code is told).
	tell []message
}

// usage is the answer to arguments the command does not take: its forms.
func (c *call) usage() string {
	var forms []string
	for _, u := range c.forms {
		forms = append(forms, strings.TrimSpace(c.name+" "+u.args))
	}
	return "Use " + strings.Join(forms, " or ") + "."
}

// commands lists the admin commands in the order /help shows them. It is
// the one list: the dispatch, /help and "did you mean" all come from it.
func commands() []command {
	return []command{
		{"/help", []usage{{"", "this list"}}, (*Bridge).helpCommand, false},
		{"/status", []usage{{"", "model, fallbacks, context and cost of this chat"}}, (*Bridge).statusCommand, true},
		{"/model", []usage{
			{"", "the current model and the aliases"},
			{"NAME", "use another model in this chat (alias or provider/model)"},
			{"default", "back to the configured model"},
		}, (*Bridge).modelCommand, false},
		{"/models", []usage{{"", "every model, by provider"}}, (*Bridge).modelsCommand, false},
		{"/new", []usage{{"", "start a fresh conversation (the old one is kept)"}}, (*Bridge).newCommand, false},
		{"/compact", []usage{{"", "fold older messages into notes now"}}, (*Bridge).compactCommand, false},
		{"/privacy", []usage{
			{"local", "this chat uses local models only"},
			{"default", "hosted fallbacks allowed again"},
		}, (*Bridge).privacyCommand, false},
		{"/allow", []usage{{"+NUMBER", "let a number talk to me"}}, (*Bridge).allowCommand, true},
		{"/deny", []usage{{"+NUMBER", "block a number"}}, (*Bridge).denyCommand, true},
		{"/pair", []usage{
			{"list", "pairing requests waiting"},
			{"approve CODE", "let the number that asked with CODE talk to me"},
		}, (*Bridge).pairCommand, true},
	}
}

// command runs an admin command. Its reply is the answer, after any
// message the command has for another chat. In a group, an answer that
// names people or codes goes to the admin's own chat, and the group only
// hears where it went.
func (b *Bridge) command(ctx context.Context, j job) reply {
	text := strings.TrimSpace(j.in.Text)
	typed := strings.Fields(text)[0] // isCommand: there is a first word
	c := &call{chatID: j.in.ChatID, name: strings.ToLower(typed), args: strings.TrimSpace(strings.TrimPrefix(text, typed))}
	answer, private := b.dispatch(ctx, c, typed)
	r := reply{msgs: c.tell, state: store.InboxDone, reason: "command"}
	if private && j.in.IsGroup && j.in.SenderID != "" {
		return reply{msgs: append(r.msgs, message{chatID: j.in.SenderID, text: answer},
			message{chatID: c.chatID, text: privateAnswerNotice, quote: j.in.MessageID}), state: r.state, reason: r.reason}
	}
	r.msgs = append(r.msgs, message{chatID: c.chatID, text: answer})
	return r
}

// privateAnswerNotice is what a group hears of a command whose answer
// went to the admin's own chat.
const privateAnswerNotice = "I've answered you in our private chat."

// dispatch runs the command c names and returns its answer, and whether
// the answer is private; an unknown name gets the closest known one.
func (b *Bridge) dispatch(ctx context.Context, c *call, typed string) (answer string, private bool) {
	var names []string
	for _, cmd := range commands() {
		if cmd.name != c.name {
			names = append(names, cmd.name)
			continue
		}
		c.forms = cmd.usage
		answer, err := cmd.run(b, ctx, c)
		if err != nil {
			b.log.Warn("command failed", "command", c.name)
			b.log.Debug("command failed", "command", c.name, "err", err) // it may name a number
			answer = "That didn't work: " + err.Error()
		}
		return answer, cmd.private
	}
	hint := ""
	if s := config.Closest(c.name, names); s != "" {
		hint = fmt.Sprintf(" Did you mean %s?", s)
	}
	return fmt.Sprintf("Unknown command %s.%s Send /help for the list.", typed, hint), false
}

func (b *Bridge) helpCommand(ctx context.Context, c *call) (string, error) {
	var sb strings.Builder
	sb.WriteString("**Commands**")
	for _, cmd := range commands() {
		for _, u := range cmd.usage {
			sb.WriteString("\n" + strings.TrimSpace(cmd.name+" "+u.args) + ": " + u.help)
		}
	}
	return sb.String(), nil
}

func (b *Bridge) statusCommand(ctx context.Context, c *call) (string, error) {
	return b.status(ctx, c.chatID)
}

func (b *Bridge) newCommand(ctx context.Context, c *call) (string, error) {
	if _, err := b.store.NewSession(ctx, c.chatID); err != nil {
		return "", err
	}
	return "Started a new conversation. The old one is archived, not deleted.", nil
}

func (b *Bridge) compactCommand(ctx context.Context, c *call) (string, error) {
	rep, err := b.history.Compact(ctx, c.chatID)
	switch {
	case errors.Is(err, compaction.ErrNothingToCompact):
		return "Nothing to compact yet: the conversation is still short.", nil
	case err != nil:
		return "", err
	}
	return "Compacted: " + rep.String() + ".", nil
}

func (b *Bridge) modelCommand(ctx context.Context, c *call) (string, error) {
	chatID, args := c.chatID, c.args
	sess, err := b.store.ActiveSession(ctx, chatID)
	if err != nil {
		return "", err
	}
	switch strings.ToLower(args) {
	case "":
		m := b.history.Model(sess)
		var sb strings.Builder
		fmt.Fprintf(&sb, "Model: **%s**", m.Label())
		if m.Alias != "" {
			fmt.Fprintf(&sb, " (%s)", m.Ref())
		}
		if sess.ModelOverride == "" || m == b.cfg.Primary {
			sb.WriteString(", the default.")
		} else {
			sb.WriteString(", chosen for this chat.")
		}
		sb.WriteString("\n\nAliases:")
		for i, a := range b.cfg.Aliases() {
			fmt.Fprintf(&sb, "\n%d. %s: %s", i+1, a.Alias, a.Ref())
		}
		sb.WriteString("\n\nSwitch with /model NAME.")
		return sb.String(), nil
	case "default":
		if err := b.store.SetModelOverride(ctx, sess.ID, ""); err != nil {
			return "", err
		}
		return "Back to the default model: **" + b.cfg.Primary.Label() + "**." + b.unusedModelNote(b.cfg.Primary, sess.Privacy == store.PrivacyLocal), nil
	}
	m, err := b.cfg.Resolve(args)
	if err != nil {
		return "", err
	}
	if err := b.store.SetModelOverride(ctx, sess.ID, m.Ref()); err != nil {
		return "", err
	}
	return fmt.Sprintf("This chat now uses **%s** (%s).", m.Label(), m.Ref()) + b.unusedModelNote(m, sess.Privacy == store.PrivacyLocal), nil
}

// unusedModelNote says, when a chat's model m cannot be used (it is
// hosted and the chat local only, or its provider is not set up), which
// model answers instead, or that none can: "" when m can be used.
func (b *Bridge) unusedModelNote(m *config.Model, localOnly bool) string {
	next := b.agent.Candidates(m, localOnly)
	switch {
	case localOnly && !m.Provider.Local && len(next) > 0:
		return fmt.Sprintf(" Note: this chat is set to local only, so this hosted model is not used: replies will come from **%s** (%s) until /privacy default.", next[0].Label(), next[0].Ref())
	case localOnly && !m.Provider.Local:
		return " Note: this chat is set to local only, so this hosted model is not used, and no local model is set up: this chat gets no answer until /privacy default."
	case m.Provider.Unavailable() == "":
		return ""
	}
	why, until := m.Provider.Unavailable(), "until it is"
	if len(m.Provider.MissingEnv) > 1 {
		until = "until they are"
	}
	if len(next) > 0 {
		return fmt.Sprintf(" Note: %s, so replies will come from **%s** (%s) %s.", why, next[0].Label(), next[0].Ref(), until)
	}
	return fmt.Sprintf(" Note: %s, and no other model is set up, so this chat gets no answer %s.", why, until)
}

func (b *Bridge) modelsCommand(ctx context.Context, c *call) (string, error) {
	role := map[*config.Model]string{b.cfg.Primary: "primary"}
	for i, m := range b.cfg.Fallbacks {
		role[m] = fmt.Sprintf("fallback %d", i+1)
	}
	var sb strings.Builder
	for _, p := range b.cfg.Providers {
		where := "hosted"
		if p.Local {
			where = "local"
		}
		if sb.Len() > 0 {
			sb.WriteString("\n") // a blank line ends the previous provider's list
		}
		fmt.Fprintf(&sb, "**%s** (%s", p.ID, where)
		if why := p.Unavailable(); why != "" {
			sb.WriteString(", " + why)
		}
		sb.WriteString(")\n")
		for _, m := range p.Models {
			fmt.Fprintf(&sb, "- %s", m.ID)
			var notes []string
			if m.Alias != "" {
				notes = append(notes, m.Alias)
			}
			if r := role[m]; r != "" {
				notes = append(notes, r)
			}
			if len(notes) > 0 {
				fmt.Fprintf(&sb, " (%s)", strings.Join(notes, ", "))
			}
			sb.WriteString("\n")
		}
	}
	return strings.TrimSpace(sb.String()), nil
}

func (b *Bridge) privacyCommand(ctx context.Context, c *call) (string, error) {
	sess, err := b.store.ActiveSession(ctx, c.chatID)
	if err != nil {
		return "", err
	}
	// What each setting means for this chat's own chain: which hosted
	// models could answer it, and whether any local one could.
	m := b.history.Model(sess)
	var hosted []string
	noHosted := "no hosted model is configured as a fallback" // why hosted is empty
	for _, cm := range b.agent.Chain(m) {
		switch {
		case cm.Provider.Local:
		case cm.Provider.Unavailable() != "":
			noHosted = "its hosted models are not set up (" + cm.Provider.Unavailable() + ")"
		default:
			hosted = append(hosted, "**"+cm.Label()+"**")
		}
	}
	anyFirst := b.agent.Candidates(m, false)
	noLocal := len(b.agent.Candidates(m, true)) == 0
	switch strings.ToLower(c.args) {
	case "local":
		if err := b.store.SetPrivacy(ctx, sess.ID, store.PrivacyLocal); err != nil {
			return "", err
		}
		if noLocal {
			return "This chat now uses local models only: its messages are never sent to a hosted model. But no local model is set up in its chain, so it gets no answer until one is, or until /privacy default.", nil
		}
		return "This chat now uses local models only: its messages are never sent to a hosted model, even when the local one is down.", nil
	case "default":
		if err := b.store.SetPrivacy(ctx, sess.ID, store.PrivacyDefault); err != nil {
			return "", err
		}
		switch {
		case len(hosted) == 0:
			return "This chat may use hosted models again, but " + noHosted + ", so it is still answered by local models only.", nil
		case !anyFirst[0].Provider.Local:
			return fmt.Sprintf("This chat may use hosted models again: %s answers it first.", hosted[0]), nil
		}
		return fmt.Sprintf("This chat may use hosted fallbacks again (%s) when the local model cannot answer.", strings.Join(hosted, ", ")), nil
	case "":
		switch {
		case sess.Privacy == store.PrivacyLocal && len(hosted) == 0:
			return "This chat uses local models only (and " + noHosted + ").", nil
		case sess.Privacy == store.PrivacyLocal:
			return fmt.Sprintf("This chat uses local models only. /privacy default allows hosted fallbacks (%s).", strings.Join(hosted, ", ")), nil
		case len(hosted) == 0:
			return "This chat may use hosted models, but " + noHosted + ", so it stays on local models. /privacy local makes that a rule.", nil
		}
		return fmt.Sprintf("This chat may use hosted fallbacks (%s). /privacy local keeps it on local models only.", strings.Join(hosted, ", ")), nil
	}
	return c.usage(), nil
}

func (b *Bridge) allowCommand(ctx context.Context, c *call) (string, error) {
	if c.args == "" {
		return c.usage(), nil
	}
	entry, err := b.access.Allow(ctx, c.args, access.KeepAdmin)
	if err != nil {
		return "", err
	}
	return entry.Number + " may now talk to me.", nil
}

func (b *Bridge) denyCommand(ctx context.Context, c *call) (string, error) {
	if c.args == "" {
		return c.usage(), nil
	}
	entry, err := b.access.Deny(ctx, c.args)
	if err != nil {
		return "", err
	}
	msg := entry.Number + " is blocked: their messages are ignored."
	if b.access.ConfigAdmin(entry.Number) {
		msg += " Note: the config file lists them in channels.whatsapp.admins, which takes precedence; remove them there."
	}
	return msg, nil
}

func (b *Bridge) pairCommand(ctx context.Context, c *call) (string, error) {
	fields := strings.Fields(c.args)
	if len(fields) == 0 || strings.EqualFold(fields[0], "list") {
		pending, err := b.access.Pending(ctx)
		if err != nil {
			return "", err
		}
		if len(pending) == 0 {
			return "No pairing requests are waiting.", nil
		}
		var sb strings.Builder
		now := b.now()
		for _, e := range pending {
			fmt.Fprintf(&sb, "\n- %s from %s, expires in %s", e.PairingCode, e.Number, e.CodeExpiresAt.Sub(now).Round(time.Minute))
		}
		return "Waiting for approval:" + sb.String() + "\n\nApprove with /pair approve CODE.", nil
	}
	if !strings.EqualFold(fields[0], "approve") || len(fields) != 2 {
		return c.usage(), nil
	}
	number, chatID, err := b.access.Approve(ctx, fields[1], false)
	if err != nil {
		return "", err
	}
	if chatID != "" {
		c.tell = append(c.tell, message{chatID: chatID, text: approvedNotice})
	}
	return number + " is approved and has been told.", nil
}
