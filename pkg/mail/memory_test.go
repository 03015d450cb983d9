//go:build linux

package mail

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestMboxMemory walks a generated mbox in a child process and measures
// the child's peak resident memory (getrusage's ru_maxrss, which Linux
// gives in KiB): it must stay below 100 MiB. The mbox is 32 MiB unless
// KSN_MAIL_BIG=1 asks for 1 GiB (written to a temporary directory: it
// needs that much disk and a minute). A quarter of it is one message with
// one attachment, so that holding a message whole would show.
func TestMboxMemory(t *testing.T) {
	size := int64(32 << 20)
	if os.Getenv("KSN_MAIL_BIG") == "1" {
		size = 1 << 30
	}
	path := filepath.Join(t.TempDir(), "big.mbox")
	start := time.Now()
	n, err := writeMbox(path, size)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d messages, %d MiB, in %v", n, size>>20, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMboxMemoryChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KSN_MAIL_MEMORY_FILE="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	peak := ru.Maxrss << 10
	cpu := time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
	m := regexp.MustCompile(`messages=(\d+) parts=(\d+) problems=(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("child said\n%s", out)
	}
	t.Logf("walked %s messages, %s parts, in %v (%v of CPU); peak RSS %.1f MiB", m[1], m[2],
		time.Since(start).Round(time.Millisecond), cpu.Round(time.Millisecond), float64(peak)/(1<<20))
	if got, _ := strconv.Atoi(string(m[1])); got != n || string(m[3]) != "0" {
		t.Errorf("walked %s messages with %s problems, want %d and 0", m[1], m[3], n)
	}
	if peak >= 100<<20 {
		t.Errorf("peak RSS %d MiB, want < 100 MiB", peak>>20)
	}
}

// TestMboxMemoryChild is the child of TestMboxMemory: it walks the mbox
// as ksn check would, hashing each part, and prints what it saw.
func TestMboxMemoryChild(t *testing.T) {
	path := os.Getenv("KSN_MAIL_MEMORY_FILE")
	if path == "" {
		t.Skip("the child of TestMboxMemory")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	messages, parts, problems := 0, 0, 0
	mb := NewMbox(f)
	for {
		mm, err := mb.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		messages++
		m, err := ReadMessage(mm, Limits{})
		if err != nil {
			problems++
			continue
		}
		res := m.Walk(func(p *Part) error {
			_, err := io.Copy(sha256.New(), p.Body)
			return err
		})
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		parts += len(res.Parts)
		problems += len(res.Problems)
		_ = Observe(m, res, nil)
	}
	fmt.Printf("messages=%d parts=%d problems=%d\n", messages, parts, problems)
}

// writeMbox writes an mbox of about size bytes: messages with a Received
// chain, a quoted-printable text, an HTML alternative, a picture and an
// attachment of random bytes from 1 KiB to 4 MiB, and as the third one a
// message whose attachment is a quarter of the mbox.
func writeMbox(path string, size int64) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := &countWriter{w: bufio.NewWriterSize(f, 1<<20)}
	rng := rand.New(rand.NewPCG(1, 2))
	n := 0
	for w.n < size {
		n++
		att := int64(1<<10) << (n % 13)
		if n == 3 {
			att = size / 4 * 3 / 4 // base64 makes it a quarter
		}
		fmt.Fprintf(w, "From sender%d@example.com Thu Jan  4 10:00:00 2024\n", n)
		fmt.Fprintf(w, "Received: from mail%d.example.com (mail%d.example.com [8.8.%d.%d])\n\tby mx.example.org with ESMTP id %d; Thu, 4 Jan 2024 10:00:00 +0000\n", n, n, n%250, n%200+1, n)
		fmt.Fprintf(w, "From: Sender %d <sender%d@example.com>\nSubject: message %d\nMessage-ID: <%d@gen.example>\nMIME-Version: 1.0\n", n, n, n, n)
		fmt.Fprintf(w, "Content-Type: multipart/mixed; boundary=\"mixed-%d\"\n\n--mixed-%d\n", n, n)
		fmt.Fprintf(w, "Content-Type: multipart/alternative; boundary=alt\n\n--alt\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n")
		fmt.Fprintf(w, "Hello =E2=80=94 see https://example.net/offer/%d and reply.\nFrom the team\n--alt\nContent-Type: text/html\n\n<a href=\"https://example.net/offer/%d\">offer</a>\n--alt--\n", n, n)
		fmt.Fprintf(w, "--mixed-%d\nContent-Type: image/png; name=logo.png\nContent-Transfer-Encoding: base64\n\n", n)
		writeBase64(w, rng, 2<<10)
		fmt.Fprintf(w, "--mixed-%d\nContent-Type: application/octet-stream; name=\"data%d.bin\"\nContent-Transfer-Encoding: base64\n\n", n, n)
		writeBase64(w, rng, att)
		fmt.Fprintf(w, "--mixed-%d--\n\n", n)
	}
	if err := w.w.(*bufio.Writer).Flush(); err != nil {
		return 0, err
	}
	return n, f.Close()
}

// writeBase64 writes size random bytes as base64 in lines of 76.
func writeBase64(w io.Writer, rng *rand.Rand, size int64) {
	raw := make([]byte, 57*1024)
	line := make([]byte, 0, 78*1024)
	for size > 0 {
		k := min(int64(len(raw)), size)
		for i := 0; i < len(raw); i += 8 {
			binary.LittleEndian.PutUint64(raw[i:], rng.Uint64())
		}
		line = line[:0]
		for i := int64(0); i < k; i += 57 {
			line = base64.StdEncoding.AppendEncode(line, raw[i:min(i+57, k)])
			line = append(line, '\n')
		}
		w.Write(line)
		size -= k
	}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// BenchmarkMboxWalk walks a generated 16 MiB mbox as ksn check would.
func BenchmarkMboxWalk(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.mbox")
	if _, err := writeMbox(path, 16<<20); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		mb := NewMbox(bytes.NewReader(data))
		for {
			mm, err := mb.Next()
			if err != nil {
				break
			}
			m, err := ReadMessage(mm, Limits{})
			if err != nil {
				b.Fatal(err)
			}
			m.Walk(func(p *Part) error {
				_, err := io.Copy(sha256.New(), p.Body)
				return err
			})
		}
	}
}
