package checksum

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func paths(ps ...string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for _, p := range ps {
			if !yield(p, nil) {
				return
			}
		}
	}
}

func runAll(t *testing.T, opts Options, ps ...string) []Result {
	t.Helper()
	var out []Result
	err := Run(context.Background(), paths(ps...), opts, func(r Result, _ bool) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out
}

func writeRandom(t *testing.T, path string, n int, seed uint64) []byte {
	t.Helper()
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// peerDigest runs a coreutils-style tool and returns the hex digest it printed.
func peerDigest(t *testing.T, tool, path string) string {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; .ci/run installs it", tool)
		}
		t.Skipf("%s is not installed (CI installs it)", tool)
	}
	out, err := exec.Command(tool, path).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", tool, path, err)
	}
	f := strings.Fields(string(out))
	if len(f) == 0 {
		t.Fatalf("%s printed nothing", tool)
	}
	return f[0]
}

// TestDigestsMatchPeers compares every algorithm with the tool a user
// would trust, across buffer boundaries and through the pipelined path.
func TestDigestsMatchPeers(t *testing.T) {
	dir := t.TempDir()
	sizes := []int{0, 1, 1023, 1024, 1025, 65536, bufferSize + 1, pipelineMinBytes + 7, 100 << 20}
	var files []string
	for i, n := range sizes {
		p := filepath.Join(dir, fmt.Sprintf("f%d-%d", i, n))
		writeRandom(t, p, n, uint64(i))
		files = append(files, p)
	}
	res := runAll(t, Options{Algorithms: All}, files...)
	peers := map[Algorithm]string{BLAKE3: "b3sum", SHA256: "sha256sum", SHA1: "sha1sum", MD5: "md5sum"}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Path, r.Err)
		}
		if r.Path != files[i] || r.Size != int64(sizes[i]) {
			t.Fatalf("result %d = %s (%d bytes), want %s (%d)", i, r.Path, r.Size, files[i], sizes[i])
		}
		for _, a := range All {
			t.Run(fmt.Sprintf("%s/%d", a, sizes[i]), func(t *testing.T) {
				if got, want := r.Digests.Hex(a), peerDigest(t, peers[a], r.Path); got != want {
					t.Errorf("%s of %d bytes = %s, %s says %s", a, sizes[i], got, peers[a], want)
				}
			})
		}
	}
}

// TestPipelinedEqualsSequential checks the concurrent path byte for byte
// against the simple one, including a final partial chunk.
func TestPipelinedEqualsSequential(t *testing.T) {
	for _, n := range []int{0, 1, 4096, 4096*8 + 3, 4096 * 20} {
		data := bytes.Repeat([]byte{0xab, 0x01, 0x7f}, n/3+1)[:n]
		got, d, err := hashPipelined(bytes.NewReader(data), All, 4096, nil, nil)
		if err != nil || got != int64(n) {
			t.Fatalf("n=%d: read %d, err %v", n, got, err)
		}
		for _, a := range All {
			h := a.New()
			h.Write(data)
			if !bytes.Equal(h.Sum(nil), d[a]) {
				t.Errorf("n=%d %s differs from a one-shot hash", n, a)
			}
		}
	}
}

func TestInputOrderPreserved(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i := range 300 {
		p := filepath.Join(dir, fmt.Sprintf("%03d", i))
		// Big files early so that later small ones finish first.
		size := 10
		if i%50 == 0 {
			size = 3 << 20
		}
		writeRandom(t, p, size, uint64(i))
		files = append(files, p)
	}
	res := runAll(t, Options{Workers: 4}, files...)
	if len(res) != len(files) {
		t.Fatalf("%d results for %d inputs", len(res), len(files))
	}
	for i, r := range res {
		if r.Path != files[i] {
			t.Fatalf("result %d is %s, want %s", i, r.Path, files[i])
		}
	}
}

func TestSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	must(t, os.MkdirAll(filepath.Join(tree, "sub"), 0o755))
	writeRandom(t, filepath.Join(tree, "a"), 10, 1)
	writeRandom(t, filepath.Join(tree, "sub", "b"), 10, 2)
	must(t, syscall.Mkfifo(filepath.Join(tree, "fifo"), 0o644))
	must(t, os.Symlink("..", filepath.Join(tree, "sub", "up")))     // directory loop
	must(t, os.Symlink("self", filepath.Join(tree, "self")))        // ELOOP
	must(t, os.Symlink("a", filepath.Join(tree, "link-to-a")))      // plain file link
	must(t, os.Symlink("missing", filepath.Join(tree, "dangling"))) // broken

	type want struct {
		path string
		skip SkipReason
		err  string
	}
	cases := []struct {
		name   string
		opts   Options
		inputs []string
		want   []want
	}{
		{"walk without follow", Options{Recursive: true}, []string{tree}, []want{
			{"tree/a", "", ""},
			{"tree/dangling", SkipSymlink, ""},
			{"tree/fifo", SkipFIFO, ""},
			{"tree/link-to-a", SkipSymlink, ""},
			{"tree/self", SkipSymlink, ""},
			{"tree/sub/b", "", ""},
			{"tree/sub/up", SkipSymlink, ""},
		}},
		{"walk with follow", Options{Recursive: true, Follow: true}, []string{tree}, []want{
			{"tree/a", "", ""},
			{"tree/dangling", "", "no such file"},
			{"tree/fifo", SkipFIFO, ""},
			{"tree/link-to-a", "", ""},
			{"tree/self", SkipLoop, ""},
			{"tree/sub/b", "", ""},
			{"tree/sub/up", SkipLoop, ""},
		}},
		{"named inputs", Options{}, []string{
			filepath.Join(tree, "fifo"), tree, filepath.Join(tree, "self"),
			filepath.Join(tree, "link-to-a"), filepath.Join(tree, "nope"), "/dev/null",
		}, []want{
			{"tree/fifo", "", "named pipe: not read"},
			{"tree", "", "is a directory"},
			{"tree/self", "", "symlink loop"},
			{"tree/link-to-a", "", ""},
			{"tree/nope", "", "no such file"},
			{"/dev/null", "", "device: not read"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := runAll(t, c.opts, c.inputs...)
			var got []want
			for _, r := range res {
				w := want{path: strings.TrimPrefix(r.Path, dir+"/"), skip: r.Skipped()}
				if r.Err != nil && w.skip == "" {
					w.err = r.Err.Error()
				}
				got = append(got, w)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %d results %+v, want %d", len(got), got, len(c.want))
			}
			for i := range got {
				g, w := got[i], c.want[i]
				if g.path != w.path || g.skip != w.skip || !strings.Contains(g.err, w.err) || (w.err == "") != (g.err == "") {
					t.Errorf("result %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestFileChangedWhileRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "growing")
	writeRandom(t, p, 1000, 3)
	testHookAfterRead = func(string) {
		f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
		must(t, err)
		_, err = f.Write([]byte("more"))
		must(t, err)
		must(t, f.Close())
	}
	defer func() { testHookAfterRead = nil }()
	res := runAll(t, Options{}, p)
	if !errors.Is(res[0].Err, ErrChanged) {
		t.Fatalf("err = %v, want ErrChanged", res[0].Err)
	}
}

func TestStdin(t *testing.T) {
	data := []byte("hello from a pipe\n")
	res := runAll(t, Options{Stdin: bytes.NewReader(data), Algorithms: []Algorithm{SHA256}}, "-", "-")
	h := SHA256.New()
	h.Write(data)
	if res[0].Err != nil || !bytes.Equal(res[0].Digests[SHA256], h.Sum(nil)) || res[0].Size != int64(len(data)) {
		t.Fatalf("stdin result = %+v", res[0])
	}
	if res[1].Err == nil || !strings.Contains(res[1].Err.Error(), "already read") {
		t.Fatalf("second - = %v, want an already-read error", res[1].Err)
	}
	res = runAll(t, Options{}, "-")
	if res[0].Err == nil {
		t.Fatal("- without Stdin succeeded")
	}
}

func TestInputErrorStopsAfterEarlierResults(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x")
	writeRandom(t, p, 5, 4)
	boom := errors.New("list unreadable")
	seq := func(yield func(string, error) bool) {
		if yield(p, nil) {
			yield("", boom)
		}
	}
	var got []string
	err := Run(context.Background(), seq, Options{}, func(r Result, _ bool) error {
		got = append(got, r.Path)
		return nil
	})
	if !errors.Is(err, boom) || !slices.Equal(got, []string{p}) {
		t.Fatalf("err %v, results %v", err, got)
	}
}

func TestParseAlgorithms(t *testing.T) {
	cases := []struct {
		in   string
		want []Algorithm
		err  bool
	}{
		{"blake3,sha256", []Algorithm{BLAKE3, SHA256}, false},
		{"SHA-256, md5,sha256", []Algorithm{SHA256, MD5}, false},
		{"md5,sha1,blake3", []Algorithm{BLAKE3, SHA1, MD5}, false},
		{"sha512", nil, true},
		{"", nil, true},
	}
	for _, c := range cases {
		got, err := ParseAlgorithms(c.in)
		if (err != nil) != c.err || !slices.Equal(got, c.want) {
			t.Errorf("ParseAlgorithms(%q) = %v, %v", c.in, got, err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
