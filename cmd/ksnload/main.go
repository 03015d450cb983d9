// Command ksnload measures how many file lookups (and submissions) a
// running `ksn serve` answers, from a process of its own, against a
// ceiling: a minimal net/http server that answers the same batches from
// an in-memory map. Every figure comes with the CPU the generator itself
// used, because on a small machine the generator shares the cores with
// the server it measures.
//
//	ksnload matrix [-postgres URL]     # the whole table: SQLite, PostgreSQL 1 and 3 replicas, ceiling
//	ksnload ceiling -listen 127.0.0.1:0 -addr-file F
//	ksnload drive -target URL[,URL...] -key KEY [-batches 1,100,1000] [-clients 1,16,64]
//	ksnload submit -target URL[,URL...] -key KEY [-clients 64] [-batch 1000]
//	ksnload soak -target URL -key KEY -pid PID [-conns 256] [-duration 60s]
//	ksnload feed -indicators N > feed.txt   # the known digests, for ksn feed import --format known-good
//
// drive, submit and soak drive a server they did not start (several URLs
// are used in turn, as a round-robin load balancer would); matrix builds
// ksn, fills the databases, starts each server as its own process and
// drives them one after the other. Traffic goes to the given URLs only
// (loopback in matrix), every run is bounded in time, and it stops by
// itself.
//
// The generator imports only the wire types (pkg/api), never pkg/server or
// pkg/store, so that nothing in-process flatters the numbers.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

const usage = `usage: ksnload COMMAND [flags]

commands:
  matrix   measure SQLite, PostgreSQL (1 and 3 replicas) and the ceiling, and print the table
  ceiling  serve lookups from an in-memory map (the ceiling)
  drive    send lookups to a running server: batch sizes x clients, median of -repeat runs
  submit   send submission batches from many clients to a running server
  soak     hold many connections on a running server and watch its memory
  feed     print the known digests (a known-good feed)

'ksnload COMMAND -h' lists a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{
		"matrix":  runMatrix,
		"ceiling": runCeiling,
		"drive":   runDrive,
		"submit":  runSubmit,
		"soak":    runSoak,
		"feed":    runFeed,
	}
	fn, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err := fn(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "ksnload:", err)
		os.Exit(1)
	}
}

// intList is a flag of comma-separated integers.
type intList []int

func (l *intList) String() string {
	var s []string
	for _, n := range *l {
		s = append(s, strconv.Itoa(n))
	}
	return strings.Join(s, ",")
}

func (l *intList) Set(v string) error {
	*l = nil
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive integer", f)
		}
		*l = append(*l, n)
	}
	return nil
}

// corpusFlags are the flags that decide which digests a server knows: the
// ceiling, the feed and the generator must agree on them.
type corpusFlags struct {
	indicators int
	seed       string
	known      float64
}

func (c *corpusFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&c.indicators, "indicators", 100_000, "digests the server knows")
	fs.StringVar(&c.seed, "seed", "ksnload", "seed of the known digests")
	fs.Float64Var(&c.known, "known", 0.1, "share of looked-up files the server knows")
}

// targetFlags name a running server and a license of it.
type targetFlags struct {
	targets string
	key     string
}

func (t *targetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&t.targets, "target", "", "server `URL`s, comma-separated, used in turn")
	fs.StringVar(&t.key, "key", "", "license key (default: $KSNLOAD_KEY)")
}

func (t *targetFlags) urls() ([]string, string, error) {
	if t.targets == "" {
		return nil, "", fmt.Errorf("-target is required")
	}
	key := t.key
	if key == "" {
		key = os.Getenv("KSNLOAD_KEY")
	}
	return strings.Split(t.targets, ","), key, nil
}
