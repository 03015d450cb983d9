// Command ksnload measures how many file lookups a real `ksn serve` answers
// per second, from a second process on loopback, as a client sends them:
// batches of 1,000 digests through pkg/client.
//
//	go run ./cmd/ksnload                      # 10 s, 4 clients, 100,000 indicators
//	go run ./cmd/ksnload -duration 30s -clients 8
//
// It builds ksn, fills a fresh server database with random indicators
// (ksn feed import of a known-good list), creates a license, starts
// `ksn serve` on 127.0.0.1:0 with rate limits out of the way, and prints
// lookups per second and the p50/p99 latency of one batch. Traffic goes to
// loopback only, and the run stops by itself.
//
// It measures the server as a client meets it: it runs the ksn binary and
// imports only the wire types (pkg/api) and the client (pkg/client),
// never pkg/server or pkg/store, so that nothing in-process flatters the
// numbers.
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
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/client"
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "how long to send lookups")
	clients := flag.Int("clients", 4, "concurrent clients")
	batch := flag.Int("batch", api.MaxBatch, "digests per request")
	indicators := flag.Int("indicators", 100_000, "indicators in the server database")
	known := flag.Float64("known", 0.1, "share of looked-up digests the database knows")
	flag.Parse()
	if err := run(*duration, *clients, *batch, *indicators, *known); err != nil {
		fmt.Fprintln(os.Stderr, "ksnload:", err)
		os.Exit(1)
	}
}

func randomDigest() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func run(duration time.Duration, clients, batch, indicators int, known float64) error {
	dir, err := os.MkdirTemp("", "ksnload")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ksn := filepath.Join(dir, "ksn")
	if out, err := exec.Command("go", "build", "-o", ksn, "./cmd/ksn").CombinedOutput(); err != nil {
		return fmt.Errorf("building ksn: %v\n%s", err, out)
	}
	env := append(os.Environ(), "KSN_HOME="+filepath.Join(dir, "home"))
	db := filepath.Join(dir, "server.db")
	ksnCmd := func(args ...string) ([]byte, error) {
		c := exec.Command(ksn, args...)
		c.Env = env
		c.Stderr = os.Stderr
		return c.Output()
	}

	// The database: random SHA-256 indicators, some of which the clients ask about.
	feed := filepath.Join(dir, "known-good.txt")
	f, err := os.Create(feed)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	digests := make([]string, indicators)
	for i := range digests {
		digests[i] = randomDigest()
		fmt.Fprintln(w, digests[i])
	}
	if err := w.Flush(); err != nil {
		return err
	}
	f.Close()
	if _, err := ksnCmd("feed", "import", "--db", db, "--format", "known-good", feed); err != nil {
		return fmt.Errorf("importing: %w", err)
	}
	keyOut, err := ksnCmd("admin", "--db", db, "license", "create", "--label", "ksnload")
	if err != nil {
		return fmt.Errorf("creating a license: %w", err)
	}
	key := strings.TrimSpace(string(keyOut))

	addrFile := filepath.Join(dir, "addr")
	srv := exec.Command(ksn, "serve", "--listen", "127.0.0.1:0", "--db", db, "--addr-file", addrFile,
		"--rate", "1e9", "--burst", "1000000000")
	srv.Env = env
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { srv.Process.Signal(os.Interrupt); srv.Wait() }()
	var endpoint string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(addrFile); err == nil && strings.HasSuffix(string(b), "\n") {
			endpoint = strings.TrimSpace(string(b))
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ksn serve did not start")
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var mu sync.Mutex
	var latencies []time.Duration
	var failures int
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			cl, err := client.New(client.Options{Endpoint: endpoint, LicenseKey: key, Timeout: 30 * time.Second, UserAgent: "ksnload"})
			if err != nil {
				panic(err)
			}
			items := make([]api.FileQuery, batch)
			for round := 0; ctx.Err() == nil; round++ {
				for i := range items {
					d := randomDigest()
					if float64(i%100) < known*100 {
						d = digests[(i*7919+round*batch)%len(digests)]
					}
					items[i] = api.FileQuery{Digests: map[string]string{"sha256": d, "blake3": randomDigest()}}
				}
				start := time.Now()
				_, err := cl.LookupFiles(context.Background(), items)
				took := time.Since(start)
				mu.Lock()
				if err != nil {
					failures++
				} else {
					latencies = append(latencies, took)
				}
				mu.Unlock()
			}
		})
	}
	start := time.Now()
	wg.Wait()
	elapsed := time.Since(start)

	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))]
	}
	lookups := len(latencies) * batch
	fmt.Printf("ksnload: %d clients, batches of %d digests (2 per file: sha256 + blake3), %d indicators, %.0f%% known\n",
		clients, batch, indicators, known*100)
	fmt.Printf("requests   %d ok, %d failed in %s\n", len(latencies), failures, elapsed.Round(time.Millisecond))
	fmt.Printf("lookups/s  %.0f files\n", float64(lookups)/elapsed.Seconds())
	fmt.Printf("latency    p50 %s  p99 %s  (one batch of %d)\n", pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), batch)
	if failures > 0 {
		return fmt.Errorf("%d requests failed", failures)
	}
	return nil
}
