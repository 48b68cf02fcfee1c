package whatsapp

import (
	"context"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
)

// Client is the part of *whatsmeow.Client the adapter uses. It is narrow so
// that tests can drive the adapter with a fake; Live adapts the real client.
type Client interface {
	// Connection and events, as in whatsmeow: the connection lives in
	// ConnectContext's context. Handlers registered with
	// AddEventHandlerWithSuccessStatus that return false leave a message
	// unacknowledged when the client has SynchronousAck set.
	ConnectContext(ctx context.Context) error
	Disconnect()
	AddEventHandlerWithSuccessStatus(handler whatsmeow.EventHandlerWithSuccessStatus) uint32
	RemoveEventHandler(id uint32) bool

	// Sending, presence and receipts, as in whatsmeow. GetUserInfo also
	// stores the LID of each number it finds.
	GenerateMessageID() types.MessageID
	SendMessage(ctx context.Context, to types.JID, message *waE2E.Message, extra ...whatsmeow.SendRequestExtra) (whatsmeow.SendResponse, error)
	SendPresence(ctx context.Context, state types.Presence) error
	SendChatPresence(ctx context.Context, jid types.JID, state types.ChatPresence, media types.ChatPresenceMedia) error
	MarkRead(ctx context.Context, ids []types.MessageID, timestamp time.Time, chat, sender types.JID, receiptTypeExtra ...types.ReceiptType) error
	GetUserInfo(ctx context.Context, jids []types.JID) (map[types.JID]types.UserInfo, error)
	// RejectCall declines an incoming call; callFrom is the caller, who
	// is also named as the call's creator.
	RejectCall(ctx context.Context, callFrom types.JID, callID string) error

	// Media, as in whatsmeow: Download fetches a message's file (trying
	// each media host, checking its hashes); SendMediaRetryReceipt asks
	// the phone to upload an expired one again, and the phone answers
	// with an *events.MediaRetry.
	Download(ctx context.Context, msg whatsmeow.DownloadableMessage) ([]byte, error)
	SendMediaRetryReceipt(ctx context.Context, message *types.MessageInfo, mediaKey []byte) error

	// Pairing, as in whatsmeow: GetQRChannel before Connect, PairPhone
	// after the first QR code.
	GetQRChannel(ctx context.Context) (<-chan whatsmeow.QRChannelItem, error)
	PairPhone(ctx context.Context, phone string, showPushNotification bool, clientType whatsmeow.PairClientType, clientDisplayName string) (string, error)

	// Identity returns the linked account's phone-number JID and LID
	// (empty before pairing) and its push name ("" until WhatsApp sent it).
	Identity() (pn, lid types.JID, pushName string)
	// LIDs resolves LIDs to phone numbers.
	LIDs() LIDResolver
}

// LIDResolver finds the phone-number JID behind a LID. whatsmeow's device
// store (client.Store.LIDs) is one; it returns an empty JID when the
// mapping is unknown.
type LIDResolver interface {
	GetPNForLID(ctx context.Context, lid types.JID) (types.JID, error)
}

// Live adapts *whatsmeow.Client to Client.
type Live struct {
	*whatsmeow.Client
}

var _ Client = Live{}

// Identity reads the linked account from the device store.
func (l Live) Identity() (pn, lid types.JID, pushName string) {
	if l.Client == nil || l.Store == nil {
		return types.EmptyJID, types.EmptyJID, ""
	}
	return l.Store.GetJID(), l.Store.GetLID(), l.Store.PushName
}

// LIDs returns the device store's LID map.
func (l Live) LIDs() LIDResolver {
	if l.Client == nil || l.Store == nil || l.Store.LIDs == nil {
		return noLIDs{}
	}
	return l.Store.LIDs
}

type noLIDs struct{}

func (noLIDs) GetPNForLID(context.Context, types.JID) (types.JID, error) {
	return types.EmptyJID, nil
}
