package config

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

// The README's annotated example documents every key; it must stay valid.
func TestReadmeExampleLoads(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```json5\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("README has no ```json5 block")
	}
	cfg, err := Parse("README.md", []byte(block), noEnv)
	if err != nil {
		t.Fatalf("README example: %v", err)
	}
	if cfg.Primary.Label() != "MiniMax Local" || len(cfg.Fallbacks) != 1 || cfg.Fallbacks[0].Label() != "Sonnet" {
		t.Errorf("README example resolves to primary %s, fallbacks %v", cfg.Primary.Label(), refs(cfg.Fallbacks))
	}
	// Every key the loader knows appears in the example.
	for _, key := range fileKeys(reflect.TypeFor[fileConfig](), nil) {
		if !strings.Contains(block, key+":") {
			t.Errorf("README example does not show the key %q", key)
		}
	}
}

// fileKeys lists the json names of every field reachable from t.
func fileKeys(t reflect.Type, seen map[reflect.Type]bool) []string {
	if seen == nil {
		seen = map[reflect.Type]bool{}
	}
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return nil
	}
	seen[t] = true
	var keys []string
	for name, i := range structFields(t) {
		keys = append(keys, name)
		keys = append(keys, fileKeys(t.Field(i).Type, seen)...)
	}
	return keys
}

// Every other config snippet in the README (a whisper.cpp server, a
// vision model in LM Studio) loads as written.
func TestReadmeSnippetsLoad(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(readme), "```json5\n")[1:]
	if len(blocks) < 3 {
		t.Fatalf("README has %d json5 blocks; want the example and the voice and picture snippets", len(blocks))
	}
	for i, b := range blocks[1:] {
		block, _, _ := strings.Cut(b, "```")
		cfg, err := Parse(fmt.Sprintf("README block %d", i+2), []byte(block), noEnv)
		if err != nil {
			t.Errorf("README json5 block %d: %v", i+2, err)
			continue
		}
		switch {
		case strings.Contains(block, "audio"):
			if !cfg.Media.Audio.Enabled || cfg.Media.Audio.Transcribers[0].Hosted() {
				t.Errorf("README block %d: voice notes are not transcribed locally first: %+v", i+2, cfg.Media.Audio)
			}
		case strings.Contains(block, "image"):
			if cfg.Primary.CanSee() || len(cfg.Fallbacks) != 1 || !cfg.Fallbacks[0].CanSee() {
				t.Errorf("README block %d: want a text primary and a fallback that can see", i+2)
			}
		}
	}
}
