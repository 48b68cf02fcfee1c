package config

import "fmt"

// Mode says in one line what kind of number waclaw runs on, what a
// stranger who writes to it meets, and why, such as "personal number
// (selfChatMode true): strangers get no answer and no read receipt
// (dmPolicy allowlist, the default for a personal number)". config check
// and /status show it, so the wording lives here only.
func (w WhatsApp) Mode() string {
	number, why := "personal number (selfChatMode true)", "the default for a personal number"
	if !w.SelfChatMode {
		number, why = "bot number (selfChatMode false)", "the default for a bot number"
	}
	if w.DMPolicySet {
		why = "set in the config"
	}
	var meets string
	switch w.DMPolicy {
	case "allowlist":
		meets = "strangers get no answer and no read receipt"
	case "pairing":
		meets = "strangers get a pairing code for an admin to approve"
	case "open":
		meets = "anyone who writes gets an answer from the model"
	case "disabled":
		meets = "no direct message is answered"
		if w.SelfChatMode {
			meets += ", only the self-chat"
		}
	default:
		meets = "unknown dmPolicy"
	}
	return fmt.Sprintf("%s: %s (dmPolicy %s, %s)", number, meets, w.DMPolicy, why)
}

// ModeWarning is the warning for a dmPolicy that shows the bot to every
// contact of the owner of a personal number, or "" when there is none.
func (w WhatsApp) ModeWarning() string {
	if !w.SelfChatMode {
		return ""
	}
	switch w.DMPolicy {
	case "pairing":
		return `channels.whatsapp.dmPolicy "pairing" on a personal number (selfChatMode true): every contact who writes to you will get a pairing reply from your own number. ` +
			`Leave dmPolicy out (allowlist is the default here), or set selfChatMode false if this number is only the bot's`
	case "open":
		return `channels.whatsapp.dmPolicy "open" on a personal number (selfChatMode true): every contact who writes to you will get an answer from the model, from your own number`
	}
	return ""
}
