package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
)

// BenchmarkRecentMessages reads a 40-message context window from sessions
// with short and long histories; the cost should be the same.
func BenchmarkRecentMessages(b *testing.B) {
	for _, history := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("history=%d", history), func(b *testing.B) {
			ctx := context.Background()
			s, _ := openTest(b)
			ss, err := s.ActiveSession(ctx, "chat")
			if err != nil {
				b.Fatal(err)
			}
			err = s.inTx(ctx, func(tx *sql.Tx) error {
				for i := range history {
					role := RoleUser
					if i%2 == 1 {
						role = RoleAssistant
					}
					m := Message{SessionID: ss.ID, Role: role, Text: fmt.Sprintf("message %d with some ordinary chat text in it", i), Tokens: 12}
					if _, err := s.insertMessage(ctx, tx, m); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				msgs, err := s.RecentMessages(ctx, ss.ID, 40)
				if err != nil || len(msgs) != 40 {
					b.Fatalf("RecentMessages = %d messages, %v", len(msgs), err)
				}
			}
		})
	}
}
