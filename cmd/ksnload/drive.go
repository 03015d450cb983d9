package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
)

// driver sends lookups to one server (its URLs in turn) and measures.
type driver struct {
	urls   []string
	key    string
	corpus corpusFlags
	pids   []int // the server's processes, whose CPU is reported; may be empty
	client *http.Client
	bodies map[int][][]byte // pre-encoded requests by batch size
}

func newDriver(urls []string, key string, corpus corpusFlags, pids []int) *driver {
	tr := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}
	return &driver{urls: urls, key: key, corpus: corpus, pids: pids,
		client: &http.Client{Transport: tr, Timeout: time.Minute}, bodies: map[int][][]byte{}}
}

// requests returns bodies of batch items each, encoded before any timing
// starts so that the generator spends its CPU on HTTP, not on JSON: each
// item carries a SHA-256 (known to the server with the corpus's share)
// and a BLAKE3, as ksn check sends them.
func (d *driver) requests(batch int) [][]byte {
	if b, ok := d.bodies[batch]; ok {
		return b
	}
	n := max(16, min(256, 64000/batch))
	var out [][]byte
	item := 0
	for range n {
		req := api.FileLookupRequest{Items: make([]api.FileQuery, batch)}
		for i := range req.Items {
			var sha, b3 [32]byte
			rand.Read(b3[:])
			rand.Read(sha[:])
			if item%100 < int(d.corpus.known*100) {
				sha = knownDigest(d.corpus.seed, (item*7919)%d.corpus.indicators)
			}
			item++
			req.Items[i] = api.FileQuery{Digests: map[string]string{"sha256": hex.EncodeToString(sha[:]), "blake3": hex.EncodeToString(b3[:])}}
		}
		b, _ := json.Marshal(req)
		out = append(out, b)
	}
	d.bodies[batch] = out
	return out
}

// cellResult is one measurement: batch size × clients.
type cellResult struct {
	Batch, Clients int
	FilesPerSec    float64
	P50, P99       time.Duration
	Requests       int
	Errors         int
	GenCPU         float64 // cores the generator used
	ServerCPU      float64 // cores the server's processes used (when known)
}

// cell runs clients concurrent loops of lookups of batch files for d.
func (d *driver) cell(ctx context.Context, batch, clients int, dur time.Duration) cellResult {
	bodies := d.requests(batch)
	warm, cancelWarm := context.WithTimeout(ctx, 300*time.Millisecond)
	d.run(warm, bodies, batch, clients, nil)
	cancelWarm()

	cpu0, srv0 := selfCPU(), procCPU(d.pids)
	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	var lat []time.Duration
	errs := d.run(rctx, bodies, batch, clients, &lat)
	wall := time.Since(start)
	cpu1, srv1 := selfCPU(), procCPU(d.pids)
	slices.Sort(lat)
	r := cellResult{Batch: batch, Clients: clients, Requests: len(lat), Errors: errs,
		FilesPerSec: float64(len(lat)*batch) / wall.Seconds(),
		P50:         pct(lat, 0.50), P99: pct(lat, 0.99),
		GenCPU: (cpu1 - cpu0).Seconds() / wall.Seconds()}
	if len(d.pids) > 0 {
		r.ServerCPU = (srv1 - srv0).Seconds() / wall.Seconds()
	}
	return r
}

// run sends until ctx ends; with lat it records each answered request's
// latency. It returns how many requests failed.
func (d *driver) run(ctx context.Context, bodies [][]byte, batch, clients int, lat *[]time.Duration) int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := 0
	for c := range clients {
		wg.Go(func() {
			var mine []time.Duration
			bad := 0
			for i := c; ctx.Err() == nil; i += clients {
				t0 := time.Now()
				ok := d.lookup(ctx, d.urls[i%len(d.urls)], bodies[i%len(bodies)], batch)
				if ctx.Err() != nil {
					break // cut off by the end of the run: not the server's failure
				}
				if !ok {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			errs += bad
			if lat != nil {
				*lat = append(*lat, mine...)
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return errs
}

// lookup sends one batch and checks that the answer is 200 with one
// result per item (counted, not decoded: decoding would cost the
// generator more CPU than the server's encoding).
func (d *driver) lookup(ctx context.Context, url string, body []byte, batch int) bool {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+api.PathLookupFiles, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+d.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return err == nil && resp.StatusCode == http.StatusOK && bytes.Count(b, []byte(`"verdict"`)) == batch
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// selfCPU is the CPU time this process used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is the CPU time the processes used so far (Linux /proc).
func procCPU(pids []int) time.Duration {
	var total time.Duration
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command name (which may hold spaces): utime
		// and stime are the 12th and 13th after it, in clock ticks.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			total += time.Duration(u+s) * 10 * time.Millisecond // USER_HZ = 100
		}
	}
	return total
}

// median returns the median of the results of one cell by each figure.
func median(rs []cellResult) cellResult {
	m := rs[0]
	pick := func(get func(cellResult) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = get(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	m.FilesPerSec = pick(func(r cellResult) float64 { return r.FilesPerSec })
	m.P50 = time.Duration(pick(func(r cellResult) float64 { return float64(r.P50) }))
	m.P99 = time.Duration(pick(func(r cellResult) float64 { return float64(r.P99) }))
	m.GenCPU = pick(func(r cellResult) float64 { return r.GenCPU })
	m.ServerCPU = pick(func(r cellResult) float64 { return r.ServerCPU })
	m.Errors, m.Requests = 0, 0
	for _, r := range rs {
		m.Errors += r.Errors
		m.Requests += r.Requests
	}
	return m
}

func printCell(w io.Writer, name string, r cellResult) {
	fmt.Fprintf(w, "%-12s batch %5d  clients %3d  %10.0f files/s  p50 %8s  p99 %8s  errors %d  generator %.2f cores  server %.2f cores\n",
		name, r.Batch, r.Clients, r.FilesPerSec, r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Errors, r.GenCPU, r.ServerCPU)
}

func runDrive(args []string) error {
	fs := flag.NewFlagSet("drive", flag.ExitOnError)
	var t targetFlags
	var c corpusFlags
	t.register(fs)
	c.register(fs)
	batches, clients := intList{1, 100, 1000}, intList{1, 16, 64}
	fs.Var(&batches, "batches", "batch sizes, comma-separated")
	fs.Var(&clients, "clients", "concurrent clients, comma-separated")
	dur := fs.Duration("duration", 5*time.Second, "how long each measurement runs")
	repeat := fs.Int("repeat", 3, "measurements per cell; the median is reported")
	var pids intList
	fs.Var(&pids, "pid", "the server's process ids, comma-separated, to report its CPU")
	fs.Parse(args)
	urls, key, err := t.urls()
	if err != nil {
		return err
	}
	d := newDriver(urls, key, c, pids)
	results := map[[2]int][]cellResult{}
	for range *repeat {
		for _, b := range batches {
			for _, n := range clients {
				r := d.cell(context.Background(), b, n, *dur)
				results[[2]int{b, n}] = append(results[[2]int{b, n}], r)
			}
		}
	}
	failed := 0
	for _, b := range batches {
		for _, n := range clients {
			m := median(results[[2]int{b, n}])
			failed += m.Errors
			printCell(os.Stdout, "server", m)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d requests failed", failed)
	}
	return nil
}
