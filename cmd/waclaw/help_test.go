package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every command answers --help, "config" included, and the command list
// is one aligned column.
func TestHelpForEveryCommand(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := waclaw(t, append(strings.Fields(c.name), "--help")...)
			if err != nil || !strings.HasPrefix(out, "Usage: waclaw "+c.name) {
				t.Errorf("waclaw %s --help = %q, %v; want its usage", c.name, out, err)
			}
		})
	}
	out, _, err := waclaw(t, "config", "--help")
	if err != nil || !strings.Contains(out, "config check [FILE]  check a config file") {
		t.Errorf("waclaw config --help = %q, %v; want the config commands", out, err)
	}
	out, _, _ = waclaw(t, "--help")
	_, list, _ := strings.Cut(out, "Commands:\n")
	list, _, _ = strings.Cut(list, "\n\n")
	col := -1
	for _, line := range strings.Split(list, "\n") {
		i := regexp.MustCompile(`\S  +\S`).FindStringIndex(line)
		if i == nil || (col >= 0 && i[1] != col) {
			t.Errorf("help's command list is not aligned at %q:\n%s", line, list)
			break
		}
		col = i[1]
	}
}

// access list shows a code's expiry in local time, saying which zone.
func TestAccessListLocalTime(t *testing.T) {
	data := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "config.json5")
	if err := os.WriteFile(cfg, []byte(`{ channels: { whatsapp: { selfChatMode: false } } }`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	if err := runWithInput(t, "hello\n", &out, &errOut, "--config", cfg, "--data-dir", data, "chat", "--as", "+15550000009"); err != nil {
		t.Fatalf("chat: %v\n%s", err, errOut.String())
	}
	cmd, list := child(t, nil, "--config", cfg, "--data-dir", data, "access", "list")
	cmd.Env = append(cmd.Env, "TZ=Europe/Paris")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`\+15550000009\s+pending.*\d\d:\d\d (CET|CEST)\n`).MatchString(list.String()) {
		t.Errorf("access list in Paris = %q; want the expiry in CET or CEST", list.String())
	}
}
