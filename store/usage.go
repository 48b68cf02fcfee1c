package store

import (
	"context"
	"fmt"
	"time"
)

// Usage is one model request: who asked, which model answered, what it cost.
type Usage struct {
	ID             int64
	ChatID         string
	Provider       string
	Model          string
	TokensIn       int
	TokensOut      int
	TokensCached   int
	Cost           float64 // USD
	Latency        time.Duration
	OK             bool
	FallbackReason string // why an earlier model in the chain was passed over
	Error          string
	CreatedAt      time.Time
}

const recordUsageQuery = `
INSERT INTO usage (chat_id, provider, model, tokens_in, tokens_out, tokens_cached, cost,
                   latency_ms, ok, fallback_reason, error, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// RecordUsage stores u, stamped now; u.ID and u.CreatedAt are ignored.
func (s *Store) RecordUsage(ctx context.Context, u Usage) error {
	_, err := s.db.ExecContext(ctx, recordUsageQuery, u.ChatID, u.Provider, u.Model,
		u.TokensIn, u.TokensOut, u.TokensCached, u.Cost, u.Latency.Milliseconds(),
		boolInt(u.OK), u.FallbackReason, u.Error, millis(s.now()))
	if err != nil {
		return fmt.Errorf("record usage: %w", err)
	}
	return nil
}

// UsageTotals sums usage rows.
type UsageTotals struct {
	Turns        int // usage rows, one per model request
	Failed       int // rows that were not OK
	TokensIn     int64
	TokensOut    int64
	TokensCached int64
	Cost         float64 // USD
}

const (
	usageTotalsColumns = `
SELECT count(*), coalesce(sum(1 - ok), 0), coalesce(sum(tokens_in), 0), coalesce(sum(tokens_out), 0),
       coalesce(sum(tokens_cached), 0), coalesce(sum(cost), 0)
FROM usage`
	usageSinceQuery     = usageTotalsColumns + ` WHERE created_at >= ?`
	usageSinceChatQuery = usageTotalsColumns + ` WHERE chat_id = ? AND created_at >= ?`
)

// UsageSince sums the usage recorded at or after since, for one chat or,
// with chatID "", for all chats.
func (s *Store) UsageSince(ctx context.Context, chatID string, since time.Time) (UsageTotals, error) {
	query, args := usageSinceQuery, []any{since.UnixMilli()}
	if chatID != "" {
		query, args = usageSinceChatQuery, []any{chatID, since.UnixMilli()}
	}
	var t UsageTotals
	err := s.db.QueryRowContext(ctx, query, args...).
		Scan(&t.Turns, &t.Failed, &t.TokensIn, &t.TokensOut, &t.TokensCached, &t.Cost)
	if err != nil {
		return UsageTotals{}, fmt.Errorf("sum usage: %w", err)
	}
	return t, nil
}
