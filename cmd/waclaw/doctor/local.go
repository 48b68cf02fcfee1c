package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.mau.fi/whatsmeow/types"

	"waclaw/store"
)

// checkDataDir checks that waclaw can write where its database lives,
// without leaving anything behind.
func (d *doctor) checkDataDir() {
	c := Check{Name: "data dir", Required: true}
	defer func() { d.add(c) }()
	dir := d.DataDir
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		// Created on first run: can it be?
		parent := filepath.Dir(dir)
		for parent != filepath.Dir(parent) {
			if _, err := os.Stat(parent); err == nil {
				break
			}
			parent = filepath.Dir(parent)
		}
		if err := probeWrite(parent); err != nil {
			c.Status, c.Detail = Fail, fmt.Sprintf("%s does not exist and cannot be created: %v", dir, err)
			c.Advice = "create it for the user waclaw runs as: mkdir -p -m 700 " + dir
			return
		}
		c.Status, c.Detail = OK, dir+": not created yet, it is created on first run"
		return
	}
	switch {
	case err != nil:
		c.Status, c.Detail = Fail, err.Error()
		c.Advice = "make " + dir + " readable by the user waclaw runs as, or choose another --data-dir"
		return
	case !fi.IsDir():
		c.Status, c.Detail = Fail, dir+" is not a directory"
		c.Advice = "move it away, or choose another --data-dir"
		return
	}
	if err := probeWrite(dir); errors.Is(err, syscall.ENOSPC) {
		c.Status, c.Detail = Fail, fmt.Sprintf("cannot write in %s: the disk is full", dir)
		c.Advice = diskFullAdvice
		return
	} else if err != nil {
		c.Status, c.Detail = Fail, fmt.Sprintf("cannot write in %s: %v", dir, err)
		c.Advice = "make it writable by the user waclaw runs as (chown -R USER " + dir + "); under systemd, list it in ReadWritePaths="
		return
	}
	if free, err := freeBytes(dir); err == nil && free < lowSpace {
		c.Status, c.Detail = Warn, fmt.Sprintf("%s is writable, but only %d MB are free on its disk", dir, free>>20)
		c.Advice = diskFullAdvice
		return
	}
	c.Status, c.Detail = OK, dir+" (writable)"
}

// lowSpace is the free space below which the data dir gets a warning.
const lowSpace = 200 << 20

const diskFullAdvice = "free some space there: on a full disk waclaw takes no new messages (WhatsApp delivers them again later) and waits to answer the ones it has; nothing stored is lost"

// freeBytes is the space left to an unprivileged user on dir's
// filesystem; a variable so tests can pretend the disk is nearly full.
var freeBytes = func(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// probeWrite creates and removes a directory in dir: the same test a
// file would be, and it also catches read-only mounts (systemd's
// ProtectSystem, ProtectHome).
func probeWrite(dir string) error {
	tmp, err := os.MkdirTemp(dir, ".waclaw-doctor-")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	return os.Remove(tmp)
}

// checkDatabase opens the database read-only (a missing one is not
// created), checks its mode, owner and integrity, and returns it open for
// the WhatsApp check, or nil.
func (d *doctor) checkDatabase(ctx context.Context) *store.ReadOnly {
	c := Check{Name: "database", Required: true}
	defer func() { d.add(c) }()
	path := d.Database
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		notCreatedYet(&c, path)
		return nil
	case err != nil:
		c.Status, c.Detail = Fail, err.Error()
		c.Advice = "make " + filepath.Dir(path) + " readable by the user waclaw runs as"
		return nil
	case fi.IsDir():
		c.Status, c.Detail = Fail, path+" is a directory, not a database"
		c.Advice = "move it away, or choose another --data-dir"
		return nil
	}

	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	db, err := store.OpenReadOnly(ctx, path)
	var results []string
	if err == nil {
		results, err = db.IntegrityCheck(ctx)
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		c.Status = Fail
		switch {
		case errors.Is(err, fs.ErrNotExist): // removed since the stat above
			notCreatedYet(&c, path)
		case store.IsNotADatabase(err):
			c.Detail = path + " is not a SQLite database (" + cause(err).Error() + ")"
			c.Advice = "move it away and run `waclaw pair` to start a new one (or point --data-dir at the right directory)"
		case store.IsCorrupt(err):
			c.Detail = path + " is damaged (" + cause(err).Error() + ")"
			c.Advice = "stop waclaw, restore the file from a backup or move it away, then run `waclaw pair` to start a new one"
		default:
			c.Detail = path + " cannot be read: " + cause(err).Error()
			c.Advice = "make it readable and writable by the user waclaw runs as (chown USER " + path + ")"
		}
		return nil
	}
	if len(results) != 1 || results[0] != "ok" {
		db.Close()
		c.Status, c.Detail = Fail, fmt.Sprintf("%s fails PRAGMA integrity_check: %s", path, strings.Join(results, "; "))
		c.Advice = "stop waclaw, restore the file from a backup or move it away, then run `waclaw pair` to start a new one"
		return nil
	}

	c.Status, c.Detail = OK, fmt.Sprintf("%s: integrity ok, mode %04o", path, fi.Mode().Perm())
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		c.Status = Warn
		c.Detail += fmt.Sprintf(", but owned by uid %d, not by this user (uid %d)", st.Uid, os.Getuid())
		c.Advice = "run waclaw (and waclaw doctor) as the user that owns the database, or chown it to that user"
	}
	if perm := fi.Mode().Perm(); perm&^0o600 != 0 {
		c.Status = Warn
		c.Detail += ": other users can read your chats"
		c.Advice = "chmod 600 " + path + " (waclaw also tightens it on its next start)"
	}
	return db
}

func notCreatedYet(c *Check, path string) {
	c.Status, c.Detail = Warn, path+": not created yet, it is created on first run"
	c.Advice = "run `waclaw pair` once (it creates the database and links WhatsApp)"
}

// cause is the innermost error, SQLite's own words: the report's line
// already names the file and what was being done, which the store's
// wrapping would only repeat.
func cause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// checkWhatsApp reads the linked account from whatsmeow's session tables,
// when `waclaw run` last connected, and when a message last arrived.
func (d *doctor) checkWhatsApp(ctx context.Context, db *store.ReadOnly) {
	c := Check{Name: "whatsapp"}
	defer func() { d.add(c) }()
	const pair = "run `waclaw pair` once in a terminal, as the user waclaw runs as; then start waclaw (or its service)"
	if db == nil {
		if _, err := os.Stat(d.Database); errors.Is(err, fs.ErrNotExist) {
			c.Status, c.Detail, c.Advice = Warn, "not linked (no database yet)", pair
			return
		}
		c.Status, c.Detail, c.Advice = Warn, "not checked: the database cannot be read", "fix the database first (see its line above)"
		return
	}
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	jid, linked, err := db.LinkedAccount(ctx)
	if err != nil {
		c.Status, c.Detail = Warn, "cannot read the WhatsApp session: "+cause(err).Error()
		c.Advice = "stop other programs that hold the database, then run waclaw doctor again"
		return
	}
	if !linked {
		c.Status, c.Detail, c.Advice = Warn, "not linked", pair
		return
	}
	number := jid
	if j, err := types.ParseJID(jid); err == nil {
		number = "+" + j.User
	}
	c.Status, c.Detail = OK, "linked as "+number
	if at, ok, err := db.LastConnected(ctx); err == nil && ok {
		c.Detail += fmt.Sprintf(", last connected %s (%s ago)", at.Local().Format("2006-01-02 15:04"), d.Now().Sub(at).Round(time.Second))
	}
	if at, ok, err := db.LastReceived(ctx); err == nil && ok {
		c.Detail += fmt.Sprintf(", last message received %s (%s ago)", at.Format("2006-01-02 15:04"), d.Now().Sub(at).Round(time.Second))
	} else {
		c.Detail += ", no message received yet"
	}
}
