package whatsapp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"waclaw/bridge"
)

// The linked account and a contact, as phone-number JIDs and LIDs.
var (
	botPN   = types.NewJID("15550001111", types.DefaultUserServer)
	botLID  = types.NewJID("99990001111", types.HiddenUserServer)
	alicePN = types.NewJID("15552223333", types.DefaultUserServer)
	aliceLI = types.NewJID("88882223333", types.HiddenUserServer)
	group   = types.NewJID("120363000000000001", types.GroupServer)
	t0      = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

type sentMessage struct {
	to  types.JID
	msg *waE2E.Message
	id  types.MessageID
}

type chatPresence struct {
	to    types.JID
	state types.ChatPresence
}

type rejectCall struct {
	from types.JID
	id   string
}

type readCall struct {
	receipt      types.ReceiptType // "" for a plain read receipt
	ids          []types.MessageID
	chat, sender types.JID
}

// fakeClient stands in for *whatsmeow.Client. It delivers events to the
// registered handlers the way whatsmeow's dispatchEvent does, and records
// an acknowledgement only when every handler succeeded.
type fakeClient struct {
	mu       sync.Mutex
	pn, lid  types.JID
	pushName string
	lids     map[types.JID]types.JID
	lidErr   error
	// errors returned by GetUserInfo, RejectCall and SendChatPresence
	userInfoErr, rejectErr, chatPresErr error

	handlers map[uint32]whatsmeow.EventHandlerWithSuccessStatus
	nextH    uint32
	acked    []string // message ids acknowledged to "WhatsApp"

	connects, disconnects int
	connectErr            error
	onConnect             func()
	// dialHook, if set, is each connection attempt's network part: it may
	// block until its context ends, as a dial to an unanswering server
	// does.
	dialHook func(ctx context.Context) error
	connCtxs []context.Context // the context of each attempt

	sendErrs []error // returned by successive SendMessage calls, then nil
	// sendHook, if set, decides each SendMessage's error after sendErrs
	// are used up: WhatsApp's side of a send.
	sendHook  func(to types.JID, id types.MessageID) error
	sent      []sentMessage
	nextID    int
	presences []types.Presence
	chatPres  []chatPresence
	seen      []string // presences and chat states in order, as a contact sees them
	reads     []readCall
	userInfo  [][]types.JID
	rejected  []rejectCall

	// downloadHook is WhatsApp's media servers: it answers each Download
	// (nil: no file).
	downloadHook func(ctx context.Context, msg whatsmeow.DownloadableMessage) ([]byte, error)
	downloads    []whatsmeow.DownloadableMessage
	// retryHook, if set, is the phone's side of a media retry receipt:
	// it runs after the receipt is recorded and may deliver the answer.
	retryHook    func(info types.MessageInfo, mediaKey []byte)
	retryErr     error
	mediaRetries []types.MessageInfo

	qr        chan whatsmeow.QRChannelItem
	nextQR    []chan whatsmeow.QRChannelItem // for the pairings after the first
	pairPhone []string
	pairName  string
	pairType  whatsmeow.PairClientType
}

var _ Client = (*fakeClient)(nil)

func newFake() *fakeClient {
	return &fakeClient{pn: botPN, lid: botLID, pushName: "Bot", lids: map[types.JID]types.JID{},
		handlers: map[uint32]whatsmeow.EventHandlerWithSuccessStatus{}}
}

func (f *fakeClient) ConnectContext(ctx context.Context) error {
	f.mu.Lock()
	f.connects++
	f.connCtxs = append(f.connCtxs, ctx)
	hook, dial := f.onConnect, f.dialHook
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	if dial != nil {
		if err := dial(ctx); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connectErr
}

func (f *fakeClient) Disconnect() {
	f.mu.Lock()
	f.disconnects++
	f.mu.Unlock()
}

func (f *fakeClient) AddEventHandlerWithSuccessStatus(h whatsmeow.EventHandlerWithSuccessStatus) uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextH++
	f.handlers[f.nextH] = h
	return f.nextH
}

func (f *fakeClient) RemoveEventHandler(id uint32) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.handlers[id]
	delete(f.handlers, id)
	return ok
}

// deliver dispatches an event like whatsmeow does and reports whether it
// would be acknowledged (every handler returned true).
func (f *fakeClient) deliver(evt any) bool {
	f.mu.Lock()
	hs := make([]whatsmeow.EventHandlerWithSuccessStatus, 0, len(f.handlers))
	for _, h := range f.handlers {
		hs = append(hs, h)
	}
	f.mu.Unlock()
	for _, h := range hs {
		if !h(evt) {
			return false
		}
	}
	if m, ok := evt.(*events.Message); ok {
		f.mu.Lock()
		f.acked = append(f.acked, m.Info.ID)
		f.mu.Unlock()
	}
	return true
}

func (f *fakeClient) GenerateMessageID() types.MessageID {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	return fmt.Sprintf("3EB0OUT%d", f.nextID)
}

func (f *fakeClient) SendMessage(ctx context.Context, to types.JID, message *waE2E.Message, extra ...whatsmeow.SendRequestExtra) (whatsmeow.SendResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var id types.MessageID
	if len(extra) == 1 {
		id = extra[0].ID
	}
	f.sent = append(f.sent, sentMessage{to: to, msg: message, id: id})
	if len(f.sendErrs) > 0 {
		err := f.sendErrs[0]
		f.sendErrs = f.sendErrs[1:]
		if err != nil {
			return whatsmeow.SendResponse{}, err
		}
	} else if f.sendHook != nil {
		if err := f.sendHook(to, id); err != nil {
			return whatsmeow.SendResponse{}, err
		}
	}
	return whatsmeow.SendResponse{ID: id, Timestamp: t0}, nil
}

func (f *fakeClient) SendPresence(ctx context.Context, state types.Presence) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pushName == "" {
		return whatsmeow.ErrNoPushName
	}
	f.presences = append(f.presences, state)
	f.seen = append(f.seen, string(state))
	return nil
}

func (f *fakeClient) SendChatPresence(ctx context.Context, jid types.JID, state types.ChatPresence, media types.ChatPresenceMedia) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.chatPresErr != nil {
		return f.chatPresErr
	}
	f.chatPres = append(f.chatPres, chatPresence{to: jid, state: state})
	f.seen = append(f.seen, string(state)+" "+jid.User)
	return nil
}

func (f *fakeClient) MarkRead(ctx context.Context, ids []types.MessageID, timestamp time.Time, chat, sender types.JID, receiptTypeExtra ...types.ReceiptType) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	rc := readCall{ids: ids, chat: chat, sender: sender}
	if len(receiptTypeExtra) > 0 {
		rc.receipt = receiptTypeExtra[0]
	}
	f.reads = append(f.reads, rc)
	return nil
}

func (f *fakeClient) GetUserInfo(ctx context.Context, jids []types.JID) (map[types.JID]types.UserInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.userInfo = append(f.userInfo, jids)
	return map[types.JID]types.UserInfo{}, f.userInfoErr
}

func (f *fakeClient) RejectCall(ctx context.Context, callFrom types.JID, callID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rejected = append(f.rejected, rejectCall{from: callFrom, id: callID})
	return f.rejectErr
}

func (f *fakeClient) Download(ctx context.Context, msg whatsmeow.DownloadableMessage) ([]byte, error) {
	f.mu.Lock()
	f.downloads = append(f.downloads, msg)
	hook := f.downloadHook
	f.mu.Unlock()
	if hook == nil {
		return nil, whatsmeow.ErrNoURLPresent
	}
	return hook(ctx, msg)
}

func (f *fakeClient) SendMediaRetryReceipt(ctx context.Context, message *types.MessageInfo, mediaKey []byte) error {
	f.mu.Lock()
	f.mediaRetries = append(f.mediaRetries, *message)
	hook, err := f.retryHook, f.retryErr
	f.mu.Unlock()
	if err != nil {
		return err
	}
	if hook != nil {
		hook(*message, mediaKey)
	}
	return nil
}

func (f *fakeClient) GetQRChannel(ctx context.Context) (<-chan whatsmeow.QRChannelItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.qr == nil {
		return nil, whatsmeow.ErrQRStoreContainsID
	}
	ch := f.qr
	if len(f.nextQR) > 0 {
		f.qr, f.nextQR = f.nextQR[0], f.nextQR[1:]
	}
	return ch, nil
}

func (f *fakeClient) PairPhone(ctx context.Context, phone string, showPushNotification bool, clientType whatsmeow.PairClientType, clientDisplayName string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pairPhone = append(f.pairPhone, phone)
	f.pairType, f.pairName = clientType, clientDisplayName
	return "ABCD-EFGH", nil
}

func (f *fakeClient) Identity() (pn, lid types.JID, pushName string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pn, f.lid, f.pushName
}

func (f *fakeClient) LIDs() LIDResolver { return fakeLIDs{f} }

type fakeLIDs struct{ f *fakeClient }

func (l fakeLIDs) GetPNForLID(ctx context.Context, lid types.JID) (types.JID, error) {
	l.f.mu.Lock()
	defer l.f.mu.Unlock()
	return l.f.lids[lid], l.f.lidErr
}

// fakeHandler is the bridge: it records what it was handed, or fails.
type fakeHandler struct {
	mu  sync.Mutex
	ins []bridge.Inbound // the messages handled
	err error
}

func (h *fakeHandler) Handle(ctx context.Context, in bridge.Inbound) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil {
		return h.err
	}
	h.ins = append(h.ins, in)
	return nil
}

// ids are the ids of the messages handled, in order.
func (h *fakeHandler) ids() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []string
	for _, in := range h.ins {
		ids = append(ids, in.MessageID)
	}
	return ids
}

// sleeps records the waits asked for and returns at once.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// testAdapter is an adapter over a fake with a fixed clock, instant sleeps
// and a log captured in a buffer.
func testAdapter(t *testing.T, f *fakeClient, opts Options) (*Adapter, *sleeps, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	sl := &sleeps{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return t0 }
	}
	if opts.Sleep == nil {
		opts.Sleep = sl.sleep
	}
	a := NewWithClient(f, opts)
	// Tests never ask the network for WhatsApp Web's version.
	a.fetchVersion = func(context.Context) (*store.WAVersionContainer, error) {
		return nil, errors.New("no network in tests")
	}
	a.setVersion = func(store.WAVersionContainer) { t.Error("the version was changed unasked") }
	t.Cleanup(a.Close)
	return a, sl, logs
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
