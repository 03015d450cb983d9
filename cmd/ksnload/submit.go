package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
)

// submitResult is what a run of submitters measured.
type submitResult struct {
	Clients, Batch               int
	RecordsPerSec                float64
	P50, P99                     time.Duration
	Accepted                     int64
	Status5xx, Status429, Failed int64
	GenCPU, ServerCPU            float64
}

// submitBody encodes a batch of n new file records (random ids, random
// files) the way a client sends them.
func submitBody(participant string, n int) []byte {
	b := make([]byte, 0, 220*n)
	b = append(b, `{"participant":"`...)
	b = append(b, participant...)
	b = append(b, `","records":[`...)
	var id [16]byte
	var sha [32]byte
	created := time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		rand.Read(id[:])
		rand.Read(sha[:])
		b = append(b, `{"id":"`...)
		b = hex.AppendEncode(b, id[:])
		b = append(b, `","kind":"file","created_at":"`...)
		b = append(b, created...)
		b = append(b, `","body":{"digests":{"sha256":"`...)
		b = hex.AppendEncode(b, sha[:])
		b = append(b, `"},"size":`...)
		b = strconv.AppendInt(b, int64(1000+i), 10)
		b = append(b, `,"verdict":"unknown","hash_ms":0.25}}`...)
	}
	return append(b, "]}"...)
}

// submitLoad runs clients submitters of batch records each for dur.
func submitLoad(urls []string, key string, clients, batch int, dur time.Duration, pids []int) submitResult {
	tr := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}
	cl := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var res submitResult
	res.Clients, res.Batch = clients, batch
	var accepted, s5xx, s429, failed atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	cpu0, srv0, start := selfCPU(), procCPU(pids), time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			participant := fmt.Sprintf("%032x", c+1)
			var mine []time.Duration
			for i := c; ctx.Err() == nil; i += clients {
				body := submitBody(participant, batch)
				t0 := time.Now()
				// Not under ctx: a batch in flight at the end is waited for,
				// so that what the server stored is what is counted.
				req, _ := http.NewRequest(http.MethodPost, urls[i%len(urls)]+api.PathSubmissions, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := cl.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				out, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case resp.StatusCode == http.StatusAccepted:
					mine = append(mine, time.Since(t0))
					if j := bytes.Index(out, []byte(`"accepted":`)); j >= 0 {
						rest := out[j+len(`"accepted":`):]
						end := bytes.IndexAny(rest, ",}")
						n, _ := strconv.Atoi(string(rest[:max(end, 0)]))
						accepted.Add(int64(n))
					}
				case resp.StatusCode >= 500:
					s5xx.Add(1)
					fmt.Fprintf(os.Stderr, "ksnload: %d: %s\n", resp.StatusCode, strings.TrimSpace(string(out)))
				case resp.StatusCode == http.StatusTooManyRequests:
					s429.Add(1)
					time.Sleep(100 * time.Millisecond)
				default:
					failed.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	wall := time.Since(start)
	slices.Sort(lat)
	res.Accepted, res.Status5xx, res.Status429, res.Failed = accepted.Load(), s5xx.Load(), s429.Load(), failed.Load()
	res.RecordsPerSec = float64(res.Accepted) / wall.Seconds()
	res.P50, res.P99 = pct(lat, 0.5), pct(lat, 0.99)
	res.GenCPU = (selfCPU() - cpu0).Seconds() / wall.Seconds()
	if len(pids) > 0 {
		res.ServerCPU = (procCPU(pids) - srv0).Seconds() / wall.Seconds()
	}
	return res
}

func printSubmit(w io.Writer, name string, r submitResult) {
	fmt.Fprintf(w, "%-12s %d submitters x %d records: %.0f records/s accepted (%d), p50 %s p99 %s, 5xx %d, 429 %d, failed %d, generator %.2f cores, server %.2f cores\n",
		name, r.Clients, r.Batch, r.RecordsPerSec, r.Accepted, r.P50.Round(time.Millisecond), r.P99.Round(time.Millisecond),
		r.Status5xx, r.Status429, r.Failed, r.GenCPU, r.ServerCPU)
}

func runSubmit(args []string) error {
	fs := flag.NewFlagSet("submit", flag.ExitOnError)
	var t targetFlags
	t.register(fs)
	clients := fs.Int("clients", 64, "concurrent submitters")
	batch := fs.Int("batch", api.MaxBatch, "records per batch")
	dur := fs.Duration("duration", 20*time.Second, "how long to submit")
	var pids intList
	fs.Var(&pids, "pid", "the server's process ids, to report its CPU")
	fs.Parse(args)
	urls, key, err := t.urls()
	if err != nil {
		return err
	}
	r := submitLoad(urls, key, *clients, *batch, *dur, pids)
	printSubmit(os.Stdout, "server", r)
	if r.Status5xx > 0 {
		return fmt.Errorf("%d responses 5xx", r.Status5xx)
	}
	return nil
}

// memory is what /proc says of a process's memory, in KiB.
type memory struct{ RSS, Anon, File, Peak int64 }

func readMemory(pid int) memory {
	var m memory
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			m.RSS = n
		case "RssAnon:":
			m.Anon = n
		case "RssFile:":
			m.File = n
		case "VmHWM:":
			m.Peak = n
		}
	}
	return m
}

// soak holds conns clients on the server, each sending batches, for dur,
// and samples the server's memory every second: the most it held, in all
// (RSS) and of its own (anonymous, not file pages it maps).
func soak(urls []string, key string, corpus corpusFlags, pid, conns, batch int, dur time.Duration) (cellResult, memory) {
	d := newDriver(urls, key, corpus, []int{pid})
	var most memory
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			m := readMemory(pid)
			most.RSS, most.Anon, most.File = max(most.RSS, m.RSS), max(most.Anon, m.Anon), max(most.File, m.File)
			most.Peak = m.Peak
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	r := d.cell(context.Background(), batch, conns, dur)
	close(done)
	return r, most
}

func printSoak(w io.Writer, name string, r cellResult, m memory) {
	fmt.Fprintf(w, "%-12s %d connections x batch %d for the run: %.0f files/s, %d requests, %d errors, p99 %s; server RSS at most %d MiB (anonymous %d MiB, file pages %d MiB; peak %d MiB)\n",
		name, r.Clients, r.Batch, r.FilesPerSec, r.Requests, r.Errors, r.P99.Round(time.Millisecond), m.RSS>>10, m.Anon>>10, m.File>>10, m.Peak>>10)
}

func runSoak(args []string) error {
	fs := flag.NewFlagSet("soak", flag.ExitOnError)
	var t targetFlags
	var c corpusFlags
	t.register(fs)
	c.register(fs)
	pid := fs.Int("pid", 0, "the server's process id (required: its memory is watched)")
	conns := fs.Int("conns", 256, "concurrent connections")
	batch := fs.Int("batch", api.MaxBatch, "files per request")
	dur := fs.Duration("duration", 60*time.Second, "how long to hold them")
	fs.Parse(args)
	urls, key, err := t.urls()
	if err != nil {
		return err
	}
	if *pid == 0 {
		return fmt.Errorf("-pid is required")
	}
	r, m := soak(urls, key, c, *pid, *conns, *batch, *dur)
	printSoak(os.Stdout, "server", r, m)
	if r.Errors > 0 {
		return fmt.Errorf("%d requests failed", r.Errors)
	}
	return nil
}
