package whatsapp

import "go.mau.fi/whatsmeow/types"

// OwnerChats are the chats where the owner hears of pairing requests: the
// linked account's own "message yourself" chat on a personal number
// (selfChatMode), else the admins' chats, or the self-chat when there are
// no admins (whoever holds the bot's phone sees it there).
func OwnerChats(linked string, admins []string, personal bool) []string {
	self := ""
	if d := digits(linked); d != "" {
		self = types.NewJID(d, types.DefaultUserServer).String()
	}
	var out []string
	if !personal {
		for _, n := range admins {
			if d := digits(n); d != "" {
				out = append(out, types.NewJID(d, types.DefaultUserServer).String())
			}
		}
	}
	if len(out) == 0 && self != "" {
		out = append(out, self)
	}
	return out
}
