package whatsapp

import (
	"slices"
	"testing"
)

// The owner hears of pairing requests in their self-chat on a personal
// number, and in the admins' chats on a bot number.
func TestOwnerChats(t *testing.T) {
	for _, tt := range []struct {
		name     string
		linked   string
		admins   []string
		personal bool
		want     []string
	}{
		{"personal number", "+15550001111", []string{"+15550002222"}, true, []string{"15550001111@s.whatsapp.net"}},
		{"bot number with admins", "+15550001111", []string{"+15550002222", "+15550003333"}, false,
			[]string{"15550002222@s.whatsapp.net", "15550003333@s.whatsapp.net"}},
		{"bot number without admins", "+15550001111", nil, false, []string{"15550001111@s.whatsapp.net"}},
		{"not linked yet", "", nil, true, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := OwnerChats(tt.linked, tt.admins, tt.personal); !slices.Equal(got, tt.want) {
				t.Errorf("OwnerChats = %v; want %v", got, tt.want)
			}
		})
	}
}
