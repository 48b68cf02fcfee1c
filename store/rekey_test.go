package store

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A person's chat as an older build stored it under their LID, and the
// chat key they have from now on.
const (
	lidChat = "88882223333@lid"
	pnChat  = "15552223333@s.whatsapp.net"
)

// toPN is the rewrite a channel gives RekeyChat: here the payload is the
// chat id itself.
func toPN(p []byte) ([]byte, error) { return bytes.ReplaceAll(p, []byte(lidChat), []byte(pnChat)), nil }

// Everything of a chat follows it to its new key: the conversation with
// its history, /model and /privacy, a message waiting to be answered (its
// payload as the channel rewrites it) and its reply, usage, and a
// pairing request's chat. Nothing is left under the old key.
func TestRekeyChatMovesEverything(t *testing.T) {
	ctx := context.Background()
	s, clk := openTest(t)
	old, err := s.ActiveSession(ctx, lidChat)
	if err != nil {
		t.Fatal(err)
	}
	s.AppendMessage(ctx, Message{SessionID: old.ID, Role: RoleUser, Text: "my name is Alice"})
	archived, _ := s.NewSession(ctx, lidChat)
	s.AppendMessage(ctx, Message{SessionID: archived.ID, Role: RoleUser, Text: "I live in Lisbon"})
	s.SetModelOverride(ctx, archived.ID, "local/qwen3")
	s.SetPrivacy(ctx, archived.ID, PrivacyLocal)
	inboxID, _, err := s.InboxAdd(ctx, InboxItem{ChatID: lidChat, SenderID: lidChat, MsgID: "M1", Payload: []byte(lidChat)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.OutboxAdd(ctx, inboxID, []OutboxPart{{ChatID: lidChat, MsgID: "3EB0A", Text: "hello"}}); err != nil {
		t.Fatal(err)
	}
	s.RecordUsage(ctx, Usage{ChatID: lidChat, Provider: "lmstudio", Model: "m", OK: true})
	s.SetPairingChat(ctx, "+15552223333", lidChat)
	s.SetPairingChat(ctx, "+15559990000", "15559990000@s.whatsapp.net")
	clk.Advance(time.Minute)

	m, err := s.RekeyChat(ctx, lidChat, pnChat, toPN)
	if err != nil {
		t.Fatalf("RekeyChat: %v", err)
	}
	want := ChatMove{Sessions: 2, Inbox: 1, Outbox: 1, Usage: 1, Settings: 1}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("RekeyChat moved (-want +got):\n%s", diff)
	}
	active, err := s.ActiveSession(ctx, pnChat)
	if err != nil || active.ID != archived.ID || active.ModelOverride != "local/qwen3" || active.Privacy != PrivacyLocal {
		t.Errorf("ActiveSession(%s) = %+v, %v; want the moved session %d with its model and privacy", pnChat, active, err, archived.ID)
	}
	if recent, _ := s.RecentMessages(ctx, active.ID, 10); len(recent) != 1 || recent[0].Text != "I live in Lisbon" {
		t.Errorf("history of the moved session = %v; want what Alice said", recent)
	}
	if all, _ := s.Sessions(ctx, pnChat); len(all) != 2 {
		t.Errorf("Sessions(%s) = %v; want the archived one too", pnChat, all)
	}
	pending, err := s.InboxPending(ctx)
	if err != nil || len(pending) != 1 || pending[0].ChatID != pnChat || pending[0].SenderID != pnChat || string(pending[0].Payload) != pnChat {
		t.Errorf("InboxPending = %+v, %v; want M1 under %s, its payload rewritten", pending, err, pnChat)
	}
	if parts, _ := s.Outbox(ctx, inboxID); len(parts) != 1 || parts[0].ChatID != pnChat {
		t.Errorf("Outbox = %+v; want the reply addressed to %s", parts, pnChat)
	}
	if u, _ := s.UsageSince(ctx, pnChat, time.Time{}); u.Turns != 1 {
		t.Errorf("UsageSince(%s) = %+v; want the one request", pnChat, u)
	}
	if chat, _, _ := s.PairingChat(ctx, "+15552223333"); chat != pnChat {
		t.Errorf("PairingChat = %q; want %q", chat, pnChat)
	}
	if chat, _, _ := s.PairingChat(ctx, "+15559990000"); chat != "15559990000@s.whatsapp.net" {
		t.Errorf("someone else's pairing chat became %q", chat)
	}
	if left, _ := s.Sessions(ctx, lidChat); len(left) != 0 {
		t.Errorf("Sessions(%s) = %v; want none left", lidChat, left)
	}
	if chats, err := s.StoredChats(ctx, "@lid"); err != nil || len(chats) != 0 {
		t.Errorf("StoredChats(@lid) = %v, %v; want none left", chats, err)
	}

	// Once moved, there is nothing to move: no write.
	if m, err := s.RekeyChat(ctx, lidChat, pnChat, toPN); err != nil || m.Moved() {
		t.Errorf("RekeyChat again = %+v, %v; want nothing moved", m, err)
	}
}

// When both chats have a conversation going, the one the person used last
// goes on (with its model) and the other is archived; /privacy local on
// either side holds for the one kept.
func TestRekeyChatBothActive(t *testing.T) {
	tests := []struct {
		name          string
		lidLast       bool // the LID chat was used after the phone-number one
		lidPrivacy    Privacy
		pnPrivacy     Privacy
		wantKept      string // "lid" or "pn"
		wantModel     string
		wantPrivacy   Privacy
		wantLastWords string
	}{
		{name: "the LID chat used last", lidLast: true, pnPrivacy: PrivacyLocal,
			wantKept: "lid", wantModel: "lid/model", wantPrivacy: PrivacyLocal, wantLastWords: "newer words"},
		{name: "the phone-number chat used last", lidPrivacy: PrivacyLocal,
			wantKept: "pn", wantModel: "pn/model", wantPrivacy: PrivacyLocal, wantLastWords: "newer words"},
		{name: "neither local", lidLast: true, wantKept: "lid", wantModel: "lid/model", wantLastWords: "newer words"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, clk := openTest(t)
			lid, _ := s.ActiveSession(ctx, lidChat)
			pn, _ := s.ActiveSession(ctx, pnChat)
			s.SetModelOverride(ctx, lid.ID, "lid/model")
			s.SetModelOverride(ctx, pn.ID, "pn/model")
			s.SetPrivacy(ctx, lid.ID, tt.lidPrivacy)
			s.SetPrivacy(ctx, pn.ID, tt.pnPrivacy)
			first, last := pn, lid
			if !tt.lidLast {
				first, last = lid, pn
			}
			clk.Advance(time.Minute)
			s.AppendMessage(ctx, Message{SessionID: first.ID, Role: RoleUser, Text: "older words"})
			clk.Advance(time.Minute)
			s.AppendMessage(ctx, Message{SessionID: last.ID, Role: RoleUser, Text: "newer words"})
			clk.Advance(time.Minute)

			m, err := s.RekeyChat(ctx, lidChat, pnChat, nil)
			if err != nil {
				t.Fatalf("RekeyChat: %v", err)
			}
			keptID, droppedID := lid.ID, pn.ID
			if tt.wantKept == "pn" {
				keptID, droppedID = pn.ID, lid.ID
			}
			if m.Archived != droppedID || m.Sessions != 1 {
				t.Errorf("RekeyChat = %+v; want session %d archived and the LID chat's one session moved", m, droppedID)
			}
			active, err := s.ActiveSession(ctx, pnChat)
			if err != nil || active.ID != keptID || active.ModelOverride != tt.wantModel || active.Privacy != tt.wantPrivacy {
				t.Fatalf("ActiveSession = %+v, %v; want session %d with model %q and privacy %q", active, err, keptID, tt.wantModel, tt.wantPrivacy)
			}
			recent, _ := s.RecentMessages(ctx, active.ID, 10)
			if len(recent) != 1 || recent[0].Text != tt.wantLastWords {
				t.Errorf("the conversation that goes on holds %v; want %q", recent, tt.wantLastWords)
			}
			all, _ := s.Sessions(ctx, pnChat)
			if len(all) != 2 || !slices.ContainsFunc(all, func(ss Session) bool { return ss.ID == droppedID && ss.State == SessionArchived }) {
				t.Errorf("Sessions = %+v; want the other one archived, not lost", all)
			}
		})
	}
}

// A message WhatsApp delivered under both names of the chat is answered
// once: the row under the new key stands, the old key's copy (and its
// recorded reply) goes.
func TestRekeyChatDuplicateMessage(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	oldID, _, _ := s.InboxAdd(ctx, InboxItem{ChatID: lidChat, SenderID: lidChat, MsgID: "M1", Payload: []byte(lidChat)})
	s.OutboxAdd(ctx, oldID, []OutboxPart{{ChatID: lidChat, MsgID: "3EB0A", Text: "first answer"}})
	newID, _, _ := s.InboxAdd(ctx, InboxItem{ChatID: pnChat, SenderID: pnChat, MsgID: "M1", Payload: []byte(pnChat)})
	s.InboxAdd(ctx, InboxItem{ChatID: lidChat, SenderID: lidChat, MsgID: "M2", Payload: []byte(lidChat)})

	m, err := s.RekeyChat(ctx, lidChat, pnChat, toPN)
	if err != nil {
		t.Fatalf("RekeyChat: %v", err)
	}
	if m.Inbox != 1 || m.Dropped != 1 {
		t.Errorf("RekeyChat = %+v; want M2 moved and the old copy of M1 dropped", m)
	}
	pending, _ := s.InboxPending(ctx)
	var got []string
	for _, it := range pending {
		got = append(got, it.ChatID+" "+it.MsgID)
	}
	if want := []string{pnChat + " M1", pnChat + " M2"}; !slices.Equal(got, want) {
		t.Errorf("pending = %q; want %q", got, want)
	}
	if pending[0].ID != newID {
		t.Errorf("M1 is row %d; want the one recorded under the phone number, %d", pending[0].ID, newID)
	}
	if parts, _ := s.Outbox(ctx, oldID); len(parts) != 0 {
		t.Errorf("the dropped copy's reply is still recorded: %+v", parts)
	}
}

// A payload the channel cannot rewrite moves nothing: the chat stays
// whole under its old key, to be tried again.
func TestRekeyChatIsAtomic(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	ss, _ := s.ActiveSession(ctx, lidChat)
	s.InboxAdd(ctx, InboxItem{ChatID: lidChat, SenderID: lidChat, MsgID: "M1", Payload: []byte("garbage")})
	bad := errors.New("unreadable payload")
	_, err := s.RekeyChat(ctx, lidChat, pnChat, func([]byte) ([]byte, error) { return nil, bad })
	if !errors.Is(err, bad) {
		t.Fatalf("RekeyChat error = %v; want %v", err, bad)
	}
	if active, _ := s.ActiveSession(ctx, lidChat); active.ID != ss.ID {
		t.Errorf("after a failed move the session is %d under %s; want %d still there", active.ID, lidChat, ss.ID)
	}
	if all, _ := s.Sessions(ctx, pnChat); len(all) != 0 {
		t.Errorf("a failed move left %v under %s", all, pnChat)
	}
	for _, pair := range [][2]string{{"", pnChat}, {lidChat, ""}, {pnChat, pnChat}} {
		if _, err := s.RekeyChat(ctx, pair[0], pair[1], nil); err == nil {
			t.Errorf("RekeyChat(%q, %q) error = nil", pair[0], pair[1])
		}
	}
}

func TestStoredChats(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	s.ActiveSession(ctx, "1@lid")
	s.ActiveSession(ctx, pnChat)
	s.InboxAdd(ctx, InboxItem{ChatID: "2@lid", SenderID: "2@lid", MsgID: "M1", Payload: []byte("{}")})
	s.RecordUsage(ctx, Usage{ChatID: "3@lid", Provider: "p", Model: "m"})
	s.SetPairingChat(ctx, "+4", "4@lid")
	s.SetSetting(ctx, "note", "5@lid") // not a chat
	s.ActiveSession(ctx, "6@LID")      // another suffix
	got, err := s.StoredChats(ctx, "@lid")
	if want := []string{"1@lid", "2@lid", "3@lid", "4@lid"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("StoredChats(@lid) = %q, %v; want %q", got, err, want)
	}
	if _, err := s.StoredChats(ctx, ""); err == nil {
		t.Error("StoredChats(\"\") error = nil")
	}
}
