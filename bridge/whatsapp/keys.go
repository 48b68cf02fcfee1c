package whatsapp

import (
	"context"
	"encoding/json"
	"fmt"

	"go.mau.fi/whatsmeow/types"

	"waclaw/bridge"
	"waclaw/store"
)

// One chat key per person. WhatsApp names a person by their phone number
// (15551234567@s.whatsapp.net) or by a LID (an opaque 1234...@lid), and
// moves chats from one to the other as it likes; the owner's self-chat
// too. Keyed by whatever WhatsApp said last, one person's conversation
// would split in two and its history, /model and /privacy would silently
// reset. So the bridge and the store see one key per person: the
// phone-number chat JID whenever the number is known (from the message's
// SenderAlt or RecipientAlt, whatsmeow's LID store, or the linked
// account's own number and LID), for DMs, the self-chat, calls and
// broadcast-list messages (answered in the DM); a LID whose number is
// genuinely unknown stays the key until it is known. Groups keep the
// group's JID, and a group message's sender id stays the address the
// group names them by (read receipts need it); their number is in
// SenderPhone.
//
// Replies, read receipts and typing go to the address the person last
// wrote from (address), as they did before keys were unified; after a
// restart, to the key itself, which whatsmeow resolves.
//
// What an older waclaw stored under a LID is moved to the phone-number
// key (ChatStore.RekeyChat): at start for every LID chat whose number the
// LID store knows (MoveStoredChats), and otherwise the first time a
// message shows a LID's number. Each LID is moved once per run.

// ChatStore is where chats are stored, for moving them to their key;
// *store.Store is one.
type ChatStore interface {
	RekeyChat(ctx context.Context, from, to string, rewrite func(payload []byte) ([]byte, error)) (store.ChatMove, error)
	StoredChats(ctx context.Context, suffix string) ([]string, error)
}

var _ ChatStore = (*store.Store)(nil)

// Bounds on the adapter's memory of addresses and moved LIDs; a LID that
// falls out is looked at again, which costs one read.
const (
	addressMemory = 4096
	movedMemory   = 4096
)

// person is who j names, as their phone-number JID whenever the number is
// known: j itself when it is one, the linked account's number for its own
// LID, alt when it is a phone-number JID (whatsmeow's SenderAlt or
// RecipientAlt), else what whatsmeow's LID store knows. A LID with no
// known number comes back as it is. An error means the LID store could
// not be read: the message should be delivered again later rather than
// keyed wrongly.
func (a *Adapter) person(j, alt types.JID) (types.JID, error) {
	j = j.ToNonAD()
	if j.Server != types.HiddenUserServer {
		return j, nil
	}
	if pn, lid, _ := a.cli.Identity(); sameUser(j, lid) && pn.User != "" {
		return pn.ToNonAD(), nil
	}
	if alt = alt.ToNonAD(); alt.Server == types.DefaultUserServer && alt.User != "" {
		return alt, nil
	}
	ctx, cancel := context.WithTimeout(a.ctx, lookupTimeout)
	defer cancel()
	found, err := a.cli.LIDs().GetPNForLID(ctx, j)
	if err != nil {
		return j, fmt.Errorf("look up the phone number of LID %s: %w", hashJID(j), redactErr(err))
	}
	if found = found.ToNonAD(); found.Server == types.DefaultUserServer && found.User != "" {
		return found, nil
	}
	return j, nil
}

// address is where to send to a chat key: the address the chat last
// wrote from, when that was not the key (a LID), else the key.
func (a *Adapter) address(key types.JID) types.JID {
	a.mu.Lock()
	defer a.mu.Unlock()
	if wire, ok := a.addresses.get(key.String()); ok {
		return wire
	}
	return key
}

// noteAddress remembers the address a chat key last wrote from.
func (a *Adapter) noteAddress(key, wire types.JID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if wire.IsEmpty() || wire == key {
		a.addresses.del(key.String())
		return
	}
	a.addresses.put(key.String(), wire)
}

// moveToKey moves what is stored under lid to key, once per LID: a no-op
// unless lid is a LID and key a phone-number JID, or without a ChatStore.
func (a *Adapter) moveToKey(ctx context.Context, lid, key types.JID) error {
	if a.opts.Chats == nil || lid.Server != types.HiddenUserServer || key.Server != types.DefaultUserServer {
		return nil
	}
	a.mu.Lock()
	_, done := a.moved.get(lid.String())
	a.mu.Unlock()
	if done {
		return nil
	}
	m, err := a.opts.Chats.RekeyChat(ctx, lid.String(), key.String(), rekeyPayload(lid, key))
	if err != nil {
		return fmt.Errorf("move the chat stored under LID %s to its phone number: %w", hashJID(lid), redactErr(err))
	}
	if m.Moved() {
		a.log.Info("whatsapp: moved a chat stored under a LID to its phone number", "lid", hashJID(lid), "chat", hashJID(key),
			"sessions", m.Sessions, "archived", m.Archived, "messages", m.Inbox, "replies", m.Outbox, "usage", m.Usage,
			"pairing", m.Settings, "duplicates", m.Dropped)
	}
	a.mu.Lock()
	a.moved.put(lid.String(), struct{}{})
	a.mu.Unlock()
	return nil
}

// rekeyPayload rewrites a pending bridge.Inbound recorded under lid as it
// reads under key. A payload it cannot read is left for the bridge, which
// fails such rows itself.
func rekeyPayload(lid, key types.JID) func([]byte) ([]byte, error) {
	return func(p []byte) ([]byte, error) {
		var in bridge.Inbound
		if err := json.Unmarshal(p, &in); err != nil {
			return p, nil
		}
		if in.ChatID == lid.String() {
			in.ChatID = key.String()
		}
		if in.SenderID == lid.String() {
			in.SenderID = key.String()
			if in.SenderPhone == "" {
				in.SenderPhone = phoneOf(key)
			}
		}
		return json.Marshal(in)
	}
}

// MoveStoredChats moves what is stored under LIDs to the phone-number
// chats of the people behind them, as far as whatsmeow's LID store knows
// them. `run` calls it before connecting, so that a message left waiting
// by an older waclaw is answered in the right conversation and a
// redelivered one is recognised. A LID whose number is unknown stays as
// it is until a message tells.
func (a *Adapter) MoveStoredChats(ctx context.Context) error {
	if a.opts.Chats == nil {
		return nil
	}
	chats, err := a.opts.Chats.StoredChats(ctx, "@"+types.HiddenUserServer)
	if err != nil {
		return fmt.Errorf("move chats stored under LIDs: %w", err)
	}
	for _, c := range chats {
		lid, err := types.ParseJID(c)
		if err != nil || lid.Server != types.HiddenUserServer {
			continue
		}
		key, err := a.person(lid, types.EmptyJID)
		if err != nil {
			return fmt.Errorf("move chats stored under LIDs: %w", err)
		}
		if err := a.moveToKey(ctx, lid, key); err != nil {
			return fmt.Errorf("move chats stored under LIDs: %w", err)
		}
	}
	return nil
}
