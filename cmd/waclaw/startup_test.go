package main

import (
	"bufio"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var startup = flag.Bool("startup", false, "TestStartup: build waclaw and measure start to ready and idle memory (BENCHMARKS.md)")

// TestStartup measures what BENCHMARKS.md compares with an idle OpenClaw
// gateway: the time from starting the real binary (`waclaw chat`, built
// here without the race detector) to its answer to /status, and its
// resident memory after 5 s idle. The first of six runs starts on an empty
// data dir. It asserts only that every run answers and stays up.
//
//	go test -run TestStartup -v ./cmd/waclaw/ -startup
func TestStartup(t *testing.T) {
	if !*startup {
		t.Skip("a measurement, not a check: run with -startup")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "waclaw")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	// One provider on a refused port: nothing can reach a model.
	cfg := filepath.Join(dir, "config.json5")
	os.WriteFile(cfg, []byte(`{
	  agents: { defaults: { model: { primary: "local/m" } } },
	  models: { mode: "replace", providers: {
	    local: { baseUrl: "http://127.0.0.1:9/v1", api: "openai-responses", models: [{ id: "m", contextWindow: 8192, maxTokens: 512 }] },
	  } },
	}`), 0o600)
	data := filepath.Join(dir, "data")
	for run := 1; run <= 6; run++ {
		cmd := exec.Command(bin, "--config", cfg, "--data-dir", data, "chat")
		stdin, _ := cmd.StdinPipe() // held open: it idles after answering
		stdout, _ := cmd.StdoutPipe()
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stdin.Write([]byte("/status\n"))
		first, err := bufio.NewReader(stdout).ReadString('\n')
		ready := time.Since(start)
		if err != nil || !strings.Contains(first, "*Model:*") {
			cmd.Process.Kill()
			t.Fatalf("run %d: no /status reply: %q, %v", run, first, err)
		}
		time.Sleep(5 * time.Second)
		status, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/status")
		if err != nil {
			t.Fatalf("run %d: the process is gone after 5 s idle: %v", run, err)
		}
		var mem []string
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmRSS") || strings.HasPrefix(line, "VmHWM") {
				mem = append(mem, strings.Join(strings.Fields(line), " "))
			}
		}
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("run %d: %v", run, err)
		}
		t.Logf("run %d (fresh data dir: %v): start to /status reply %s; after 5 s idle: %s", run, run == 1, ready.Round(100*time.Microsecond), strings.Join(mem, ", "))
	}
}
