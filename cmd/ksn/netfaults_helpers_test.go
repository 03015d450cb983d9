//go:build linux

package main

import (
	"bufio"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // reads the server database the test's server writes
)

// netServer is one real `ksn serve` on a SQLite database, with a license.
type netServer struct {
	t   *testing.T
	dir string
	db  string
	url string
	key string
}

func startNetServer(t *testing.T, flags ...string) *netServer {
	t.Helper()
	s := &netServer{t: t, dir: t.TempDir()}
	s.db = filepath.Join(s.dir, "server.db")
	home := filepath.Join(s.dir, "home")
	addr := filepath.Join(s.dir, "addr")
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--db", s.db, "--addr-file", addr}, flags...)
	cmd := exec.Command("ksn", args...)
	cmd.Env = append(os.Environ(), "KSN_HOME="+home)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	s.url = waitAddr(t, addr)
	out, _, code := runKSN(home, "admin", "--db", s.db, "license", "create", "--label", "netfaults")
	if code != 0 {
		t.Fatalf("license create: exit %d", code)
	}
	s.key = strings.TrimSpace(out)
	return s
}

// hostPort is the server's address without the scheme, for a proxy.
func (s *netServer) hostPort() string { return strings.TrimPrefix(s.url, "http://") }

// ids returns the ids of the records the server stored (sealed), read from
// its database while it runs.
func (s *netServer) ids() map[string]bool {
	s.t.Helper()
	db, err := sql.Open("sqlite", "file:"+s.db+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		s.t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id FROM sealed_submissions`)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id []byte
		if err := rows.Scan(&id); err != nil {
			s.t.Fatal(err)
		}
		ids[hex.EncodeToString(id)] = true
	}
	if err := rows.Err(); err != nil {
		s.t.Fatal(err)
	}
	return ids
}

// counted is the number of records the server's aggregates counted at
// ingest: a record taken twice would count twice here even though its id
// is stored once.
func (s *netServer) counted() int {
	s.t.Helper()
	out, _, code := runKSN(filepath.Join(s.dir, "home"), "admin", "--db", s.db, "stats", "--json")
	if code != 0 {
		s.t.Fatalf("admin stats: exit %d", code)
	}
	var st struct {
		Aggregates struct {
			Records map[string]int `json:"records"`
		} `json:"aggregates"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		s.t.Fatal(err)
	}
	n := 0
	for _, c := range st.Aggregates.Records {
		n += c
	}
	return n
}

// client is one participant's KSN_HOME, talking to endpoint.
type client struct {
	t    *testing.T
	home string
}

func newClient(t *testing.T, s *netServer, endpoint string) *client {
	t.Helper()
	c := &client{t: t, home: t.TempDir()}
	c.must("license", "activate", s.key)
	c.must("config", "set", "endpoint", endpoint)
	c.must("config", "set", "timeout", "2s")
	return c
}

// run runs ksn in the client's home and returns its outputs and exit code.
func (c *client) run(args ...string) (stdout, stderr string, code int) {
	return runKSN(c.home, args...)
}

func (c *client) must(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("ksn %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// outbox returns the ids of the records waiting in the outbox.
func (c *client) outbox() map[string]bool {
	c.t.Helper()
	ids := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(c.must("queue", "show", "--json")))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.ID == "" {
			c.t.Fatalf("queue show: %q: %v", sc.Text(), err)
		}
		ids[r.ID] = true
	}
	return ids
}

// files writes n distinct files under the client's home and returns their
// paths.
func (c *client) files(prefix string, n int) []string {
	c.t.Helper()
	dir := filepath.Join(c.home, "files-"+prefix)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	var paths []string
	for i := range n {
		p := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(p, fmt.Appendf(nil, "%s %s %d\n", c.home, prefix, i), 0o644); err != nil {
			c.t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

func runKSN(home string, args ...string) (stdout, stderr string, code int) {
	stdout, stderr, code, err := runProgram(append(os.Environ(), "KSN_HOME="+home, "NO_COLOR=1"), "ksn", args...)
	if err != nil {
		code, stderr = -1, stderr+err.Error()
	}
	return stdout, stderr, code
}

// diff returns the ids in a that are not in b.
func diff(a, b map[string]bool) []string {
	var out []string
	for id := range a {
		if !b[id] {
			out = append(out, id)
		}
	}
	return out
}
