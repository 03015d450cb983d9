package checksum

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// ErrChanged reports a file whose size, mtime or ctime moved while it was
// read: its digests describe no version of the file that ever existed.
var ErrChanged = errors.New("file changed while it was read")

// SkipReason says why an input was deliberately not hashed. Skips are not
// errors: a FIFO in a tree is expected; reading it would block forever.
type SkipReason string

// The reasons an input is skipped.
const (
	SkipFIFO    SkipReason = "named pipe"
	SkipDevice  SkipReason = "device"
	SkipSocket  SkipReason = "socket"
	SkipSymlink SkipReason = "symlink not followed (use --follow)"
	SkipLoop    SkipReason = "symlink loop"
	SkipOther   SkipReason = "not a regular file"
)

// skipReasonFor classifies a non-regular, non-directory mode.
func skipReasonFor(m fs.FileMode) SkipReason {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return SkipFIFO
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		return SkipDevice
	case m&fs.ModeSocket != 0:
		return SkipSocket
	case m&fs.ModeSymlink != 0:
		return SkipSymlink
	}
	return SkipOther
}

// SkipError is returned for an input that was not hashed on purpose.
type SkipError struct{ Reason SkipReason }

func (e *SkipError) Error() string { return "skipped: " + string(e.Reason) }

// hashFile hashes one regular file with the worker's buffer and hashers.
// The mode seen by the walk is only a hint: the file is opened without
// blocking and checked again, so a file swapped for a FIFO between walk and
// open is skipped instead of hanging the run.
// The identity returned is the file's as it was opened: what the stat
// cache records, since the digests describe that file.
func (w *worker) hashFile(path string) (size int64, d Digests, id fileIdentity, err error) {
	f, err := openRaw(path)
	if err != nil {
		return 0, nil, id, err
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return 0, nil, id, err
	}
	if !before.Mode().IsRegular() {
		if before.IsDir() {
			return 0, nil, id, errIsDir
		}
		return 0, nil, id, &SkipError{skipReasonFor(before.Mode())}
	}
	var n int64
	w.path, w.sniffed = path, false
	if before.Size() >= w.pipelineMin && len(w.set.algs) > 1 {
		n, d, err = hashPipelined(f, w.set.algs, w.chunk, w.progress, w.look)
	} else {
		n, err = w.hashSequential(f, before.Size())
		if err == nil {
			d = w.set.sums()
		}
	}
	if err != nil {
		return n, nil, id, fmt.Errorf("read: %w", err)
	}
	if testHookAfterRead != nil {
		testHookAfterRead(path)
	}
	after, err := f.Stat()
	if err != nil {
		return n, nil, id, err
	}
	id = statIdentity(before)
	if id != statIdentity(after) || n != after.Size() {
		return n, nil, id, ErrChanged
	}
	return n, d, id, nil
}

// statIdentity is identityOf, through the hook a test uses to play a file
// system with coarse timestamps.
func statIdentity(fi fs.FileInfo) fileIdentity {
	id := identityOf(fi)
	if testHookIdentity != nil {
		testHookIdentity(&id)
	}
	return id
}

// testHookIdentity lets a test rewrite the times every stat reports, as a
// file system with coarse timestamps would.
var testHookIdentity func(*fileIdentity)

// testHookAfterRead lets a test change a file between the read and the
// second stat, which no timing-based test could do reliably.
var testHookAfterRead func(path string)

// ErrIsDir is the error of a directory named without -r: not a file, and
// summaries count it apart.
var ErrIsDir = errors.New("is a directory (use -r to check what it holds)")

var errIsDir = ErrIsDir

// fileReader is an open file as hashing needs it.
type fileReader interface {
	io.ReadCloser
	Stat() (fs.FileInfo, error)
}

// hashSequential feeds every hasher from the worker's buffer on the
// worker's own goroutine: for small files a hand-off costs more than it saves.
// With a known size it stops after that many bytes instead of paying a read
// just to see EOF: the second stat catches a file that grew.
func (w *worker) hashSequential(r io.Reader, size int64) (int64, error) {
	w.set.reset()
	buf := w.buffer(size)
	var n int64
	for size <= 0 || n < size {
		k, err := r.Read(buf)
		if k > 0 {
			if n == 0 {
				w.look(buf[:k])
			}
			w.set.write(buf[:k])
			n += int64(k)
			if w.progress != nil {
				w.progress.Bytes.Add(int64(k))
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// buffer returns the worker's read buffer, made on first use and no bigger
// than a file of size bytes needs (rounded up to whole pages): a run on
// one small file would otherwise clear bufferSize bytes for each of its
// workers, a tenth of `ksn check`'s own work on one small file. A size of
// 0 or less (a stream, an empty file) gets the full buffer.
func (w *worker) buffer(size int64) []byte {
	want := bufferSize
	if size > 0 && size < bufferSize {
		want = int((size + 4095) &^ 4095)
	}
	if len(w.buf) < want {
		w.buf = make([]byte, want)
	}
	return w.buf
}

// hashPipelined reads r once and feeds the digests concurrently from a
// small ring of shared buffers, so one large file keeps every core busy: the
// slowest digest, not the sum of all of them, sets the pace. The reading
// goroutine computes the first digest itself (BLAKE3 by default, the
// fastest); each other digest gets a goroutine. Fewer hand-offs mean fewer
// thread wake-ups, which showed up as system time with smaller chunks.
func hashPipelined(r io.Reader, algs []Algorithm, chunk int, progress *Progress, first func([]byte)) (int64, Digests, error) {
	const slots = 4
	ring := make([][]byte, slots)
	for i := range ring {
		ring[i] = make([]byte, chunk)
	}
	inline := algs[0].New()
	others := algs[1:]
	work := make([]chan []byte, len(others))
	acks := make([]chan struct{}, len(others))
	sums := make([][]byte, len(others))
	done := make(chan struct{}, len(others))
	for i, a := range others {
		work[i] = make(chan []byte, slots)
		acks[i] = make(chan struct{}, slots)
		go func() {
			h := a.New()
			for b := range work[i] {
				h.Write(b)
				acks[i] <- struct{}{}
			}
			sums[i] = h.Sum(nil)
			done <- struct{}{}
		}()
	}
	finish := func() {
		for i := range work {
			close(work[i])
		}
		for range others {
			<-done
		}
	}
	var n int64
	for seq := 0; ; seq++ {
		if seq >= slots {
			// The slot about to be reused held piece seq-slots; every
			// hasher acknowledges pieces in order, so one ack each frees it.
			for i := range acks {
				<-acks[i]
			}
		}
		buf := ring[seq%slots]
		k, err := io.ReadFull(r, buf)
		if k > 0 {
			if seq == 0 && first != nil {
				first(buf[:k])
			}
			n += int64(k)
			if progress != nil {
				progress.Bytes.Add(int64(k))
			}
			for i := range work {
				work[i] <- buf[:k]
			}
			inline.Write(buf[:k])
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			finish()
			return n, nil, err
		}
	}
	finish()
	d := Digests{algs[0]: inline.Sum(nil)}
	for i, a := range others {
		d[a] = sums[i]
	}
	return n, d, nil
}
