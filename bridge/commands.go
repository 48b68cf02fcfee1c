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

const helpText = `*Commands*
/status: model, fallbacks, context and cost of this chat
/model: the current model and the aliases
/model NAME: use another model in this chat (alias or provider/model)
/model default: back to the configured model
/models: every model, by provider
/new: start a fresh conversation (the old one is kept)
/compact: fold older messages into notes now
/privacy local: this chat uses local models only
/privacy default: hosted fallbacks allowed again
/allow +NUMBER, /deny +NUMBER: who may talk to me
/pair list, /pair approve CODE: pairing requests`

// command runs an admin command and returns its reply.
func (b *Bridge) command(ctx context.Context, j job) (string, error) {
	fields := strings.Fields(strings.TrimSpace(j.in.Text))
	name := strings.ToLower(fields[0])
	args := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(j.in.Text), fields[0]))
	var reply string
	var err error
	switch name {
	case "/help":
		reply = helpText
	case "/status":
		reply, err = b.status(ctx, j.in.ChatID)
	case "/model":
		reply, err = b.modelCommand(ctx, j.in.ChatID, args)
	case "/models":
		reply = b.modelsList()
	case "/new":
		_, err = b.store.NewSession(ctx, j.in.ChatID)
		reply = "Started a new conversation. The old one is archived, not deleted."
	case "/compact":
		var rep compaction.Report
		rep, err = b.history.Compact(ctx, j.in.ChatID)
		switch {
		case errors.Is(err, compaction.ErrNothingToCompact):
			reply, err = "Nothing to compact yet: the conversation is still short.", nil
		case err == nil:
			reply = "Compacted: " + rep.String() + "."
		}
	case "/privacy":
		reply, err = b.privacyCommand(ctx, j.in.ChatID, args)
	case "/allow", "/deny":
		reply, err = b.allowCommand(ctx, name, args)
	case "/pair":
		reply, err = b.pairCommand(ctx, args)
	default:
		hint := ""
		known := []string{"/help", "/status", "/model", "/models", "/new", "/compact", "/privacy", "/allow", "/deny", "/pair"}
		if s := config.Closest(name, known); s != "" {
			hint = fmt.Sprintf(" Did you mean %s?", s)
		}
		reply = fmt.Sprintf("Unknown command %s.%s Send /help for the list.", fields[0], hint)
	}
	if err != nil {
		b.log.Warn("command failed", "command", name, "err", err)
		reply = "That didn't work: " + err.Error()
	}
	return reply, nil
}

func (b *Bridge) modelCommand(ctx context.Context, chatID, args string) (string, error) {
	sess, err := b.store.ActiveSession(ctx, chatID)
	if err != nil {
		return "", err
	}
	switch strings.ToLower(args) {
	case "":
		m := b.history.Model(sess)
		var sb strings.Builder
		fmt.Fprintf(&sb, "Model: *%s*", m.Label())
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
		return "Back to the default model: *" + b.cfg.Primary.Label() + "*.", nil
	}
	m, err := b.cfg.Resolve(args)
	if err != nil {
		return "", err
	}
	if err := b.store.SetModelOverride(ctx, sess.ID, m.Ref()); err != nil {
		return "", err
	}
	reply := fmt.Sprintf("This chat now uses *%s* (%s).", m.Label(), m.Ref())
	if why := m.Provider.Unavailable(); why != "" {
		reply += fmt.Sprintf(" Note: %s, so replies will come from the fallbacks until it is.", why)
	}
	if sess.Privacy == store.PrivacyLocal && !m.Provider.Local {
		reply += " Note: this chat is set to local only, so this hosted model will not be used."
	}
	return reply, nil
}

func (b *Bridge) modelsList() string {
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
		fmt.Fprintf(&sb, "*%s* (%s", p.ID, where)
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
	return strings.TrimSpace(sb.String())
}

func (b *Bridge) privacyCommand(ctx context.Context, chatID, args string) (string, error) {
	sess, err := b.store.ActiveSession(ctx, chatID)
	if err != nil {
		return "", err
	}
	switch strings.ToLower(args) {
	case "local":
		if err := b.store.SetPrivacy(ctx, sess.ID, store.PrivacyLocal); err != nil {
			return "", err
		}
		return "This chat now uses local models only: its messages are never sent to a hosted model, even when the local one is down.", nil
	case "default":
		if err := b.store.SetPrivacy(ctx, sess.ID, store.PrivacyDefault); err != nil {
			return "", err
		}
		return "This chat may use the hosted fallbacks again when the local model is down.", nil
	case "":
		if sess.Privacy == store.PrivacyLocal {
			return "This chat uses local models only. /privacy default allows hosted fallbacks.", nil
		}
		return "This chat may use hosted fallbacks. /privacy local keeps it on local models only.", nil
	}
	return "Use /privacy local or /privacy default.", nil
}

func (b *Bridge) allowCommand(ctx context.Context, name, args string) (string, error) {
	if name == "/allow" {
		entry, err := b.access.Allow(ctx, args, access.KeepAdmin)
		if err != nil {
			return "", err
		}
		return entry.Number + " may now talk to me.", nil
	}
	entry, err := b.access.Deny(ctx, args)
	if err != nil {
		return "", err
	}
	msg := entry.Number + " is blocked: their messages are ignored."
	if b.access.ConfigAdmin(entry.Number) {
		msg += " Note: the config file lists them in channels.whatsapp.admins, which takes precedence; remove them there."
	}
	return msg, nil
}

func (b *Bridge) pairCommand(ctx context.Context, args string) (string, error) {
	fields := strings.Fields(args)
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
		return "Use /pair list or /pair approve CODE.", nil
	}
	number, chatID, err := b.access.Approve(ctx, fields[1], false)
	if err != nil {
		return "", err
	}
	if chatID != "" {
		b.sendNow(ctx, chatID, "You're approved! Send me a message any time.")
	}
	return number + " is approved and has been told.", nil
}
