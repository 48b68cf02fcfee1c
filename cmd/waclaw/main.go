// Command waclaw is a WhatsApp assistant that answers with a model on your
// own hardware and falls back to hosted models. See the README.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "waclaw:", err)
		var ue usageError
		var no needsOperator
		switch {
		case errors.As(err, &ue):
			os.Exit(2)
		case errors.As(err, &no):
			os.Exit(exitNeedsOperator)
		}
		os.Exit(1)
	}
}

// exitNeedsOperator is the exit code when waclaw cannot go on until
// someone acts (link the device again, pair in a terminal): EX_CONFIG from
// sysexits.h. The systemd unit lists it in RestartPreventExitStatus, so
// the service stops instead of restarting into the same wall.
const exitNeedsOperator = 78

// needsOperator marks an error that restarting cannot fix.
type needsOperator struct{ error }

func (e needsOperator) Unwrap() error { return e.error }
