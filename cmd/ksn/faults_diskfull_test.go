//go:build linux

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory, for a disk
// that fills up for real; unmounted at the end of the test. Where mounting
// is not permitted (not root, no CAP_SYS_ADMIN) the test is skipped, or
// fails under CI=1.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		if os.Getenv("CI") == "1" {
			t.Fatalf("mount tmpfs: %v: %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs for a full disk (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

// leaveFree fills the file system of dir with a file until only free
// bytes are left (to its page).
func leaveFree(t *testing.T, dir string, free int64) {
	t.Helper()
	filler := filepath.Join(dir, "filler")
	os.Remove(filler)
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	n := int64(st.Bavail)*st.Bsize - free
	if n <= 0 {
		return
	}
	if err := os.WriteFile(filler, make([]byte, n), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDiskFullImport imports a feed into a new database on a disk with
// 0, 32, 64, ... KiB free (every 4 KiB page with KSN_FAULT_FULL=1) until
// it fits: until then each run exits 2
// saying the disk is full and leaves no database; then the database holds
// the whole feed.
func TestDiskFullImport(t *testing.T) {
	t.Parallel() // mostly waiting on processes: two at once halve the wall time
	plan := newFaultPlan(t)
	disk := mountTmpfs(t, 4<<20)
	h := newKsnHome(t, filepath.Join(t.TempDir(), "home"))
	feed := filepath.Join(t.TempDir(), "feed.csv")
	writeBazaarFeed(t, plan, feed, 2000)
	db := filepath.Join(disk, "new.db")
	runs := 0
	step := int64(plan.size(32, 4) << 10)
	for free := int64(0); ; free += step {
		if free > 3<<20 {
			t.Fatal("the import did not fit in 3 MiB")
		}
		leaveFree(t, disk, free)
		out, errOut, code := h.run("feed", "import", "--db", db, feed)
		if code == 0 {
			if n := queryInt(t, db, countImported); n != 2000 {
				t.Fatalf("with %d KiB free: the import succeeded with %d rows, want 2000\n%s", free>>10, n, out)
			}
			assertIntact(t, db)
			t.Logf("ksn feed import into a new database: %d runs on a full disk (0 to %d KiB free) failed cleanly", runs, free>>10)
			return
		}
		runs++
		if code != 2 || !ioWords(errOut) {
			t.Fatalf("with %d KiB free: exit %d, want 2 with the disk full in words:\n%s", free>>10, code, errOut)
		}
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if _, err := os.Stat(db + suffix); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("with %d KiB free: the failed import left %s (%v)", free>>10, db+suffix, err)
			}
		}
	}
}

// TestDiskFullOutputs runs the commands that write a file the user named
// on a full disk: each exits 2 saying so, and none leaves a file that
// looks whole. (A shell's `> file` is created by the shell; ksn cannot
// remove it, but a failing exit status tells the user not to trust it.)
func TestDiskFullOutputs(t *testing.T) {
	t.Parallel() // mostly waiting on processes: two at once halve the wall time
	disk := mountTmpfs(t, 1<<20)
	h := newKsnHome(t, filepath.Join(t.TempDir(), "home"))
	files := filepath.Join(t.TempDir(), "files")
	writeFiles(t, files, "out", 200)
	leaveFree(t, disk, 0)

	kek := filepath.Join(disk, "server.kek")
	_, errOut, code := h.run("admin", "keygen", "--out", kek)
	if code != 2 || !ioWords(errOut) {
		t.Fatalf("keygen on a full disk: exit %d, want 2 with the disk full in words:\n%s", code, errOut)
	}
	if entries, _ := os.ReadDir(disk); len(entries) != 1 {
		t.Fatalf("keygen on a full disk left files: %v", entries)
	}

	sums, err := os.Create(filepath.Join(disk, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer sums.Close()
	cmd := h.command("check", "-r", "--format", "sha256sum", files)
	cmd.Stdout = sums
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if code := exitCode(cmd.Run()); code != 2 || !ioWords(stderr.String()) {
		t.Fatalf("check --format sha256sum > file on a full disk: exit %d, want 2 with the disk full in words:\n%s", code, stderr.String())
	}
}
