//go:build linux

package main

import (
	"bytes"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The toxics of toxiproxy, reproduced on a loopback TCP proxy between the
// client and a real `ksn serve`. Written here rather than imported: the
// library would bring its HTTP API, logger and metrics into go.mod for a
// hundred lines of copying, and this one can aim a fault at one endpoint's
// requests (so a lookup passes and the delivery that follows breaks).
type faultKind int

const (
	faultNone      faultKind = iota
	faultLatency             // every chunk of the answer waits D
	faultTimeout             // the answer is swallowed; the connection stays open
	faultReset               // N bytes into the request, the client's socket is reset (RST)
	faultCut                 // N bytes into the answer's body, both sides are closed (FIN)
	faultSlowClose           // the server's close reaches the client D later
	faultBandwidth           // the answer flows at N bytes a second
)

// fault is what the proxy does to connections whose request path starts
// with Path ("" is every request).
type fault struct {
	Kind faultKind
	Path string
	N    int
	D    time.Duration
}

// faultProxy forwards 127.0.0.1:port to an upstream address, applying the
// current fault, and logs every request line it forwards with its time.
type faultProxy struct {
	t        *testing.T
	ln       net.Listener
	upstream string

	mu       sync.Mutex
	fault    fault
	requests []proxiedRequest
	sent     map[string]int // record id -> times it went up in a submission
	waits    []proxiedWait
}

// proxiedWait is a Retry-After the server gave, as the proxy passed it on.
type proxiedWait struct {
	At   time.Time
	Path string // of the refused request
	Wait time.Duration
}

type proxiedRequest struct {
	At   time.Time
	Line string // "POST /v1/submissions"
}

// requestLine finds HTTP/1.1 request lines in the client's stream; JSON
// bodies escape CR and LF, so they cannot hold one.
var requestLine = regexp.MustCompile(`(GET|POST|PUT|DELETE|HEAD) (/[^ \r\n]*) HTTP/1\.1\r\n`)

// retryAfter finds the server's Retry-After headers (it sends seconds).
var retryAfter = regexp.MustCompile(`\r\nRetry-After: (\d+)\r\n`)

// recordID finds the ids of records in a submission's body.
var recordID = regexp.MustCompile(`"id":"([0-9a-f]{32})"`)

func startFaultProxy(t *testing.T, upstream string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{t: t, ln: ln, upstream: upstream, sent: map[string]int{}}
	t.Cleanup(func() { ln.Close() })
	go p.serve()
	return p
}

// URL is the endpoint a client is given.
func (p *faultProxy) URL() string { return "http://" + p.ln.Addr().String() }

// Set replaces the fault for connections opened from now on.
func (p *faultProxy) Set(f fault) {
	p.mu.Lock()
	p.fault = f
	p.mu.Unlock()
}

// Sent returns the ids of the records that went up in submissions (whole
// or not), with how many times each did.
func (p *faultProxy) Sent() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.sent))
	for id, n := range p.sent {
		out[id] = n
	}
	return out
}

// Count returns how many requests went up whose line starts with prefix
// ("POST /v1/submissions").
func (p *faultProxy) Count(prefix string) int {
	n := 0
	for _, r := range p.Requests() {
		if strings.HasPrefix(r.Line, prefix) {
			n++
		}
	}
	return n
}

// Waits returns the Retry-After answers passed to the client so far.
func (p *faultProxy) Waits() []proxiedWait {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]proxiedWait(nil), p.waits...)
}

// Requests returns the request lines forwarded so far.
func (p *faultProxy) Requests() []proxiedRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]proxiedRequest(nil), p.requests...)
}

func (p *faultProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		f := p.fault
		p.mu.Unlock()
		go p.handle(c.(*net.TCPConn), f)
	}
}

// proxyConn is one client connection and its upstream.
type proxyConn struct {
	p         *faultProxy
	f         fault
	client    *net.TCPConn
	server    net.Conn
	armedMu   sync.Mutex
	armed     bool   // a request the fault aims at was seen on this connection
	sentSince int    // request bytes since it
	path      string // of the last request line seen
}

func (p *faultProxy) handle(client *net.TCPConn, f fault) {
	server, err := net.Dial("tcp", p.upstream)
	if err != nil {
		client.Close()
		return
	}
	pc := &proxyConn{p: p, f: f, client: client, server: server}
	go pc.requestsUp()
	pc.answersDown()
}

// requestsUp copies the client's requests upstream, logging request lines
// and arming the fault; a reset fault fires here.
func (pc *proxyConn) requestsUp() {
	defer pc.server.Close()
	buf := make([]byte, 32<<10)
	var tail []byte
	for {
		n, err := pc.client.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			pc.scan(&tail, chunk)
			if pc.f.Kind == faultReset && pc.isArmed() {
				pc.armedMu.Lock()
				room := pc.f.N - pc.sentSince
				pc.sentSince += n
				pc.armedMu.Unlock()
				if room < n {
					if room > 0 {
						pc.server.Write(chunk[:room])
					}
					pc.client.SetLinger(0) // close with RST
					pc.client.Close()
					return
				}
			}
			if _, werr := pc.server.Write(chunk); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// scan logs the request lines that end in chunk. tail keeps the end of the
// stream so far, so a line split across reads is found once, when its last
// byte arrives.
func (pc *proxyConn) scan(tail *[]byte, chunk []byte) {
	data := append(*tail, chunk...)
	lines := requestLine.FindAllSubmatchIndex(data, -1)
	pc.scanIDs(data, len(*tail), lines)
	for _, m := range lines {
		if m[1] <= len(*tail) {
			continue
		}
		path := string(data[m[4]:m[5]])
		pc.p.mu.Lock()
		pc.p.requests = append(pc.p.requests, proxiedRequest{At: time.Now(), Line: string(data[m[2]:m[3]]) + " " + path})
		pc.p.mu.Unlock()
		if pc.f.Kind != faultNone && bytes.HasPrefix([]byte(path), []byte(pc.f.Path)) {
			pc.armedMu.Lock()
			if !pc.armed {
				pc.armed = true
				// Counted from the line's end: minus the bytes of
				// this chunk up to it.
				pc.sentSince = -(len(chunk) - (len(data) - m[1]))
			}
			pc.armedMu.Unlock()
		}
	}
	if len(data) > 256 {
		data = data[len(data)-256:]
	}
	*tail = append((*tail)[:0], data...)
}

// scanIDs counts the record ids that end after old in data, in the body
// of the request line that comes before each.
func (pc *proxyConn) scanIDs(data []byte, old int, lines [][]int) {
	pc.armedMu.Lock()
	path := pc.path
	pc.armedMu.Unlock()
	li := 0
	for _, m := range recordID.FindAllSubmatchIndex(data, -1) {
		for ; li < len(lines) && lines[li][0] < m[0]; li++ {
			path = string(data[lines[li][4]:lines[li][5]])
		}
		if m[1] > old && path == "/v1/submissions" {
			pc.p.mu.Lock()
			pc.p.sent[string(data[m[2]:m[3]])]++
			pc.p.mu.Unlock()
		}
	}
	if len(lines) > 0 {
		last := lines[len(lines)-1]
		pc.armedMu.Lock()
		pc.path = string(data[last[4]:last[5]])
		pc.armedMu.Unlock()
	}
}

func (pc *proxyConn) isArmed() bool {
	pc.armedMu.Lock()
	defer pc.armedMu.Unlock()
	return pc.armed
}

// answersDown copies the server's answers to the client under the fault.
func (pc *proxyConn) answersDown() {
	defer pc.client.Close()
	defer pc.server.Close()
	buf := make([]byte, 32<<10)
	body := -1 // answer bytes after the first header's end; -1 before it
	var head, tail []byte
	for {
		n, err := pc.server.Read(buf)
		chunk := buf[:n]
		pc.scanWaits(&tail, chunk)
		if n > 0 && pc.isArmed() {
			switch pc.f.Kind {
			case faultLatency:
				time.Sleep(pc.f.D)
			case faultTimeout:
				chunk = nil
			case faultCut:
				if body < 0 {
					head = append(head, chunk...)
					if i := bytes.Index(head, []byte("\r\n\r\n")); i >= 0 {
						body = len(head) - (i + 4)
						if keep := len(chunk) - (body - pc.f.N); body > pc.f.N {
							pc.client.Write(chunk[:max(keep, 0)])
							return
						}
					}
				} else if body += n; body > pc.f.N {
					pc.client.Write(chunk[:n-(body-pc.f.N)])
					return
				}
			case faultBandwidth:
				pc.trickle(chunk)
				chunk = nil
			}
		}
		if len(chunk) > 0 {
			if _, werr := pc.client.Write(chunk); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF || pc.f.Kind != faultSlowClose || !pc.isArmed() {
				return
			}
			time.Sleep(pc.f.D)
			return
		}
	}
}

// scanWaits logs the Retry-After headers that end in chunk, against the
// last request seen on the connection (HTTP/1.1 answers in order, and the
// client sends no request before it read the answer to the one before).
func (pc *proxyConn) scanWaits(tail *[]byte, chunk []byte) {
	data := append(*tail, chunk...)
	for _, m := range retryAfter.FindAllSubmatchIndex(data, -1) {
		if m[1] <= len(*tail) {
			continue
		}
		secs, _ := strconv.Atoi(string(data[m[2]:m[3]]))
		pc.armedMu.Lock()
		path := pc.path
		pc.armedMu.Unlock()
		pc.p.mu.Lock()
		pc.p.waits = append(pc.p.waits, proxiedWait{At: time.Now(), Path: path, Wait: time.Duration(secs) * time.Second})
		pc.p.mu.Unlock()
	}
	if len(data) > 64 {
		data = data[len(data)-64:]
	}
	*tail = append((*tail)[:0], data...)
}

// trickle writes b at the fault's bytes per second, in slices of a tenth
// of a second's worth.
func (pc *proxyConn) trickle(b []byte) {
	step := max(pc.f.N/10, 1)
	for len(b) > 0 {
		k := min(step, len(b))
		if _, err := pc.client.Write(b[:k]); err != nil {
			return
		}
		b = b[k:]
		time.Sleep(100 * time.Millisecond)
	}
}
