package cli

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/seal"
	"github.com/ksnproject/ksn/pkg/server"
	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/term"
)

// TestServeKEK: the first start makes <db>.kek and binds the database to
// it; a restart reuses it; another key is refused before listening.
func TestServeKEK(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "server.db")
	startServe(t, &ServeOptions{RunOptions: server.RunOptions{Listen: "127.0.0.1:0", DB: dbPath}})
	k, insecure, err := seal.ReadKEKFile(dbPath + ".kek")
	if err != nil || insecure {
		t.Fatalf("default key file: %v (insecure %v)", err, insecure)
	}
	other := filepath.Join(dir, "other.kek")
	if _, err := seal.WriteKEKFile(other); err != nil {
		t.Fatal(err)
	}
	ios, _, _, _ := term.Test()
	err = runServe(context.Background(), &ServeOptions{IO: ios, RunOptions: server.RunOptions{Listen: "127.0.0.1:0", DB: dbPath, Keys: kekAt(other)}})
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "not the one the submissions of "+dbPath+" are sealed with") {
		t.Errorf("another key: %v", err)
	}
	if k2, _, _ := seal.ReadKEKFile(dbPath + ".kek"); k2 != k {
		t.Error("the default key file changed")
	}
}

// TestServePurgesAtStart: a server whose clock is past a half-year's end
// and grace purges it as soon as it starts.
func TestServePurgesAtStart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "server.db")
	kekPath := filepath.Join(dir, "k.kek")
	kek, err := seal.WriteKEKFile(kekPath)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenServer(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.UnlockSubmissions(ctx, kek); err != nil {
		t.Fatal(err)
	}
	storeFiles(t, db, cliPartA, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), 1, 1, 2)
	now := func() time.Time { return time.Date(2026, 7, 2, 0, 0, 0, 0, time.UTC) }
	startServe(t, &ServeOptions{RunOptions: server.RunOptions{Listen: "127.0.0.1:0", DB: dbPath, PurgeGrace: 24 * time.Hour, Now: now, Keys: kekAt(kekPath)}})
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, err := db.PurgedHalfYears(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) == 1 && p[0].HalfYear == "2026H1" && p[0].Records == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not purged at start: %+v", p)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServeRetentionFlags(t *testing.T) {
	home := t.TempDir()
	env := map[string]string{"KSN_HOME": home}
	ios, _, _, _ := term.Test()
	f := &Factory{IO: ios, Env: func(k string) string { return env[k] }}
	var got *ServeOptions
	run := func(args ...string) error {
		got = nil
		cmd := NewCmdServe(f, func(o *ServeOptions) error { got = o; return nil })
		cmd.SetArgs(args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		return cmd.Execute()
	}
	if err := run(); err != nil {
		t.Fatal(err)
	}
	if got.PurgeGrace != 7*24*time.Hour || got.Keys.KEK.Path != "" {
		t.Errorf("defaults: grace %v, kek %q", got.PurgeGrace, got.Keys.KEK.Path)
	}
	env[server.KEKEnv] = "/etc/ksn/env.kek"
	if err := run("--purge-grace", "36h"); err != nil {
		t.Fatal(err)
	}
	if got.PurgeGrace != 36*time.Hour || got.Keys.KEK != (server.KEKSource{Path: "/etc/ksn/env.kek", From: server.KEKEnv}) {
		t.Errorf("env: grace %v, kek %q from %q", got.PurgeGrace, got.Keys.KEK.Path, got.Keys.KEK.From)
	}
	if err := run("--kek-file", "flag.kek"); err != nil {
		t.Fatal(err)
	}
	if got.Keys.KEK != (server.KEKSource{Path: "flag.kek", From: "--kek-file"}) {
		t.Errorf("the flag does not win: %+v", got.Keys.KEK)
	}
	for _, bad := range []string{"-1h", "soon"} {
		if err := run("--purge-grace", bad); exitcode.Of(err) != exitcode.Usage {
			t.Errorf("--purge-grace %s: %v", bad, err)
		}
	}
}

// kekAt places a server's keys with the key-encryption key in file.
func kekAt(file string) server.KeyPlaces {
	return server.KeyPlaces{KEK: server.KEKSource{Path: file, From: "--kek-file"}}
}
