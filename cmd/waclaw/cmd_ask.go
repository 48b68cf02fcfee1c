package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"waclaw/agent"
	"waclaw/config"
)

// askCommand asks one stateless question through the model chain: the
// answer on stdout, which model answered and why the others did not on
// stderr.
func askCommand(fs *flag.FlagSet) runFunc {
	modelName := fs.String("model", "", "alias or provider/model to ask first (default: the configured primary)")
	return func(ctx context.Context, e *env) error { return runAsk(ctx, e, *modelName) }
}

func runAsk(ctx context.Context, e *env, modelName string) error {
	question := strings.TrimSpace(strings.Join(e.args, " "))
	if question == "" {
		b, err := io.ReadAll(io.LimitReader(e.stdin, 1<<20))
		if err != nil {
			return fmt.Errorf("read question from stdin: %w", err)
		}
		question = strings.TrimSpace(string(b))
	}
	if question == "" {
		return usageError{"ask needs a question: waclaw ask \"what is the capital of France?\" (or the question on stdin)"}
	}
	cfg, _, err := e.global.loadConfig("")
	if err != nil {
		return err
	}
	var model *config.Model
	if modelName != "" {
		if model, err = cfg.Resolve(modelName); err != nil {
			return usageError{err.Error()}
		}
	}
	logger := slog.New(slog.DiscardHandler) // the summary below says what the log would
	if e.global.logLevel == "debug" {
		logger = slog.Default()
	}
	a, err := agent.New(cfg, agent.Options{Logger: logger})
	if err != nil {
		return err
	}
	text, out, err := a.Reply(ctx, agent.Conversation{
		Messages: []agent.Item{{Kind: agent.ItemMessage, Role: agent.RoleUser, Text: question}},
		Model:    model,
	})
	// One line per model that did not answer: called and failed, or not
	// tried (cooling down, not set up), as the reason says.
	for _, f := range out.Failures {
		fmt.Fprintf(e.stderr, "%s: %s (%s)\n", f.Model.Ref(), f.Reason(), strings.TrimPrefix(f.Error(), f.Model.Ref()+": "))
	}
	if err != nil {
		var ce *agent.ChainError
		if errors.As(err, &ce) {
			return errors.New("no model could answer: see the reasons above")
		}
		return err
	}
	fmt.Fprintf(e.stderr, "answered by %s in %s (%d tokens in, %d out)\n", describeAnswerer(out.Model), out.Latency.Round(1e6), out.Usage.InputTokens, out.Usage.OutputTokens)
	_, err = fmt.Fprintln(e.stdout, text)
	return err
}

func describeAnswerer(m *config.Model) string {
	if m.Alias != "" {
		return m.Alias + " (" + m.Ref() + ")"
	}
	return m.Ref()
}
