package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
)

// runModels prints the model catalog as a table.
func runModels(ctx context.Context, e *env) error {
	if len(e.args) > 0 {
		return usageError{"models takes no arguments"}
	}
	cfg, _, err := e.global.loadConfig("")
	if err != nil {
		return err
	}
	role := map[string]string{cfg.Primary.Ref(): "primary"}
	for i, m := range cfg.Fallbacks {
		role[m.Ref()] = "fallback " + strconv.Itoa(i+1)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REF\tALIAS\tAPI\tCONTEXT\tMAX TOKENS\tROLE")
	for _, m := range cfg.Models() {
		alias, r := m.Alias, role[m.Ref()]
		if alias == "" {
			alias = "-"
		}
		if why := m.Provider.Unavailable(); why != "" {
			r = joinNonEmpty(r, "unavailable: "+why)
		}
		if r == "" {
			r = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", m.Ref(), alias, m.Provider.API, m.ContextWindow, m.MaxTokens, r)
	}
	return tw.Flush()
}

func joinNonEmpty(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}

// runVersion prints the version stamped at build time.
func runVersion(ctx context.Context, e *env) error {
	_, err := fmt.Fprintf(e.stdout, "waclaw %s\n", version)
	return err
}
