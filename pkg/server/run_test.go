package server

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/statement"
	"github.com/ksnproject/ksn/pkg/store"
)

func TestLoadStatement(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "server.db")
	db, err := store.OpenServer(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.SetStatement(context.Background(), "Stored.\n"); err != nil {
		t.Fatal(err)
	}
	got, err := LoadStatement(context.Background(), db, "")
	if err != nil || got.Text != "Stored.\n" {
		t.Errorf("stored statement: %+v, %v", got, err)
	}
	if err := db.SetStatement(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	got, err = LoadStatement(context.Background(), db, "")
	if err != nil || got.ID != statement.Builtin().ID {
		t.Errorf("without a stored statement: %+v, %v; want the built-in one", got, err)
	}
	if _, err := LoadStatement(context.Background(), db, filepath.Join(dir, "missing")); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("missing --statement file: %v", err)
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:1": true, "[::1]:1": true, "0.0.0.0:1": false, "[::]:1": false, "192.0.2.1:1": false,
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := isLoopback(a); got != want {
			t.Errorf("isLoopback(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestErrorLogRedactsAddresses(t *testing.T) {
	var buf strings.Builder
	l := log.New(addrRedactor{slog.New(slog.NewTextHandler(&buf, nil))}, "", 0)
	l.Printf("http: TLS handshake error from 192.0.2.7:51234: EOF")
	l.Printf("http: TLS handshake error from [2001:db8::1]:443: EOF")
	out := buf.String()
	if strings.Contains(out, "192.0.2.7") || strings.Contains(out, "2001:db8") || strings.Count(out, "[client]") != 2 {
		t.Errorf("error log:\n%s", out)
	}
}

// TestMetricsListen: with MetricsListen, /metrics is served there and the
// API's port answers it 404; without, the API's port serves it.
func TestMetricsListen(t *testing.T) {
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	db := filepath.Join(t.TempDir(), DefaultDBFileName)
	l := runUntilListening(t, RunOptions{Listen: "127.0.0.1:0", DB: db, MetricsListen: "127.0.0.1:0"}, func(l Listening) {
		if code, _ := get(l.URL + api.PathMetrics); code != http.StatusNotFound {
			t.Errorf("the API's port answers /metrics with %d", code)
		}
		if code, body := get(l.MetricsURL); code != 200 || !strings.Contains(body, `ksn_http_requests_total{code="404",endpoint="/metrics"} 1`) {
			t.Errorf("metrics listener: %d\n%s", code, body)
		}
		if code, _ := get(strings.TrimSuffix(l.MetricsURL, api.PathMetrics) + api.PathStatus); code != http.StatusNotFound {
			t.Errorf("the metrics listener serves the API: %d", code)
		}
	})
	if !strings.HasPrefix(l.MetricsURL, "http://127.0.0.1:") || l.MetricsURL == l.URL+api.PathMetrics {
		t.Errorf("metrics URL %q", l.MetricsURL)
	}
	runUntilListening(t, RunOptions{Listen: "127.0.0.1:0", DB: db}, func(l Listening) {
		if code, body := get(l.URL + api.PathMetrics); code != 200 || !strings.Contains(body, "ksn_http_requests_total") || l.MetricsURL != "" {
			t.Errorf("/metrics on the API's port: %d, %q", code, l.MetricsURL)
		}
	})
}
