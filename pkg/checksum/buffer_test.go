package checksum

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

// A worker's read buffer is made on first use, no bigger than the file
// needs, and grows for a bigger file; every size still hashes correctly,
// whatever the buffer left from the file before.
func TestWorkerBuffer(t *testing.T) {
	w := newWorker(Options{Algorithms: []Algorithm{SHA256}})
	if w.buf != nil {
		t.Fatal("a worker made its buffer before it had a file")
	}
	for _, tc := range []struct {
		size    int
		wantBuf int
	}{
		{1, 4096},
		{4096, 4096},
		{4097, 8192},
		{bufferSize + 1, bufferSize},
		{100, bufferSize}, // kept: it never shrinks
		{0, bufferSize},
	} {
		data := bytes.Repeat([]byte{byte(tc.size)}, tc.size)
		n, err := w.hashSequential(bytes.NewReader(data), int64(tc.size))
		if err != nil || n != int64(tc.size) {
			t.Fatalf("size %d: read %d, %v", tc.size, n, err)
		}
		if len(w.buf) != tc.wantBuf {
			t.Errorf("size %d: buffer of %d bytes, want %d", tc.size, len(w.buf), tc.wantBuf)
		}
		want := sha256.Sum256(data)
		if got := w.set.sums()[SHA256]; !bytes.Equal(got, want[:]) {
			t.Errorf("size %d: sha256 %x, want %x", tc.size, got, want)
		}
	}
}
