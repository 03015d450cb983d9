//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/rogpeppe/go-internal/testscript"
)

// cmdFlood attacks a real `ksn serve` with lookups far over the limits:
// `flood ADDRFILE KEYFILE COUNT BYTES MODE` sends COUNT lookup bodies of
// BYTES bytes each (valid items, about 90 bytes each) at once, each on a
// connection of its own, to the server that wrote ADDRFILE, and checks
// that it holds. MODE is "chunked" (no Content-Length: the server must
// read them to know), "declared" (with it) or "mixed". Meanwhile it
// samples /healthz every 50 ms. It prints, for the script to assert:
//
//	peak_rss_mib N        the server's VmHWM from /proc (its peak RSS)
//	healthz_failed N      health checks that failed or took over 5 s
//	after STATUS          the status of one small lookup sent afterwards
func cmdFlood(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 5 {
		ts.Fatalf("usage: flood ADDRFILE KEYFILE COUNT BYTES MODE")
	}
	endpoint := strings.TrimSpace(ts.ReadFile(args[0]))
	key := strings.TrimSpace(ts.ReadFile(args[1]))
	count, err := strconv.Atoi(args[2])
	ts.Check(err)
	size, err := strconv.Atoi(args[3])
	ts.Check(err)
	mode := args[4]
	pid := servePID(ts, args[0])

	var body bytes.Buffer
	body.WriteString(`{"items":[`)
	for i := 0; body.Len() < size-100; i++ {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"digests":{"sha256":"%064x"}}`, i)
	}
	body.WriteString(`]}`)
	payload := body.Bytes()

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, MaxConnsPerHost: 0}}
	ctx, cancel := context.WithCancel(context.Background())
	var healthFailed, healthMax atomic.Int64
	var probes sync.WaitGroup
	probes.Add(1)
	go func() {
		defer probes.Done()
		hc := &http.Client{Timeout: 5 * time.Second}
		for ctx.Err() == nil {
			start := time.Now()
			resp, err := hc.Get(endpoint + api.PathHealth)
			if err != nil || resp.StatusCode != http.StatusOK {
				ts.Logf("healthz: %v after %v", err, time.Since(start))
				healthFailed.Add(1)
			}
			if d := int64(time.Since(start)); d > healthMax.Load() {
				healthMax.Store(d)
			}
			if resp != nil {
				resp.Body.Close()
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()

	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[string]int{}
	for i := range count {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var rd io.Reader = bytes.NewReader(payload)
			if mode == "chunked" || mode == "mixed" && i%2 == 0 {
				rd = io.MultiReader(rd) // hides the length: sent chunked
			}
			req, err := http.NewRequest(http.MethodPost, endpoint+api.PathLookupFiles, rd)
			ts.Check(err)
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			what := "error"
			if resp, err := client.Do(req); err == nil {
				what = strconv.Itoa(resp.StatusCode)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			mu.Lock()
			statuses[what]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	cancel()
	probes.Wait()

	small := `{"items":[{"digests":{"sha256":"` + strings.Repeat("0", 64) + `"}}]}`
	req, err := http.NewRequest(http.MethodPost, endpoint+api.PathLookupFiles, strings.NewReader(small))
	ts.Check(err)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	resp.Body.Close()

	fmt.Fprintf(ts.Stdout(), "peak_rss_mib %d\nhealthz_failed %d\nafter %d\n", procStatusKiB(ts, pid, "VmHWM")>>10, healthFailed.Load(), resp.StatusCode)
	ts.Logf("%d bodies of %d bytes (%s): statuses %v; server peak RSS %d MiB; slowest /healthz %v",
		count, len(payload), mode, statuses, procStatusKiB(ts, pid, "VmHWM")>>10, time.Duration(healthMax.Load()))
}

// servePID finds the `ksn serve` process this script started with
// --addr-file ADDRFILE: the one whose working directory is the script's
// and whose arguments name that file.
func servePID(ts *testscript.TestScript, addrFile string) int {
	work, err := filepath.EvalSymlinks(ts.Getenv("WORK"))
	ts.Check(err)
	dirs, err := os.ReadDir("/proc")
	ts.Check(err)
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		if err != nil || cwd != work {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		args := strings.Split(string(cmdline), "\x00")
		if err == nil && len(args) > 1 && args[1] == "serve" && strings.Contains(string(cmdline), "\x00--addr-file\x00"+addrFile+"\x00") {
			return pid
		}
	}
	ts.Fatalf("no ksn serve --addr-file %s runs in %s", addrFile, work)
	return 0
}

// procStatusKiB reads a "Name: N kB" line of /proc/PID/status.
func procStatusKiB(ts *testscript.TestScript, pid int, name string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	ts.Check(err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			ts.Check(err)
			return n
		}
	}
	ts.Fatalf("no %s in /proc/%d/status", name, pid)
	return 0
}
