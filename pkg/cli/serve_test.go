package cli

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"github.com/ksnproject/ksn/pkg/server"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/statement"
	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/term"
)

// startServe runs runServe until the test ends and returns the base URL
// from the line it prints once listening.
func startServe(t *testing.T, opts *ServeOptions) string {
	t.Helper()
	pr, pw := io.Pipe()
	ios, _, _, _ := term.Test()
	ios.ErrOut = pw
	opts.IO = ios
	opts.Logger = slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, opts); pw.Close() }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("runServe: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("runServe did not stop")
		}
	})

	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			select {
			case line <- sc.Text():
			default:
			}
		}
	}()
	select {
	case l := <-line:
		m := regexp.MustCompile(`^ksn serve: listening on (http://127\.0\.0\.1:[1-9][0-9]*) \(database (.+)\)$`).FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("first line %q", l)
		}
		if m[2] != opts.DB {
			t.Errorf("line names database %q, want %q", m[2], opts.DB)
		}
		return m[1]
	case err := <-done:
		t.Fatalf("runServe returned before listening: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("no listening line")
	}
	return ""
}

func TestServe(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "server.db")
	stFile := filepath.Join(dir, "statement.txt")
	if err := os.WriteFile(stFile, []byte("Our statement.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenServer(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := db.CreateLicense(context.Background(), "t", nil)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	base := startServe(t, &ServeOptions{RunOptions: server.RunOptions{Listen: "127.0.0.1:0", DB: dbPath, StatementFile: stFile, Rate: 10, Burst: 20}})

	resp, err := http.Get(base + api.PathHealth)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("healthz: %d", resp.StatusCode)
	}

	resp, err = http.Get(base + api.PathStatement)
	if err != nil {
		t.Fatal(err)
	}
	var st api.Statement
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || st.Text != "Our statement.\n" || st.ID != statement.New("", st.Text, "").ID {
		t.Errorf("statement %+v (%v)", st, err)
	}

	req, _ := http.NewRequest("GET", base+api.PathStatus, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var status api.Status
	err = json.NewDecoder(resp.Body).Decode(&status)
	resp.Body.Close()
	if err != nil || status.Limits.ItemsPerSecond != 10 || status.Limits.Burst != 20 || status.Statement.ID != st.ID {
		t.Errorf("status %+v (%v)", status, err)
	}
}

func TestServeFlags(t *testing.T) {
	home := t.TempDir()
	ios, _, _, _ := term.Test()
	f := &Factory{IO: ios, Env: func(k string) string {
		if k == "KSN_HOME" {
			return home
		}
		return ""
	}}
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
	if got.Listen != DefaultListen || got.DB != filepath.Join(home, "data", "server.db") {
		t.Errorf("defaults: listen %q, db %q", got.Listen, got.DB)
	}
	if got.MaxConnections != 1024 || got.MetricsListen != "" {
		t.Errorf("defaults: %d connections, metrics on %q", got.MaxConnections, got.MetricsListen)
	}
	if err := run("--metrics-listen", "127.0.0.1:9415", "--max-connections", "64"); err != nil || got.MetricsListen != "127.0.0.1:9415" || got.MaxConnections != 64 {
		t.Errorf("--metrics-listen, --max-connections: %v, %+v", err, got)
	}
	if err := run("--max-connections", "0"); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("--max-connections 0: %v", err)
	}
	if err := run("--tls-cert", "c.pem"); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("--tls-cert alone: %v", err)
	}
}

func TestServeErrors(t *testing.T) {
	ios, _, _, errOut := term.Test()
	dir := t.TempDir()
	err := runServe(context.Background(), &ServeOptions{IO: ios, RunOptions: server.RunOptions{Listen: "127.0.0.1:0", DB: filepath.Join(dir, "s.db"), TLSCert: filepath.Join(dir, "missing.pem"), TLSKey: filepath.Join(dir, "missing.key")}})
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("missing certificate: %v", err)
	}
	err = runServe(context.Background(), &ServeOptions{IO: ios, RunOptions: server.RunOptions{Listen: "not an address", DB: filepath.Join(dir, "s.db")}})
	if exitcode.Of(err) != exitcode.Usage {
		t.Errorf("bad --listen: %v", err)
	}
	_ = errOut
}

// TestServeTLS serves HTTPS with a self-signed certificate.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pool := writeSelfSigned(t, certFile, keyFile)

	pr, pw := io.Pipe()
	ios, _, _, _ := term.Test()
	ios.ErrOut = pw
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, &ServeOptions{IO: ios, RunOptions: server.RunOptions{Listen: "127.0.0.1:0", DB: filepath.Join(dir, "s.db"), TLSCert: certFile, TLSKey: keyFile, Logger: slog.New(slog.DiscardHandler)}})
		pw.Close()
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runServe: %v", err)
		}
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	m := regexp.MustCompile(`listening on (https://127\.0\.0\.1:\d+) `).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("line %q", line)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(m[1] + api.PathHealth)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Errorf("healthz over TLS: %d", resp.StatusCode)
	}
}

func writeSelfSigned(t *testing.T, certFile, keyFile string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "ksn test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}
