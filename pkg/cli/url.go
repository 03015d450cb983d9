package cli

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/client"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/participation"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/ksnproject/ksn/pkg/urlcanon"
	"github.com/spf13/cobra"
)

// URLOptions are `ksn url`'s flags and dependencies.
type URLOptions struct {
	IO        *term.IOStreams
	OpenStore func(ctx context.Context) (store.Store, error)
	Consent   func(ctx context.Context) (*consent, error) // nil collects nothing
	NewClient func(*consent) (*client.Client, error)      // nil: local verdicts only

	Links   []string // as given; "-" reads links from standard input
	JSON    bool
	Explain bool
	FailOn  reputation.Verdict
	Version string
}

// maxLinkLength bounds one link read from standard input: real links are
// far shorter, and a stream without newlines must not be buffered whole.
const maxLinkLength = 64 << 10

// NewCmdURL builds `ksn url`.
func NewCmdURL(f *Factory, runF func(*URLOptions) error) *cobra.Command {
	opts := &URLOptions{IO: f.IO}
	var failOn string
	cmd := &cobra.Command{
		Use:   "url [flags] <link>...",
		Short: "Look up the reputation of links without revealing them",
		Long: `Look up the reputation of links, in the local reputation database and, while
you participate, in the reputation network, without the network learning
the link.

Each link is put in canonical form (as Safe Browsing defines it: lower-case
host, IDNs in Punycode, IPv4 in dotted decimal, "." and ".." resolved, the
fragment, the port and any user name and password dropped). From it come up
to 30 expressions (host suffixes times path prefixes, such as
"evil.example/" and "evil.example/dl/x.exe"); the SHA-256 of each is
matched against the lists. The network is sent only the first 4 bytes of
those hashes, and answers with the full hashes it lists under them; the
match is made on this machine. Expressions that hold a query or a
token-like path segment are matched locally only, and nothing of a link to
a private network (a local address, an intranet name) is sent at all.

Links come from the arguments, or one a line from standard input ('-', or
no arguments with standard input not a terminal).

--explain shows, for each link, the canonical form, every expression with
its hash, the prefixes a lookup would send and the redacted form a
submission would carry, and sends nothing: its verdicts are local.`,
		Example: `  ksn url https://example.com/login
  ksn url --explain 'http://user:pw@Example.COM/a/../b?token=1#top'
  grep -o 'https\?://[^ ]*' mail.txt | ksn url --json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := reputation.ParseVerdict(failOn)
			if err != nil || (v != reputation.Suspicious && v != reputation.Malicious) {
				return usageError("use --fail-on malicious (the default) or --fail-on suspicious", "--fail-on: %q is not a threat level", failOn)
			}
			opts.FailOn = v
			opts.Links = args
			if len(args) == 0 {
				if f.IO.IsStdinTTY() {
					return usageError("name links, or pipe them in one a line", "no link to check")
				}
				opts.Links = []string{"-"}
			}
			stdins := 0
			for _, a := range opts.Links {
				if a == "-" {
					stdins++
				}
			}
			if stdins > 1 {
				return usageError("", "'-' (standard input) may be given once")
			}
			opts.OpenStore = f.OpenLocalStore
			opts.Consent = func(ctx context.Context) (*consent, error) { return loadConsent(ctx, f) }
			opts.NewClient = func(c *consent) (*client.Client, error) { return newClient(f, c) }
			opts.Version = f.Version
			if runF != nil {
				return runF(opts)
			}
			return runURL(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.JSON, "json", false, "print one JSON object per link (NDJSON), in input order")
	fl.BoolVar(&opts.Explain, "explain", false, "show what a lookup and a submission would send, and send nothing")
	fl.StringVar(&failOn, "fail-on", "malicious", "exit 1 when a link is at least this bad: malicious or suspicious")
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions([]string{"malicious", "suspicious"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// link is one input and what ksn learned of it.
type link struct {
	Input     string
	Canonical urlcanon.Canonical
	Lookup    urlcanon.Lookup
	Err       error
	Result    reputation.Result
	Matched   []string // the expressions that matched, in Lookup order
	Elapsed   time.Duration
}

// urlBatch is how many links are looked up, printed and recorded at once:
// a stream of a million links is checked in constant memory.
const urlBatch = 1000

func runURL(ctx context.Context, opts *URLOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	db, err := opts.OpenStore(ctx)
	if err != nil {
		return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("cannot open the reputation database: %w", err),
			Hint: "check that ksn's data directory is writable, or set KSN_HOME to another directory"}
	}
	defer db.Close()

	// --explain is a dry run: no request, no record.
	var col *collector
	var net *network
	if !opts.Explain {
		col = newCollector(ctx, opts.IO, opts.Consent, opts.Version)
		defer col.close()
		net = openNetwork(ctx, networkDeps{IO: opts.IO, NewClient: opts.NewClient}, col.consent, db)
	}

	out := bufio.NewWriter(opts.IO.Out)
	threats, failed := 0, 0
	check := func(links []link) error {
		start := time.Now()
		if err := lookupLinksLocally(ctx, db, links); err != nil {
			return fmt.Errorf("reading the reputation database: %w", err)
		}
		if net.permitted(ctx) {
			net.err = lookupLinksOnNetwork(ctx, net.cl, links)
		}
		// The lookups are batched, so a link's share of its batch is the
		// honest "time spent checking it".
		for i := range links {
			links[i].Elapsed = time.Since(start) / time.Duration(len(links))
		}
		for _, l := range links {
			switch {
			case l.Err != nil:
				failed++
			case l.Result.Verdict.Severity() >= opts.FailOn.Severity():
				threats++
			}
			if opts.JSON {
				if err := writeLinkJSON(out, l, opts.Explain); err != nil {
					return err
				}
			} else {
				writeLinkHuman(out, opts.IO.Styles(), l, opts.Explain)
			}
		}
		if col != nil {
			col.addRecords(linkRecords(links)...)
		}
		return out.Flush()
	}
	batch := make([]link, 0, urlBatch)
	err = readLinks(opts, func(l link) error {
		batch = append(batch, l)
		if len(batch) < urlBatch {
			return nil
		}
		err := check(batch)
		batch = batch[:0]
		return err
	})
	if err == nil && len(batch) > 0 {
		err = check(batch)
	}
	if err != nil {
		return err
	}

	if col != nil {
		col.flush()
		col.wait()
		net.deliver(ctx, col)
	}
	switch {
	case threats > 0:
		return exitcode.Silent(exitcode.Threat)
	case failed > 0:
		return exitcode.New(exitcode.Usage, "%s could not be checked", plural(failed, "link"))
	case net != nil && net.err != nil:
		return net.failure()
	}
	return nil
}

// readLinks canonicalises every input and hands it to emit, reading '-'
// from standard input one link a line (blank lines and lines starting with
// '#' are skipped; a line longer than maxLinkLength is an input error of
// its own, and the lines after it are still read).
func readLinks(opts *URLOptions, emit func(link) error) error {
	add := func(raw string) error {
		l := link{Input: raw}
		l.Canonical, l.Err = urlcanon.Canonicalize(raw)
		if l.Err == nil {
			l.Lookup = l.Canonical.Lookup()
		} else {
			l.Err = errors.New(strings.TrimPrefix(l.Err.Error(), "urlcanon: "))
		}
		return emit(l)
	}
	for _, a := range opts.Links {
		if a != "-" {
			if err := add(a); err != nil {
				return err
			}
			continue
		}
		r := bufio.NewReaderSize(opts.IO.In, 64<<10)
		for n := 1; ; n++ {
			line, tooLong, err := readLine(r, maxLinkLength)
			if err == io.EOF {
				break
			}
			if err != nil {
				return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("reading links from standard input: %w", err)}
			}
			if tooLong {
				l := link{Input: fmt.Sprintf("(line %d)", n), Err: fmt.Errorf("longer than %d KiB: not a link ksn checks", maxLinkLength>>10)}
				if err := emit(l); err != nil {
					return err
				}
				continue
			}
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if err := add(line); err != nil {
				return err
			}
		}
	}
	return nil
}

// readLine reads one line without its terminator, holding at most max
// bytes of it: a longer line is read to its end, discarded and reported.
func readLine(r *bufio.Reader, max int) (line string, tooLong bool, err error) {
	var b []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(b)+len(chunk) > max+2 { // room for "\r\n"
			tooLong, b = true, b[:0]
		} else if !tooLong {
			b = append(b, chunk...)
		}
		switch err {
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			if len(b) == 0 && !tooLong {
				return "", false, io.EOF
			}
		case nil:
		default:
			return "", false, err
		}
		break
	}
	if tooLong {
		return "", true, nil
	}
	return strings.TrimRight(string(b), "\r\n"), false, nil
}

// lookupLinksLocally matches every expression hash of every link against
// the local database in one query.
func lookupLinksLocally(ctx context.Context, db store.Store, links []link) error {
	var hashes []store.URLHash
	for _, l := range links {
		for _, e := range l.Lookup.Entries {
			hashes = append(hashes, e.Full)
		}
	}
	found, err := db.LookupURLs(ctx, hashes)
	if err != nil {
		return err
	}
	for i := range links {
		l := &links[i]
		l.Result = reputation.Result{Verdict: reputation.Unknown}
		var inds []reputation.URLSourced
		for _, e := range l.Lookup.Entries {
			if m := found[e.Full]; len(m) > 0 {
				inds = append(inds, m...)
				l.Matched = append(l.Matched, e.Expression)
			}
		}
		if len(inds) > 0 {
			l.Result = reputation.MergeURLs(inds)
		}
	}
	return nil
}

// lookupLinksOnNetwork sends the distinct prefixes of every link, matches
// the full hashes that come back against each link's own, and lets a
// network verdict win over feeds as for files (DESIGN §2).
func lookupLinksOnNetwork(ctx context.Context, cl *client.Client, links []link) error {
	var prefixes [][4]byte
	seen := map[[4]byte]bool{}
	for _, l := range links {
		for _, p := range l.Lookup.Prefixes {
			if !seen[p] {
				seen[p] = true
				prefixes = append(prefixes, p)
			}
		}
	}
	if len(prefixes) == 0 {
		return nil
	}
	ans, err := cl.LookupURLs(ctx, prefixes)
	if err != nil {
		return err
	}
	for i := range links {
		l := &links[i]
		if hasSource(l.Result, reputation.OverrideSource) {
			continue
		}
		var hits []reputation.Sourced
		for _, e := range l.Lookup.Entries {
			m, ok := ans.Verdicts[e.Full]
			if !ok {
				continue
			}
			v, _ := reputation.ParseVerdict(m.Verdict) // checked by the client
			hits = append(hits, reputation.Sourced{Source: "network", FileIndicator: reputation.FileIndicator{
				Verdict: v, ThreatName: m.Threat, Category: m.Category, Size: -1}})
			if !slices.Contains(l.Matched, e.Expression) {
				l.Matched = append(l.Matched, e.Expression)
			}
		}
		if len(hits) == 0 {
			continue
		}
		best := reputation.Merge(hits)
		l.Result = mergeNetwork(l.Result, api.FileResult{Verdict: string(best.Verdict), Threat: best.ThreatName, Category: best.Category})
	}
	return nil
}

// linkRecords makes the outbox record of each link that could be checked,
// on a public host: its redacted form, the verdict and the time spent,
// nothing else.
func linkRecords(links []link) []participation.Record {
	var recs []participation.Record
	now := time.Now().UTC()
	for _, l := range links {
		// A link of a private network is not the network's business; a
		// redacted link too long to be accepted would block the outbox.
		if l.Err != nil || l.Canonical.Private() {
			continue
		}
		redacted := urlcanon.Redact(l.Canonical)
		if len(redacted) > api.MaxRecordURL {
			continue
		}
		r, err := participation.NewRecord(participation.KindURL, participation.URLObservation{
			URL: redacted, Verdict: string(l.Result.Verdict),
			CheckMS: float64(l.Elapsed.Microseconds()) / 1000,
		}, now)
		if err == nil {
			recs = append(recs, r)
		}
	}
	return recs
}

func writeLinkHuman(w io.Writer, s *term.Styles, l link, explain bool) {
	if l.Err != nil {
		fmt.Fprintf(w, "%s%s  %s\n", s.Badge("error"), term.SafeText(l.Input), s.Dim.Render(l.Err.Error()))
		return
	}
	line := s.Badge(string(l.Result.Verdict)) + term.SafeText(l.Canonical.URL)
	if l.Result.ThreatName != "" {
		line += "  " + s.Bold.Render(term.SafeText(l.Result.ThreatName))
	}
	if len(l.Result.Sources) > 0 {
		line += "  " + s.Dim.Render("("+strings.Join(l.Result.Sources, ", ")+")")
	}
	fmt.Fprintln(w, line)
	if !explain {
		return
	}
	c := l.Canonical
	fmt.Fprintf(w, "  canonical   %s\n", term.SafeText(c.URL))
	if removed := removedParts(c); removed != "" {
		fmt.Fprintf(w, "  removed     %s (never used, never sent)\n", removed)
	}
	fmt.Fprintf(w, "  expressions %d (SHA-256; * matched; only the first 4 bytes of the others than \"local\" are sent):\n", len(l.Lookup.Entries))
	for _, e := range l.Lookup.Entries {
		mark, local := " ", ""
		if slices.Contains(l.Matched, e.Expression) {
			mark = "*"
		}
		if e.Local {
			local = "  (local: it holds a query or a token)"
		}
		fmt.Fprintf(w, "   %s %s  %s%s\n", mark, e.Full, term.SafeText(e.Expression), local)
	}
	var ps []string
	for _, p := range l.Lookup.Prefixes {
		ps = append(ps, p.String())
	}
	noun := "prefixes"
	if len(ps) == 1 {
		noun = "prefix"
	}
	fmt.Fprintf(w, "  lookup      would send %d %s: %s\n", len(ps), noun, strings.Join(ps, " "))
	fmt.Fprintf(w, "  submission  would carry %s\n", term.SafeText(urlcanon.Redact(c)))
}

// removed lists what canonicalisation dropped from the input, by the
// names --json gives them ("userinfo", "port", "fragment").
func removed(c urlcanon.Canonical) []string {
	parts := []string{}
	if c.HadUserinfo {
		parts = append(parts, "userinfo")
	}
	if c.Port != "" {
		parts = append(parts, "port")
	}
	if c.HadFragment {
		parts = append(parts, "fragment")
	}
	return parts
}

// removedParts says in words what canonicalisation dropped.
func removedParts(c urlcanon.Canonical) string {
	words := map[string]string{"userinfo": "user name and password", "port": "port " + c.Port, "fragment": "fragment"}
	parts := removed(c)
	for i, p := range parts {
		parts[i] = words[p]
	}
	return strings.Join(parts, ", ")
}

// linkJSON is the documented NDJSON schema of `ksn url --json` (README,
// "JSON output of ksn url"). Fields are only ever added.
type linkJSON struct {
	Input     string       `json:"input"`
	Status    string       `json:"status"` // ok or error
	URL       string       `json:"url,omitempty"`
	Verdict   string       `json:"verdict,omitempty"`
	Threat    string       `json:"threat,omitempty"`
	Category  string       `json:"category,omitempty"`
	Sources   []string     `json:"sources,omitempty"`
	FirstSeen *time.Time   `json:"first_seen,omitempty"`
	LastSeen  *time.Time   `json:"last_seen,omitempty"`
	Matched   []string     `json:"matched,omitempty"`
	Error     string       `json:"error,omitempty"`
	Explain   *explainJSON `json:"explain,omitempty"`
}

type explainJSON struct {
	Canonical   string           `json:"canonical"`
	Removed     []string         `json:"removed"`
	Expressions []expressionJSON `json:"expressions"`
	Prefixes    []string         `json:"prefixes"`
	Submission  string           `json:"submission"`
}

type expressionJSON struct {
	Expression string `json:"expression"`
	SHA256     string `json:"sha256"`
	Prefix     string `json:"prefix"`
	Local      bool   `json:"local"` // matched locally only; its prefix is never sent
}

func writeLinkJSON(w io.Writer, l link, explain bool) error {
	j := linkJSON{Input: l.Input, Status: "ok"}
	if l.Err != nil {
		j.Status, j.Error = "error", l.Err.Error()
	} else {
		r := l.Result
		j.URL, j.Verdict, j.Threat, j.Category, j.Sources, j.Matched = l.Canonical.URL, string(r.Verdict), r.ThreatName, r.Category, r.Sources, l.Matched
		j.FirstSeen, j.LastSeen = optUTC(r.FirstSeen), optUTC(r.LastSeen)
		if explain {
			c := l.Canonical
			x := &explainJSON{Canonical: c.URL, Removed: removed(c), Submission: urlcanon.Redact(c)}
			for _, e := range l.Lookup.Entries {
				x.Expressions = append(x.Expressions, expressionJSON{e.Expression, hex.EncodeToString(e.Full[:]), e.Prefix.String(), e.Local})
			}
			for _, p := range l.Lookup.Prefixes {
				x.Prefixes = append(x.Prefixes, p.String())
			}
			j.Explain = x
		}
	}
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func optUTC(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
