package whatsapp

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"waclaw/bridge"
)

func callOffer(creator, alt types.JID, edit ...func(*events.CallOffer)) *events.CallOffer {
	evt := &events.CallOffer{BasicCallMeta: types.BasicCallMeta{
		From: device(creator, 7), Timestamp: t0, CallCreator: device(creator, 7), CallCreatorAlt: alt, CallID: "C1",
	}}
	for _, e := range edit {
		e(evt)
	}
	return evt
}

// A call is keyed like a message: by the caller's number when it is
// known, so the text the bridge sends lands in the conversation the
// person has with the bot.
func TestCalls(t *testing.T) {
	callIn := func(chat types.JID) bridge.Inbound {
		return bridge.Inbound{ChatID: chat.String(), SenderID: chat.String(), SenderPhone: "+15552223333",
			Media: "call", MessageID: "C1", Time: t0}
	}
	tests := []struct {
		name       string
		reject     bool
		evt        any
		lids       map[types.JID]types.JID
		wantReject []rejectCall
		want       []bridge.Inbound
	}{
		{
			name: "a bot number rejects a call and tells the bridge", reject: true,
			evt:        callOffer(alicePN, aliceLI),
			wantReject: []rejectCall{{from: alicePN, id: "C1"}},
			want:       []bridge.Inbound{callIn(alicePN)},
		},
		{
			name: "a caller known by LID, with the number alongside", reject: true,
			evt:        callOffer(aliceLI, alicePN),
			wantReject: []rejectCall{{from: aliceLI, id: "C1"}},
			want:       []bridge.Inbound{callIn(alicePN)},
		},
		{
			name: "a caller known by LID, the number from the LID store", reject: true,
			evt:        callOffer(aliceLI, types.EmptyJID),
			lids:       map[types.JID]types.JID{aliceLI: alicePN},
			wantReject: []rejectCall{{from: aliceLI, id: "C1"}},
			want:       []bridge.Inbound{callIn(alicePN)},
		},
		{
			name: "a caller known by LID only", reject: true,
			evt:        callOffer(aliceLI, types.EmptyJID),
			wantReject: []rejectCall{{from: aliceLI, id: "C1"}},
			want: []bridge.Inbound{{ChatID: aliceLI.String(), SenderID: aliceLI.String(),
				Media: "call", MessageID: "C1", Time: t0}},
		},
		{
			name: "no creator named: the sender of the offer", reject: true,
			evt:        callOffer(alicePN, types.EmptyJID, func(c *events.CallOffer) { c.CallCreator = types.EmptyJID }),
			wantReject: []rejectCall{{from: alicePN, id: "C1"}},
			want:       []bridge.Inbound{callIn(alicePN)},
		},
		{name: "a personal number leaves calls to the owner", evt: callOffer(alicePN, aliceLI)},
		{name: "a group call", reject: true, evt: callOffer(alicePN, aliceLI, func(c *events.CallOffer) { c.GroupJID = group })},
		{name: "the owner's own call", reject: true, evt: callOffer(botLID, botPN)},
		{name: "a group call notice", reject: true, evt: &events.CallOfferNotice{BasicCallMeta: types.BasicCallMeta{
			From: alicePN, CallCreator: alicePN, CallID: "C2", GroupJID: group}, Type: "group"}},
		{name: "the caller hangs up", reject: true, evt: &events.CallTerminate{BasicCallMeta: types.BasicCallMeta{
			From: alicePN, CallCreator: alicePN, CallID: "C1"}, Reason: "timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			if tt.lids != nil {
				f.lids = tt.lids
			}
			a, _, _ := testAdapter(t, f, Options{RejectCalls: tt.reject})
			h := &fakeHandler{}
			a.SetHandler(h)
			if !f.deliver(tt.evt) {
				t.Error("call event not acknowledged")
			}
			if diff := cmp.Diff(tt.wantReject, f.rejected, cmp.AllowUnexported(rejectCall{})); diff != "" {
				t.Errorf("rejected calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, h.ins); diff != "" {
				t.Errorf("the bridge got (-want +got):\n%s", diff)
			}
			if len(f.sent)+len(f.seen) != 0 {
				t.Errorf("the adapter sent %d messages and %v itself; the bridge decides what the caller hears", len(f.sent), f.seen)
			}
		})
	}
}
