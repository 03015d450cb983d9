package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/zeebo/blake3"
)

// sample is one timed execution of a contender.
type sample struct {
	wall time.Duration
	// cpu is the user and system time the run took (of the child, or of
	// this process for an in-process loop): less swayed than wall time by
	// other work on the machine, which only delays the run.
	cpu    time.Duration
	maxRSS int64 // peak resident set of the child in bytes; 0 when in-process
	// rssBound: maxRSS is no more than this process's own peak, which Linux
	// charges to every child it starts, so the child's real peak is at most
	// maxRSS rather than equal to it. See selfPeakRSS.
	rssBound bool
}

// contender is one way of hashing an input set.
type contender struct {
	name    string
	command string                 // what runs, for the report
	missing string                 // why it is not timed ("not installed"); empty when it is
	run     func() (sample, error) // one timed execution
	samples []sample
}

// hashLoop is the floor: it reads every regular file under root (or root
// itself, when it is a file) once, on GOMAXPROCS workers fed through a
// channel by a directory walk, and writes every chunk to a fresh set of the
// hashes newHashes returns. Nothing else: no lookups, no output, no stat
// beyond the walk. It returns the bytes it hashed.
func hashLoop(root string, newHashes func() []hash.Hash) (int64, error) {
	paths := make(chan string, 1024)
	workers := runtime.GOMAXPROCS(0)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int64
		errs  []error
	)
	for range workers {
		wg.Go(func() {
			hs := newHashes()
			buf := make([]byte, 256<<10)
			sum := make([]byte, 0, 64)
			var n int64
			for path := range paths {
				m, err := hashFile(path, hs, buf, sum)
				n += m
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	walkErr := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			paths <- path
		}
		return err
	})
	close(paths)
	wg.Wait()
	return total, errors.Join(append(errs, walkErr)...)
}

func hashFile(path string, hs []hash.Hash, buf, sum []byte) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	for _, h := range hs {
		h.Reset()
	}
	var n int64
	for {
		m, err := f.Read(buf)
		if m > 0 {
			n += int64(m)
			for _, h := range hs {
				h.Write(buf[:m])
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
	}
	for _, h := range hs {
		h.Sum(sum[:0])
	}
	return n, nil
}

// loopContender times hashLoop over set and checks it read every byte.
func loopContender(name, command string, set *inputSet, newHashes func() []hash.Hash) *contender {
	return &contender{
		name:    name,
		command: command,
		run: func() (sample, error) {
			start, cpu := time.Now(), selfCPU()
			n, err := hashLoop(set.root, newHashes)
			wall := time.Since(start)
			if err == nil && n != set.bytes {
				err = fmt.Errorf("hashed %d bytes, want %d", n, set.bytes)
			}
			return sample{wall: wall, cpu: selfCPU() - cpu}, err
		},
	}
}

func blake3AndSHA256() []hash.Hash { return []hash.Hash{blake3.New(), sha256.New()} }
func sha256Only() []hash.Hash      { return []hash.Hash{sha256.New()} }

// runner starts child processes with stdout on /dev/null and stderr kept for
// the error message.
type runner struct {
	devNull *os.File
}

// run times one execution of argv and returns its wall time and peak RSS.
// An exit code outside okCodes is an error that shows the command's stderr.
func (r *runner) run(argv, env []string, okCodes ...int) (sample, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout = r.devNull
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	s := sample{wall: time.Since(start)}
	if cmd.ProcessState != nil {
		s.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			s.maxRSS = ru.Maxrss << 10 // KiB on Linux
			if runtime.GOOS == "darwin" {
				s.maxRSS = ru.Maxrss // bytes on macOS
			}
			s.rssBound = s.maxRSS <= selfPeakRSS()
		}
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		for _, c := range okCodes {
			if exit.ExitCode() == c {
				return s, nil
			}
		}
	}
	if err != nil {
		return s, fmt.Errorf("%s: %v\n%s", shortCommand(argv), err, tail(stderr.String(), 20))
	}
	return s, nil
}

// runBatches runs each command line in turn, as xargs does, and reports the
// total wall time and the largest peak RSS.
func (r *runner) runBatches(batches [][]string) (sample, error) {
	var total sample
	start := time.Now()
	for _, argv := range batches {
		s, err := r.run(argv, nil)
		if err != nil {
			return total, err
		}
		total.cpu += s.cpu
		if s.maxRSS > total.maxRSS {
			total.maxRSS, total.rssBound = s.maxRSS, s.rssBound
		}
	}
	total.wall = time.Since(start)
	return total, nil
}

// selfCPU is the user and system time this process has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// selfPeakRSS is this process's peak RSS in bytes. Go starts a child with
// vfork, so until exec the child runs in this process's memory, and Linux
// records that memory's peak as the child's starting peak: a child's ru_maxrss
// is never below this value. Keeping this process small keeps the children's
// numbers true.
func selfPeakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return ru.Maxrss
	}
	return ru.Maxrss << 10
}

// argBudget is how many bytes of arguments one command line may take: the
// kernel's limit on argv and envp together (ARG_MAX: a quarter of the stack
// limit, at least 128 KiB, at most 6 MiB) less this environment, which every
// child inherits, and 4 KiB of headroom.
func argBudget() int {
	limit := uint64(128 << 10)
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_STACK, &rl); err == nil {
		limit = max(min(rl.Cur/4, 6<<20), limit)
	}
	return int(limit) - argvCost(os.Environ()) - 4096
}

// argvCost is what strings take in a new process's argv or envp: each
// string's bytes, its NUL and a pointer.
func argvCost(args []string) int {
	n := 0
	for _, a := range args {
		n += len(a) + 1 + 8
	}
	return n
}

// batchArgs splits files into command lines, each fixed (program and flags)
// followed by as many files as fit budget bytes, in order. A file too long to
// fit with fixed still gets a command line of its own.
func batchArgs(fixed, files []string, budget int) [][]string {
	var batches [][]string
	base := argvCost(fixed)
	for len(files) > 0 {
		n, cost := 0, base
		for n < len(files) {
			c := argvCost(files[n : n+1])
			if n > 0 && cost+c > budget {
				break
			}
			cost += c
			n++
		}
		batch := append(append(make([]string, 0, len(fixed)+n), fixed...), files[:n]...)
		batches = append(batches, batch)
		files = files[n:]
	}
	return batches
}

// peer is a tool a user would pick instead of ksn.
type peer struct {
	name        string
	program     string
	flags       []string // before the paths
	recurse     []string // how it walks a directory itself; nil: give it the file list in batches
	versionArgs []string
}

// peers, in the order they are reported.
var peers = []peer{
	{name: "sha256sum", program: "sha256sum", versionArgs: []string{"--version"}},
	{name: "b3sum", program: "b3sum", versionArgs: []string{"--version"}},
	{name: "rhash --sha256", program: "rhash", flags: []string{"--sha256"}, recurse: []string{"-r"}, versionArgs: []string{"--version"}},
	{name: "hashdeep -c sha256", program: "hashdeep", flags: []string{"-c", "sha256"}, recurse: []string{"-r"}, versionArgs: []string{"-V"}},
}

// contender returns how p hashes set, and for the tree how many command lines
// the file list took (0 when p recurses itself).
func (p peer) contender(r *runner, set *inputSet) (*contender, int) {
	c := &contender{name: p.name}
	path, err := exec.LookPath(p.program)
	if err != nil {
		c.missing = "not installed"
		c.command = p.program + " (not in PATH)"
		return c, 0
	}
	fixed := append([]string{path}, p.flags...)
	if set.name == "tree" && p.recurse != nil {
		argv := append(append(fixed, p.recurse...), set.root)
		c.command = shortCommand(argv)
		c.run = func() (sample, error) { return r.run(argv, nil) }
		return c, 0
	}
	batches := batchArgs(fixed, set.files, argBudget())
	if len(set.files) == 1 {
		c.command = shortCommand(batches[0])
	} else {
		c.command = fmt.Sprintf("%s <%d file names>", shortCommand(fixed), len(set.files))
	}
	c.run = func() (sample, error) { return r.runBatches(batches) }
	return c, len(batches)
}

// version is the first line p prints about its version, or "".
func (p peer) version() string {
	path, err := exec.LookPath(p.program)
	if err != nil {
		return ""
	}
	out, err := exec.Command(path, p.versionArgs...).Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if !strings.Contains(strings.ToLower(line), p.program) {
		line = p.program + " " + line
	}
	return line
}

// ksnEnv is the environment for one ksn run: this one without any KSN_*
// setting of the user's, with home as KSN_HOME and the network's verdict
// cache off (KSN_NO_CACHE). Whether the stat cache helps is decided by
// home: a fresh or emptied one has none.
func ksnEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KSN_") {
			env = append(env, kv)
		}
	}
	return append(env, "KSN_HOME="+home, "KSN_NO_CACHE=1")
}

// ksnArgs is the command line timed for set.
func ksnArgs(ksn string, set *inputSet) []string {
	argv := []string{ksn, "check", "--hash", "blake3,sha256"}
	if set.name == "tree" {
		argv = append(argv, "-r")
	}
	return append(argv, set.root)
}

// shortCommand is argv for the report, at most a few words long.
func shortCommand(argv []string) string {
	words := append([]string{filepath.Base(argv[0])}, argv[1:]...)
	if len(words) > 6 {
		words = append(words[:5], fmt.Sprintf("... (%d more)", len(words)-5))
	}
	return strings.Join(words, " ")
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
