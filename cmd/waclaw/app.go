package main

import (
	"context"
	"fmt"
	"log/slog"

	"waclaw/agent"
	"waclaw/compaction"
	"waclaw/config"
	"waclaw/store"
)

// app is waclaw's parts, wired: config, store, agent and history.
type app struct {
	cfg     *config.Config
	store   *store.Store
	agent   *agent.Agent
	history *compaction.History
}

// openApp loads the config and opens the database in the data dir.
func openApp(ctx context.Context, g *globals) (*app, error) {
	cfg, _, err := g.loadConfig("")
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, g.databasePath())
	if err != nil {
		return nil, err
	}
	ag, err := agent.New(cfg, agent.Options{Usage: st, Logger: slog.Default()})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("start agent: %w", err)
	}
	slog.Info("configuration", "config", cfg) // secrets redacted by Config.LogValue
	return &app{cfg: cfg, store: st, agent: ag, history: compaction.New(cfg, st, ag, slog.Default())}, nil
}

func (a *app) Close() error {
	a.agent.Close() // no background read of a server outlives the command
	return a.store.Close()
}
