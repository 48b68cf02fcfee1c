package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"waclaw/agent/agenttest"
	"waclaw/bridge"
	"waclaw/store"
)

// TestDiskFullOnTheDataDir runs waclaw with its data dir on a real 4 MB
// filesystem (a tmpfs in a private mount namespace) and fills it: a turn
// cut off by the full disk tells the user once and is answered when there
// is room, a message arriving meanwhile is refused with an error that says
// what to do, and afterwards the database passes its integrity check with
// everything stored before still there.
func TestDiskFullOnTheDataDir(t *testing.T) {
	if dir := os.Getenv("WACLAW_TEST_TMPFS"); dir != "" {
		diskFullScenario(t, dir)
		return
	}
	// The scenario runs in a child with its own user and mount namespaces,
	// where it may mount a small tmpfs without privileges.
	cmd := exec.Command(os.Args[0], "-test.run=^TestDiskFullOnTheDataDir$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "WACLAW_TEST_TMPFS="+t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		// The kernel refuses unprivileged namespaces here. bridge's
		// TestDiskFull still covers the behaviour through SQLite's page
		// limit; only the real filesystem is missing.
		t.Skipf("cannot create a user and mount namespace for a private tmpfs: %v", err)
	}
	t.Logf("scenario output:\n%s", out)
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDiskFullOnTheDataDir") {
		t.Fatalf("the disk-full scenario failed: %v", err)
	}
}

func diskFullScenario(t *testing.T, dir string) {
	if err := syscall.Mount("none", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		t.Fatalf("make mounts private: %v", err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=4m,mode=0700"); err != nil {
		t.Fatalf("mount a 4 MB tmpfs on %s: %v", dir, err)
	}
	defer syscall.Unmount(dir, 0)

	thinking := make(chan struct{}, 8)
	lm := agenttest.New(t, agenttest.LMStudio, "m")
	lm.SetResponder(func(r agenttest.Request) agenttest.Reply {
		in := r.LastInput()
		if strings.HasPrefix(in, "slow") {
			thinking <- struct{}{}
			return agenttest.Reply{Text: "answer to " + in[:10], Delay: 500 * time.Millisecond}
		}
		return agenttest.Reply{Text: "answer to " + in[:10]}
	})
	const chat = "+15550100001"
	msg := func(id, text string) bridge.Inbound {
		return bridge.Inbound{ChatID: chat, SenderID: chat, SenderPhone: chat, MessageID: id, Text: text, Time: time.Now()}
	}
	p := newPhone()
	cmd, stdin, done := p.run(t, "--config", loadConfig(t, lm.URL), "--data-dir", dir, "--log-level", "error")
	write := func(in bridge.Inbound) {
		line, _ := json.Marshal(in)
		if _, err := stdin.Write(append(line, '\n')); err != nil {
			t.Fatal(err)
		}
	}
	replies := func() []string {
		p.mu.Lock()
		defer p.mu.Unlock()
		return slices.Clone(p.replies[chat])
	}

	write(msg("A", "before the disk fills"))
	p.waitFor(t, "the first answer", func(r, _ int) bool { return r == 1 })

	// A long message, so storing its turn needs new pages; the disk fills
	// while the model thinks.
	long := "slow and long " + strings.Repeat("x", 15000)
	write(msg("B", long))
	<-thinking
	filler := fill(t, dir)
	p.waitFor(t, "the disk-full notice", func(r, _ int) bool { return r == 2 })
	if got := replies()[1]; !strings.Contains(got, "the disk of the computer I run on is full") {
		t.Errorf("second reply %q; want the disk-full notice", got)
	}
	write(msg("C", "slow, sent while the disk is full "+strings.Repeat("y", 15000)))
	for {
		p.mu.Lock()
		why, refused := p.refused["C"]
		p.mu.Unlock()
		if refused {
			if !strings.Contains(why, "is full: free some space") {
				t.Errorf("refused with %q; want it to say the disk is full and what to do", why)
			}
			break
		}
		select {
		case <-p.got:
		case <-time.After(time.Minute):
			t.Fatal("the message sent while the disk was full was neither refused nor taken")
		}
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	write(msg("C", "slow, sent while the disk is full "+strings.Repeat("y", 15000))) // delivered again
	p.waitFor(t, "the answers once there is room", func(r, _ int) bool { return r == 4 })
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("waclaw: %v", err)
	}
	<-done

	want := []string{"answer to before the", diskFullNoticeText, "answer to slow and l", "answer to slow, sent"}
	got := replies()
	got[1] = diskFullNoticeText
	if !slices.Equal(got, want) {
		t.Errorf("replies %q; want %q", got, want)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "waclaw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var check string
	var notDone, turns int
	st.DB().QueryRow(`PRAGMA integrity_check`).Scan(&check)
	st.DB().QueryRow(`SELECT count(*) FROM inbox WHERE state != 'done'`).Scan(&notDone)
	st.DB().QueryRow(`SELECT count(*) FROM messages WHERE role = 'user'`).Scan(&turns)
	if check != "ok" || notDone != 0 || turns != 3 {
		t.Errorf("after the disk filled: integrity_check %q, %d inbox rows not done, %d turns stored (want ok, 0, 3)", check, notDone, turns)
	}
}

const diskFullNoticeText = "(the disk-full notice)"

// fill writes a file in dir until the filesystem is full and returns its
// path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, size := range []int{64 << 10, 4 << 10, 512} {
		chunk := make([]byte, size)
		for {
			if _, err := f.Write(chunk); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("fill the disk: %v", err)
				}
				break
			}
		}
	}
	return path
}
