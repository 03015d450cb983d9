package participation

import (
	"bytes"
	"context"
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Helper processes: the test binary re-executed with helperEnv naming the
// helper to run (see helpers_test.go).
const (
	helperEnv      = "KSNP_TEST_HELPER"
	helperDirEnv   = "KSNP_TEST_DIR"
	helperAtEnv    = "KSNP_TEST_AT"    // Unix nanoseconds to start at
	helperIndexEnv = "KSNP_TEST_INDEX" // which helper of several this is
	helperNowEnv   = "KSNP_TEST_NOW"   // injected time, Unix seconds
)

func TestMain(m *testing.M) {
	if name := os.Getenv(helperEnv); name != "" {
		os.Exit(runHelper(name))
	}
	os.Exit(m.Run())
}

func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state")
	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

// appliedVersions returns the applied migration versions, as many times as
// goose recorded each.
func appliedVersions(t *testing.T, db *sql.DB) []int64 {
	t.Helper()
	rows, err := db.Query(`SELECT version_id FROM goose_db_version WHERE is_applied ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}

func migrationVersions(t *testing.T) []int64 {
	t.Helper()
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	vs := []int64{0}
	for _, n := range names {
		v, err := strconv.ParseInt(strings.SplitN(filepath.Base(n), "_", 2)[0], 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", n, err)
		}
		vs = append(vs, v)
	}
	return vs
}

func checkSchemaOnce(t *testing.T, s *Store) {
	t.Helper()
	if got, want := appliedVersions(t, s.db), migrationVersions(t); !reflect.DeepEqual(got, want) {
		t.Errorf("applied versions = %v, want each of %v once", got, want)
	}
}

func TestOpenFresh(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "a")
	dir := filepath.Join(parent, "state")
	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if want := filepath.Join(dir, "participation.db"); s.Path() != want {
		t.Errorf("Path() = %s, want %s", s.Path(), want)
	}
	checkSchemaOnce(t, s)
	if runtime.GOOS != "windows" {
		for p, want := range map[string]fs.FileMode{parent: 0o700, dir: 0o700, s.Path(): 0o600} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Mode().Perm(); got != want {
				t.Errorf("%s: mode %v, want %v", p, got, want)
			}
		}
	}
	for pragma, want := range map[string]string{
		"journal_mode":   "wal",
		"synchronous":    "1", // NORMAL
		"busy_timeout":   "10000",
		"application_id": strconv.Itoa(applicationID),
		"page_size":      "8192",
	} {
		var got string
		if err := s.db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	s, dir := openTemp(t)
	d, err := s.Record(ctx, Decision{Accepted: true, Level: Extended, StatementID: curStatement.ID,
		StatementSHA256: curStatement.SHA256, Via: ViaFlag, Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, fileRecords(t, 3, testEpoch), Limits{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		s, err := Open(ctx, dir)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		checkSchemaOnce(t, s)
		if got, err := s.Latest(ctx); err != nil || got == nil || *got != d {
			t.Errorf("Latest after reopen = %+v, %v; want %+v", got, err, d)
		}
		if st, err := s.Stats(ctx); err != nil || st.Records != 3 {
			t.Errorf("Stats after reopen = %+v, %v", st, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// A state directory that cannot be created or written gives an error, not
// a panic, so that callers can fall back to Unavailable. A regular file
// where the directory should be works even for root.
func TestOpenUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state")
	if err := os.WriteFile(file, []byte("not a directory\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{file, filepath.Join(file, "sub")} {
		s, err := Open(context.Background(), dir)
		if err == nil {
			s.Close()
			t.Errorf("Open(%s): no error", dir)
			continue
		}
		t.Log(err)
		st := Unavailable(err)
		if st.Participating || st.Reason != "state-unavailable" {
			t.Errorf("Unavailable(%v) = %+v", err, st)
		}
	}
	if got, _ := os.ReadFile(file); string(got) != "not a directory\n" {
		t.Error("the file was modified")
	}
	if s, err := Open(context.Background(), ""); err == nil {
		s.Close()
		t.Error("Open(\"\"): no error")
	}
}

func TestOpenReadOnlyDirectory(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX permissions")
	}
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions (TestOpenUnwritable covers root)")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	for _, d := range []string{dir, filepath.Join(dir, "sub")} {
		if s, err := Open(context.Background(), d); err == nil {
			s.Close()
			t.Errorf("Open(%s): no error", d)
		} else {
			t.Log(err)
		}
	}
}

// Another application's SQLite file (or ksn's reputation database) named
// participation.db is refused and left as it was.
func TestOpenForeignDatabase(t *testing.T) {
	for name, setup := range map[string]string{
		"tables":         `CREATE TABLE contacts (name TEXT)`,
		"application_id": `PRAGMA application_id = 1802726961`, // "ksn1", the reputation database
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "participation.db")
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(setup); err != nil {
				t.Fatal(err)
			}
			db.Close()
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Open(context.Background(), dir)
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), "not a ksn participation database") {
				t.Errorf("error %q does not say what is wrong", err)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("the file was modified")
			}
		})
	}
	// Garbage.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "participation.db"), bytes.Repeat([]byte("garbage!"), 1024), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(context.Background(), dir); err == nil {
		s.Close()
		t.Error("garbage: no error")
	} else {
		t.Log(err)
	}
}

// Goroutines of one process opening one fresh directory at once (the
// processes' case is TestConcurrentAppendProcesses).
func TestConcurrentOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			s, err := Open(context.Background(), dir)
			if err != nil {
				errs <- err
				return
			}
			if _, err := s.Latest(context.Background()); err != nil {
				errs <- err
			}
			s.Close()
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkSchemaOnce(t, s)
}

func TestErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "participation.db"), bytes.Repeat([]byte("x"), 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), dir)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "participation.db")) {
		t.Errorf("error %v does not name the file", err)
	}
}
