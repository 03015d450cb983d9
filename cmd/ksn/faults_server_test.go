//go:build linux

package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// faultServer is a real `ksn serve` on a SQLite database, on a port of its
// own that it keeps across restarts, so that clients find it again after
// it was killed.
type faultServer struct {
	t    *testing.T
	home *ksnHome
	db   string
	addr string // host:port
	url  string
	key  string // a license's key
	cmd  *exec.Cmd
}

// newFaultServer makes a server database with a license in dir and
// starts a server on it without limits that a test would hit.
func newFaultServer(t *testing.T, dir string) *faultServer {
	t.Helper()
	s := &faultServer{t: t, home: newKsnHome(t, filepath.Join(dir, "server-home")), db: filepath.Join(dir, "server.db")}
	s.home.must("admin", "--db", s.db, "init")
	s.key = strings.TrimSpace(s.home.must("admin", "--db", s.db, "license", "create", "--label", "faults"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	ln.Close()
	s.start()
	t.Cleanup(func() { s.kill() })
	return s
}

// start starts the server and waits until it listens.
func (s *faultServer) start() {
	s.t.Helper()
	s.cmd = s.home.command(s.args()...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.url = waitAddr(s.t, s.addrFile())
}

func (s *faultServer) addrFile() string { return filepath.Join(s.home.dir, "addr") }

// args are the arguments of `ksn serve`; the address file is removed, for
// the server to write it again.
func (s *faultServer) args() []string {
	os.Remove(s.addrFile())
	return []string{"serve", "--db", s.db, "--listen", s.addr, "--addr-file", s.addrFile(),
		"--rate", "1e9", "--burst", "1000000000", "--submit-rate", "1e9", "--submit-burst", "1000000000"}
}

// kill ends the server with SIGKILL (no-op when it is not running).
func (s *faultServer) kill() {
	if s.cmd != nil {
		killAfter(s.cmd, 0)
		s.cmd = nil
	}
}

// participant sets up a client home that participates through this
// server.
func (s *faultServer) participant(dir string) *ksnHome {
	s.t.Helper()
	h := newKsnHome(s.t, dir)
	h.must("license", "activate", s.key)
	h.must("config", "set", "endpoint", s.url)
	h.must("optin", "--accept")
	return h
}
