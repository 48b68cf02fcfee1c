package whatsapp

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"
)

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestConnected(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{KnownNumbers: []string{"+1 555 222 3333", "+4915123456789"}})
	if !f.deliver(&events.Connected{}) {
		t.Fatal("Connected not handled")
	}
	a.bg.Wait()
	s := a.State()
	want := State{LinkedNumber: "+15550001111", Connected: true, LastConnected: t0, LastEvent: t0}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("State() after Connected (-want +got):\n%s", diff)
	}
	wantJIDs := [][]types.JID{{alicePN, types.NewJID("4915123456789", types.DefaultUserServer)}}
	if diff := cmp.Diff(wantJIDs, f.userInfo); diff != "" {
		t.Errorf("LID prefill lookups (-want +got):\n%s", diff)
	}
	if got := s.Describe(t0.Add(3 * time.Minute)); got != "linked as +15550001111, connected, last event 3m0s ago" {
		t.Errorf("Describe() = %q", got)
	}
}

func TestKeepAlive(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{})
	f.deliver(&events.Connected{})
	f.deliver(&events.KeepAliveTimeout{ErrorCount: 2, LastSuccess: t0})
	if s := a.State(); !s.Degraded || !s.Connected {
		t.Errorf("after KeepAliveTimeout State() = %+v; want connected and degraded", s)
	}
	if got := a.State().Describe(t0); !strings.Contains(got, "keep-alive pings are failing") {
		t.Errorf("Describe() = %q", got)
	}
	f.deliver(&events.KeepAliveRestored{})
	if s := a.State(); s.Degraded {
		t.Errorf("after KeepAliveRestored State() = %+v; want not degraded", s)
	}
	if f.connects != 0 || f.disconnects != 0 {
		t.Errorf("keep-alive events touched the connection: %d connects, %d disconnects", f.connects, f.disconnects)
	}
}

func TestLoggedOut(t *testing.T) {
	f := newFake()
	a, _, logs := testAdapter(t, f, Options{})
	f.deliver(&events.Connected{})
	f.deliver(&events.LoggedOut{OnConnect: true, Reason: events.ConnectFailureLoggedOut})
	s := a.State()
	if s.Connected || !s.Stopped || s.StopReason != string(StopLoggedOut) || s.LinkedNumber != "" {
		t.Errorf("State() = %+v; want stopped, logged out, not linked", s)
	}
	if !closed(a.Done()) {
		t.Error("Done() not closed after LoggedOut")
	}
	if !strings.Contains(logs.String(), "waclaw pair") {
		t.Errorf("log does not tell the operator to pair again:\n%s", logs)
	}
	if got := s.Describe(t0); !strings.Contains(got, "not linked, stopped: the phone unlinked this device") {
		t.Errorf("Describe() = %q", got)
	}
}

func TestStreamReplaced(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{})
	f.deliver(&events.Connected{})
	f.deliver(&events.StreamReplaced{})
	a.bg.Wait()
	s := a.State()
	if !s.Stopped || s.StopReason != string(StopStreamReplaced) || s.Connected {
		t.Errorf("State() = %+v; want stopped as replaced", s)
	}
	if !closed(a.Done()) {
		t.Error("Done() not closed")
	}
	if f.disconnects != 1 || f.connects != 0 {
		t.Errorf("connects %d, disconnects %d; want 0 and 1 (never fight the other session)", f.connects, f.disconnects)
	}
}

func TestTemporaryBan(t *testing.T) {
	f := newFake()
	a, sl, _ := testAdapter(t, f, Options{})
	f.deliver(&events.TemporaryBan{Code: events.TempBanBlockedByUsers, Expire: 2 * time.Hour})
	a.bg.Wait()
	s := a.State()
	if !s.Stopped || !strings.Contains(s.StopReason, "too many people blocked you") || !s.Until.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("State() = %+v; want stopped until the ban ends, saying why", s)
	}
	if closed(a.Done()) {
		t.Error("Done() closed for a ban that ends")
	}
	if !slices.Equal(sl.all(), []time.Duration{2 * time.Hour}) || f.connects != 1 {
		t.Errorf("waited %v and connected %d times; want one wait of 2h then one connect", sl.all(), f.connects)
	}
	f.deliver(&events.Connected{})
	if s := a.State(); s.Stopped || s.StopReason != "" || !s.Until.IsZero() {
		t.Errorf("State() after reconnect = %+v; want the stop cleared", s)
	}

	f2 := newFake()
	a2, _, _ := testAdapter(t, f2, Options{})
	f2.deliver(&events.TemporaryBan{Code: events.TempBanSentToTooManyPeople})
	a2.bg.Wait()
	if !closed(a2.Done()) || f2.connects != 0 {
		t.Errorf("a ban without an end: Done closed = %v, connects = %d; want stopped for good", closed(a2.Done()), f2.connects)
	}
}

func TestClientOutdated(t *testing.T) {
	newer := store.GetWAVersion()
	newer[2]++
	tests := []struct {
		name      string
		latest    *store.WAVersionContainer
		fetchErr  error
		wantSet   bool
		wantStop  bool
		connects  int
		twice     bool
		wantInLog string
	}{
		{name: "newer version published", latest: &newer, wantSet: true, connects: 1, wantInLog: "retrying with the current WhatsApp Web version"},
		{name: "fetch fails", fetchErr: errors.New("no network"), wantStop: true, wantInLog: "no network"},
		{name: "nothing newer", latest: ptr(store.GetWAVersion()), wantStop: true, wantInLog: "no newer version"},
		{name: "outdated again after the update", latest: &newer, wantSet: true, connects: 1, twice: true, wantStop: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			a, _, logs := testAdapter(t, f, Options{})
			var set []store.WAVersionContainer
			a.fetchVersion = func(context.Context) (*store.WAVersionContainer, error) { return tt.latest, tt.fetchErr }
			a.setVersion = func(v store.WAVersionContainer) { set = append(set, v) }
			f.deliver(&events.ClientOutdated{})
			a.bg.Wait()
			if tt.twice {
				f.deliver(&events.ClientOutdated{})
				a.bg.Wait()
			}
			if tt.wantSet != (len(set) == 1) || (tt.wantSet && set[0] != newer) {
				t.Errorf("set versions %v; want set = %v to %v", set, tt.wantSet, newer)
			}
			if f.connects != tt.connects {
				t.Errorf("connects = %d; want %d", f.connects, tt.connects)
			}
			if closed(a.Done()) != tt.wantStop {
				t.Errorf("stopped = %v; want %v (%+v)", closed(a.Done()), tt.wantStop, a.State())
			}
			if tt.wantStop && a.State().StopReason != string(StopClientOutdated) {
				t.Errorf("StopReason = %q", a.State().StopReason)
			}
			if !strings.Contains(logs.String(), "outdated (405)") || !strings.Contains(logs.String(), tt.wantInLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantInLog, logs)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestConnectFailureBackoff(t *testing.T) {
	f := newFake()
	a, sl, _ := testAdapter(t, f, Options{})
	for range 3 {
		f.deliver(&events.ConnectFailure{Reason: events.ConnectFailureReason(418), Message: "odd"})
		a.bg.Wait()
	}
	want := []time.Duration{10 * time.Second, 30 * time.Second, time.Minute}
	if !slices.Equal(sl.all(), want) || f.connects != 3 {
		t.Fatalf("waits %v, connects %d; want %v and 3", sl.all(), f.connects, want)
	}
	if s := a.State(); s.Connected || !strings.Contains(s.LastError, "418") {
		t.Errorf("State() = %+v; want disconnected with the failure as LastError", s)
	}
	// Success resets the count.
	f.deliver(&events.Connected{})
	f.deliver(&events.ConnectFailure{Reason: 418})
	a.bg.Wait()
	if got := sl.all(); got[len(got)-1] != 10*time.Second {
		t.Errorf("wait after a success = %v; want 10s again", got[len(got)-1])
	}
	// Then it gives up.
	for range maxConnectFailures {
		f.deliver(&events.ConnectFailure{Reason: 418})
		a.bg.Wait()
	}
	if !closed(a.Done()) || !strings.Contains(a.State().StopReason, string(StopConnectFailed)) {
		t.Errorf("after %d failures: Done closed = %v, State() = %+v", maxConnectFailures+1, closed(a.Done()), a.State())
	}
	if got := sl.all(); got[len(got)-1] != 5*time.Minute {
		t.Errorf("longest wait = %v; want capped at 5m", got[len(got)-1])
	}
}

func TestReconnectErrorBacksOff(t *testing.T) {
	f := newFake()
	f.connectErr = errors.New("dial tcp: connection refused")
	a, sl, _ := testAdapter(t, f, Options{})
	f.mu.Lock()
	calls := 0
	f.onConnect = func() {
		calls++
		if calls == 2 {
			f.connectErr = nil
		}
	}
	f.mu.Unlock()
	f.deliver(&events.ConnectFailure{Reason: 418})
	a.bg.Wait()
	if !slices.Equal(sl.all(), []time.Duration{10 * time.Second, 30 * time.Second}) || f.connects != 2 {
		t.Errorf("waits %v, connects %d; want a second, longer wait after the failed reconnect", sl.all(), f.connects)
	}
}

func TestOfflineSyncLogged(t *testing.T) {
	f := newFake()
	_, _, logs := testAdapter(t, f, Options{})
	f.deliver(&events.OfflineSyncPreview{Total: 9, Messages: 4, Notifications: 3, Receipts: 2})
	f.deliver(&events.OfflineSyncCompleted{Count: 9})
	for _, want := range []string{"total=9", "messages=4", "notifications=3", "receipts=2", "count=9"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

func TestIgnoredEvents(t *testing.T) {
	f := newFake()
	later := t0
	a, _, _ := testAdapter(t, f, Options{Now: func() time.Time { return later }})
	f.deliver(&events.Connected{})
	before := a.State()
	later = t0.Add(time.Hour)
	for _, evt := range []any{
		&events.HistorySync{}, &events.Receipt{}, &events.ChatPresence{}, &events.Presence{},
		&events.AppStateSyncComplete{}, &events.Contact{}, &events.PushName{}, &events.Archive{},
		&events.MarkChatAsRead{}, &events.UndecryptableMessage{}, &events.QR{}, &events.PairError{},
		&events.CallOffer{}, struct{}{},
	} {
		if !f.deliver(evt) {
			t.Errorf("%T not acknowledged", evt)
		}
	}
	after := a.State()
	if !after.LastEvent.Equal(t0.Add(time.Hour)) {
		t.Errorf("LastEvent = %v; want every event to count", after.LastEvent)
	}
	after.LastEvent = before.LastEvent
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("ignored events changed the state (-before +after):\n%s", diff)
	}
	if f.connects+f.disconnects != 0 || len(f.sent) != 0 {
		t.Errorf("ignored events acted: %d connects, %d disconnects, %d sends", f.connects, f.disconnects, len(f.sent))
	}
}

// F: at-least-once delivery.
func TestMessageAckedOnlyAfterHandle(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{})
	evt := msgEvent(alicePN, alicePN, text("hello"))

	// Before the bridge is wired: not acknowledged.
	if f.deliver(evt) {
		t.Error("message acknowledged with no handler")
	}
	// A crash between receipt and the inbox write: the handler fails.
	h := &fakeHandler{err: errors.New("process killed before the inbox write")}
	a.SetHandler(h)
	if f.deliver(evt) {
		t.Error("message acknowledged although the handler failed")
	}
	if len(f.acked) != 0 {
		t.Fatalf("acked = %v; want nothing", f.acked)
	}
	// WhatsApp redelivers; now the inbox write succeeds.
	h.err = nil
	if !f.deliver(evt) {
		t.Fatal("redelivered message not acknowledged")
	}
	if !slices.Equal(f.acked, []string{"M1"}) || !slices.Equal(h.ids(), []string{"M1"}) {
		t.Errorf("acked %v, handled %v; want M1 once each", f.acked, h.ids())
	}
	// Ignored messages are acknowledged without the handler.
	if !f.deliver(msgEvent(types.StatusBroadcastJID, alicePN, text("story"), func(i *types.MessageInfo) { i.ID = "S1" })) {
		t.Error("status broadcast not acknowledged")
	}
	if len(h.ids()) != 1 {
		t.Errorf("handler got %v; want only M1", h.ids())
	}
}

// A picture or voice note goes to the bridge like any message, saying what
// it is; the adapter sends nothing of its own and acknowledges it once the
// bridge has it.
func TestMediaGoesToTheBridge(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{})
	h := &fakeHandler{}
	a.SetHandler(h)
	voice := &waE2E.Message{AudioMessage: &waE2E.AudioMessage{PTT: proto.Bool(true), Mimetype: proto.String("audio/ogg; codecs=opus")}}
	if !f.deliver(msgEvent(alicePN, alicePN, voice, func(i *types.MessageInfo) { i.ID = "V1" })) {
		t.Fatal("a voice note the bridge took was not acknowledged")
	}
	a.bg.Wait()
	if len(h.ins) != 1 || h.ins[0].Media != "voice note" || h.ins[0].Text != "" || h.ins[0].MessageID != "V1" {
		t.Errorf("the bridge got %+v; want the voice note, marked as one", h.ins)
	}
	if len(f.sent) != 0 {
		t.Errorf("the adapter sent %d messages itself; every message goes out through the bridge", len(f.sent))
	}
}

func TestConnectAndClose(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{TypingRefresh: time.Millisecond})
	if err := a.Connect(t.Context()); err != nil || f.connects != 1 {
		t.Fatalf("Connect() = %v with %d connects; want one", err, f.connects)
	}
	f.connectErr = errors.New("dial tcp: no route to host")
	if err := a.Connect(t.Context()); err == nil || !strings.Contains(err.Error(), "connect to WhatsApp: dial tcp") {
		t.Errorf("Connect() error = %v; want it wrapped", err)
	}
	if err := a.Typing(t.Context(), alicePN.String(), true); err != nil {
		t.Fatal(err)
	}
	a.Close() // waits for the typing refresher
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.disconnects != 1 || len(f.handlers) != 0 {
		t.Errorf("after Close: %d disconnects, %d handlers; want 1 and 0", f.disconnects, len(f.handlers))
	}
}

// A delete for everyone reaches the bridge naming the deleted message, so
// a question deleted before it was answered is not answered.
func TestRevokeGoesToTheBridge(t *testing.T) {
	f := newFake()
	a, _, _ := testAdapter(t, f, Options{})
	h := &fakeHandler{}
	a.SetHandler(h)
	f.deliver(msgEvent(alicePN, alicePN, text("what is 2+2?"), func(i *types.MessageInfo) { i.ID = "Q1" }))
	if !f.deliver(msgEvent(alicePN, alicePN, revoke("Q1"), func(i *types.MessageInfo) {
		i.ID, i.Edit = "R1", types.EditAttributeSenderRevoke
	})) {
		t.Fatal("delete for everyone not acknowledged")
	}
	if len(h.ins) != 2 || h.ins[1].MessageID != "R1" || h.ins[1].Revokes != "Q1" || h.ins[1].Text != "" || h.ins[1].ChatID != alicePN.String() {
		t.Errorf("the bridge got %+v; want the question, then its deletion", h.ins)
	}
}
