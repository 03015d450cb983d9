//go:build linux

package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"
)

// TestMain lets the script tests run this binary as `ksn`.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"ksn": func() {
			dropFilePermissionOverride()
			os.Exit(run())
		},
	})
}

// TestScripts runs every testdata/script/*.txtar: each is a shell session
// against the real binary, with its own KSN_HOME.
func TestScripts(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join(repo, "testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("KSN_HOME", filepath.Join(env.WorkDir, ".ksn"))
			env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
			env.Setenv("REPO", repo)
			env.Setenv("CI", os.Getenv("CI"))
			// What must never appear in a record: this machine's and this
			// user's names (checked against the outbox).
			host, _ := os.Hostname()
			env.Setenv("THISHOST", regexp.QuoteMeta(host))
			if u, err := user.Current(); err == nil {
				env.Setenv("THISUSER", regexp.QuoteMeta(u.Username))
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":          cmdExits,
			"mkfifo":         cmdMkfifo,
			"listen-silent":  cmdListenSilent,
			"connections":    cmdConnections,
			"closed-port":    cmdClosedPort,
			"waitserve":      cmdWaitServe,
			"serve-500":      cmdServe500,
			"record-proxy":   cmdRecordProxy,
			"tls-cert":       cmdTLSCert,
			"hostile-server": cmdHostileServer,
			"submit-codes":   cmdSubmitCodes,
			"post":           cmdPost,
			"flood":          cmdFlood,
			// feedserver_test.go
			"feed-server":      cmdFeedServer,
			"feed-server-mode": cmdFeedServerMode,
			"feed-requests":    cmdFeedRequests,
			"make-cvd":         cmdMakeCVD,
			// fakesource_test.go
			"fake-source":     cmdFakeSource,
			"source-requests": cmdSourceRequests,
		},
	})
}

// cmdExits runs a command and asserts its exact exit status, which plain
// `exec` cannot: `exits 1 ksn check eicar.com`. Its output is kept for the
// stdout/stderr assertions that follow.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits <code> <command> [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Logf("stdout:\n%s\nstderr:\n%s", ts.ReadFile("stdout"), ts.ReadFile("stderr"))
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

func cmdMkfifo(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: mkfifo <path>")
	}
	ts.Check(syscall.Mkfifo(ts.MkAbs(args[0]), 0o644))
}

// dropFilePermissionOverride makes `ksn` obey file permissions when the
// tests run as root (as CI does), so "permission denied" can be tested for
// real. With KSN_TEST_OBEY_PERMISSIONS=1 it removes CAP_DAC_OVERRIDE and
// CAP_DAC_READ_SEARCH from the bounding set of this thread and re-executes
// from that same thread: the new image starts without them.
func dropFilePermissionOverride() {
	if os.Getenv("KSN_TEST_OBEY_PERMISSIONS") != "1" || os.Geteuid() != 0 {
		return
	}
	runtime.LockOSThread()
	for _, c := range []uintptr{unix.CAP_DAC_OVERRIDE, unix.CAP_DAC_READ_SEARCH} {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, c, 0, 0, 0); err != nil {
			panic("dropping capability: " + err.Error())
		}
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KSN_TEST_OBEY_PERMISSIONS=") {
			env = append(env, kv)
		}
	}
	env = append(env, "KSN_TEST_OBEY_PERMISSIONS=done")
	panic(syscall.Exec("/proc/self/exe", os.Args, env))
}

// silentListeners are the listeners of listen-silent, by script and name.
var silentListeners sync.Map // "WORK|NAME" -> *silentListener

type silentListener struct {
	ln       net.Listener
	accepted atomic.Int64
}

// cmdListenSilent starts a loopback listener that accepts connections and
// never answers (a hung server, and a counter of who connects):
// `listen-silent NAME` sets $NAME to its host:port.
func cmdListenSilent(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: listen-silent NAME")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	l := &silentListener{ln: ln}
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.accepted.Add(1)
			mu.Lock()
			held = append(held, c) // kept open, never written to
			mu.Unlock()
		}
	}()
	ts.Defer(func() {
		ln.Close()
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})
	silentListeners.Store(ts.Getenv("WORK")+"|"+args[0], l)
	ts.Setenv(args[0], ln.Addr().String())
}

// cmdConnections asserts how many connections a listen-silent listener
// accepted: `connections NAME 0` proves that nothing reached it.
func cmdConnections(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: connections NAME COUNT")
	}
	v, ok := silentListeners.Load(ts.Getenv("WORK") + "|" + args[0])
	if !ok {
		ts.Fatalf("no listener %s", args[0])
	}
	want, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	if got := v.(*silentListener).accepted.Load(); got != want {
		ts.Fatalf("listener %s accepted %d connections, want %d", args[0], got, want)
	}
}

// cmdClosedPort sets $NAME to a loopback host:port where nothing listens.
func cmdClosedPort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: closed-port NAME")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	addr := ln.Addr().String()
	ts.Check(ln.Close())
	ts.Setenv(args[0], addr)
}

// cmdWaitServe waits for `ksn serve --addr-file FILE` to write its URL and
// sets $VAR to it: `waitserve addr.txt ENDPOINT`.
func cmdWaitServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitserve FILE VAR")
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil && strings.HasSuffix(string(b), "\n") {
			ts.Setenv(args[1], strings.TrimSpace(string(b)))
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("ksn serve did not write %s within 20 s", args[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdServe500 starts a loopback HTTP server that answers every request
// with 500 and a problem document: `serve-500 NAME` sets $NAME to host:port.
func cmdServe500(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: serve-500 NAME")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"type":"internal","title":"Internal Server Error","status":500}`)
	}))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], strings.TrimPrefix(srv.URL, "http://"))
}

// cmdRecordProxy starts a loopback reverse proxy to a real server that
// appends every request it forwards (request line, headers but the license
// key, body) to FILE, so a script can assert what left the client:
// `record-proxy NAME $ENDPOINT wire.log` sets $NAME to the proxy's URL.
func cmdRecordProxy(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: record-proxy NAME TARGET-URL FILE")
	}
	target, err := url.Parse(args[1])
	ts.Check(err)
	logPath := ts.MkAbs(args[2])
	var mu sync.Mutex
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL.RequestURI())
		for name, vs := range r.Header {
			if name != "Authorization" {
				fmt.Fprintf(&b, "%s: %s\n", name, strings.Join(vs, ", "))
			}
		}
		fmt.Fprintf(&b, "\n%s\n\n", body)
		mu.Lock()
		f, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			_, err = f.WriteString(b.String())
			f.Close()
		}
		mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		proxy.ServeHTTP(w, r)
	}))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL)
}

// cmdTLSCert writes a self-signed certificate for a host name and its key
// (PEM), for a TLS server that a client must refuse or trust:
// `tls-cert other.example tls.crt tls.key`. Made here rather than with the
// openssl command, which a fresh machine may not have.
func cmdTLSCert(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: tls-cert HOST CERT-FILE KEY-FILE")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts.Check(err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: args[0]},
		DNSNames:     dnsNames(args[0]),
		IPAddresses:  ipAddresses(args[0]),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(48 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	ts.Check(err)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600))
}

// dnsNames and ipAddresses put a certificate's HOST where a client looks
// for it: an IP address in the IP SANs, a name in the DNS names.
func dnsNames(host string) []string {
	if net.ParseIP(host) != nil {
		return nil
	}
	return []string{host}
}

func ipAddresses(host string) []net.IP {
	if ip := net.ParseIP(host); ip != nil {
		return []net.IP{ip}
	}
	return nil
}
