package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// lab is the matrix's working directory: the ksn binary, databases, feeds
// and the servers it started (stopped by close).
type lab struct {
	dir   string
	ksn   string
	procs []*exec.Cmd
}

func newLab() (*lab, error) {
	dir, err := os.MkdirTemp("", "ksnload")
	if err != nil {
		return nil, err
	}
	l := &lab{dir: dir, ksn: filepath.Join(dir, "ksn")}
	if out, err := exec.Command("go", "build", "-o", l.ksn, "./cmd/ksn").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("building ksn (run ksnload from the repository's root): %v\n%s", err, out)
	}
	return l, nil
}

func (l *lab) close() {
	for _, p := range l.procs {
		p.Process.Signal(os.Interrupt)
		p.Wait()
	}
	os.RemoveAll(l.dir)
}

// run runs a ksn command to completion and returns its output.
func (l *lab) run(args ...string) (string, error) {
	c := exec.Command(l.ksn, args...)
	c.Env = append(os.Environ(), "KSN_HOME="+filepath.Join(l.dir, "home"))
	c.Stderr = os.Stderr
	out, err := c.Output()
	if err != nil {
		return "", fmt.Errorf("ksn %s: %w", args[0], err)
	}
	return strings.TrimSpace(string(out)), nil
}

// start starts a server process (name: the ksn binary or this one) and
// waits for the URL it writes to its address file.
func (l *lab) start(name string, args ...string) (string, int, error) {
	addr := filepath.Join(l.dir, fmt.Sprintf("addr%d", len(l.procs)))
	c := exec.Command(name, append(args, "--addr-file", addr)...)
	c.Env = append(os.Environ(), "KSN_HOME="+filepath.Join(l.dir, "home"))
	if err := c.Start(); err != nil {
		return "", 0, err
	}
	l.procs = append(l.procs, c)
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(addr); err == nil && strings.HasSuffix(string(b), "\n") {
			return strings.TrimSpace(string(b)), c.Process.Pid, nil
		}
	}
	return "", 0, fmt.Errorf("%s did not start", name)
}

// prepare fills the database db with the corpus and makes a license.
func (l *lab) prepare(db string, c corpusFlags) (key string, err error) {
	feed := filepath.Join(l.dir, fmt.Sprintf("feed-%s-%d.txt", c.seed, c.indicators))
	if _, err := os.Stat(feed); err != nil {
		f, err := os.Create(feed)
		if err != nil {
			return "", err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		for i := range c.indicators {
			d := knownDigest(c.seed, i)
			fmt.Fprintf(w, "%x\n", d)
		}
		if err := w.Flush(); err != nil {
			return "", err
		}
		f.Close()
	}
	start := time.Now()
	if _, err := l.run("feed", "import", "--db", db, "--format", "known-good", feed); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "ksnload: imported %d digests in %s\n", c.indicators, time.Since(start).Round(time.Millisecond))
	return l.run("admin", "--db", db, "license", "create", "--label", "ksnload")
}

// target is one server under measurement.
type target struct {
	name string
	urls []string
	key  string
	pids []int
	pg   bool // its CPU includes PostgreSQL's processes
	// corpus, when set, is what this server knows instead of the run's.
	corpus *corpusFlags
}

// postgresSchema makes a schema of its own on the server dsn names and
// returns the URL that uses it, and how to drop it.
func postgresSchema(dsn string) (string, func(), error) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", nil, err
	}
	var b [4]byte
	rand.Read(b[:])
	schema := "ksnload_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	drop := func() { conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); conn.Close(ctx) }
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema, drop, nil
}

// postgresPIDs lists PostgreSQL's processes on this machine, whose CPU a
// PostgreSQL target's figures include.
func postgresPIDs() []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.TrimSpace(string(b)) == "postgres" {
			pids = append(pids, pid)
		}
	}
	return pids
}

func runMatrix(args []string) error {
	fs := flag.NewFlagSet("matrix", flag.ExitOnError)
	var c corpusFlags
	c.register(fs)
	pgURL := fs.String("postgres", os.Getenv("KSN_TEST_POSTGRES"), "PostgreSQL server `URL` (a schema of its own is made and dropped); empty: SQLite and the ceiling only")
	batches, clients := intList{1, 100, 1000}, intList{1, 16, 64}
	fs.Var(&batches, "batches", "batch sizes")
	fs.Var(&clients, "clients", "concurrent clients")
	dur := fs.Duration("duration", 5*time.Second, "how long each measurement runs")
	repeat := fs.Int("repeat", 3, "measurements per cell (interleaved across servers); the median is reported")
	submit := fs.Duration("submit", 0, "also run 64 submitters of 1,000-record batches for this long on each database")
	soakFor := fs.Duration("soak", 0, "also hold 256 connections at batch 1,000 on SQLite for this long")
	scale := fs.Int("scale", 0, "also compare SQLite holding 10,000 known digests with one holding this many (e.g. 10000000)")
	fs.Parse(args)

	l, err := newLab()
	if err != nil {
		return err
	}
	defer l.close()
	var targets []target

	sqlite := filepath.Join(l.dir, "server.db")
	key, err := l.prepare(sqlite, c)
	if err != nil {
		return err
	}
	url, pid, err := l.start(l.ksn, "serve", "--db", sqlite, "--listen", "127.0.0.1:0", "--rate", "1e9", "--burst", "1000000000", "--submit-rate", "1e9", "--submit-burst", "1000000000")
	if err != nil {
		return err
	}
	targets = append(targets, target{name: "sqlite", urls: []string{url}, key: key, pids: []int{pid}})

	if *pgURL != "" {
		dsn, drop, err := postgresSchema(*pgURL)
		if err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		defer drop()
		kek := filepath.Join(l.dir, "pg.kek")
		if _, err := l.run("admin", "--db", dsn, "keygen", "--out", kek); err != nil {
			return err
		}
		pgKey, err := l.prepare(dsn, c)
		if err != nil {
			return err
		}
		var urls []string
		var pids []int
		for range 3 {
			u, p, err := l.start(l.ksn, "serve", "--db", dsn, "--kek-file", kek, "--listen", "127.0.0.1:0", "--rate", "1e9", "--burst", "1000000000", "--submit-rate", "1e9", "--submit-burst", "1000000000")
			if err != nil {
				return err
			}
			urls, pids = append(urls, u), append(pids, p)
		}
		targets = append(targets,
			target{name: "pg-1", urls: urls[:1], key: pgKey, pids: pids[:1], pg: true},
			target{name: "pg-3", urls: urls, key: pgKey, pids: pids, pg: true})
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	url, pid, err = l.start(self, "ceiling", "--listen", "127.0.0.1:0", "--indicators", strconv.Itoa(c.indicators), "--seed", c.seed)
	if err != nil {
		return err
	}
	targets = append(targets, target{name: "ceiling", urls: []string{url}, key: "none", pids: []int{pid}})

	results := measureAll(targets, c, batches, clients, *dur, *repeat)
	printTable(os.Stdout, targets, batches, clients, results)

	if *submit > 0 {
		for _, t := range targets {
			if t.name == "ceiling" || t.name == "pg-1" {
				continue
			}
			printSubmit(os.Stdout, t.name, submitLoad(t.urls, t.key, 64, 1000, *submit, t.cpuPIDs()))
		}
	}
	if *scale > 0 {
		if err := compareScale(l, c, *scale, *dur, *repeat); err != nil {
			return err
		}
	}
	if *soakFor > 0 {
		r, m := soak(targets[0].urls, targets[0].key, c, targets[0].pids[0], 256, 1000, *soakFor)
		printSoak(os.Stdout, "sqlite", r, m)
	}
	return nil
}

// cpuPIDs are the processes whose CPU counts as the target's.
func (t target) cpuPIDs() []int {
	if t.pg {
		return append(append([]int{}, t.pids...), postgresPIDs()...)
	}
	return t.pids
}

// measureAll runs every cell on every target, repeat times, interleaved
// so that a noisy moment does not fall on one server only.
func measureAll(targets []target, c corpusFlags, batches, clients []int, dur time.Duration, repeat int) map[string]map[[2]int]cellResult {
	drivers := map[string]*driver{}
	raw := map[string]map[[2]int][]cellResult{}
	for _, t := range targets {
		tc := c
		if t.corpus != nil {
			tc = *t.corpus
		}
		drivers[t.name] = newDriver(t.urls, t.key, tc, nil)
		raw[t.name] = map[[2]int][]cellResult{}
	}
	for rep := range repeat {
		for _, b := range batches {
			for _, n := range clients {
				for _, t := range targets {
					d := drivers[t.name]
					d.pids = t.cpuPIDs()
					r := d.cell(context.Background(), b, n, dur)
					raw[t.name][[2]int{b, n}] = append(raw[t.name][[2]int{b, n}], r)
					fmt.Fprintf(os.Stderr, "run %d/%d ", rep+1, repeat)
					printCell(os.Stderr, t.name, r)
				}
			}
		}
	}
	out := map[string]map[[2]int]cellResult{}
	for name, cells := range raw {
		out[name] = map[[2]int]cellResult{}
		for k, rs := range cells {
			out[name][k] = median(rs)
		}
	}
	return out
}

// compareScale measures lookups on two SQLite servers, one knowing 10,000
// digests and one knowing big, at 16 clients, interleaved: a server's
// speed should not depend much on how much it knows.
func compareScale(l *lab, c corpusFlags, big int, dur time.Duration, repeat int) error {
	var targets []target
	for _, n := range []int{10_000, big} {
		cc := c
		cc.indicators, cc.seed = n, fmt.Sprintf("scale-%d", n)
		db := filepath.Join(l.dir, fmt.Sprintf("scale-%d.db", n))
		key, err := l.prepare(db, cc)
		if err != nil {
			return err
		}
		url, pid, err := l.start(l.ksn, "serve", "--db", db, "--listen", "127.0.0.1:0", "--rate", "1e9", "--burst", "1000000000", "--submit-rate", "1e9", "--submit-burst", "1000000000")
		if err != nil {
			return err
		}
		targets = append(targets, target{name: fmt.Sprintf("sqlite-%d", n), urls: []string{url}, key: key, pids: []int{pid}, corpus: &cc})
	}
	res := measureAll(targets, c, []int{1, 1000}, []int{16}, dur, repeat)
	for _, b := range []int{1, 1000} {
		small, large := res[targets[0].name][[2]int{b, 16}], res[targets[1].name][[2]int{b, 16}]
		printCell(os.Stdout, targets[0].name, small)
		printCell(os.Stdout, targets[1].name, large)
		fmt.Printf("%-12s batch %5d: %d known digests answer %.2fx as fast as 10,000\n", "scale", b, big, large.FilesPerSec/small.FilesPerSec)
	}
	return nil
}
