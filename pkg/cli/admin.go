package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/spf13/cobra"
)

// AdminOptions are what every `ksn admin` subcommand shares.
type AdminOptions struct {
	IO *term.IOStreams
	// DB is the server database; DefaultDB gives it when empty.
	DB        string
	DefaultDB func() (string, error)
	// Now is the clock that relative times (--expires 90d, --for 10m)
	// count from; tests set it.
	Now func() time.Time
	// Env reads the environment (KSN_KEK_FILE); nil reads nothing.
	Env func(string) string
}

func (o *AdminOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// open opens the server database. SQLite's WAL mode and busy timeout let
// an operator run this beside a running `ksn serve`.
func (o *AdminOptions) open(ctx context.Context) (*store.Server, error) {
	if o.DB == "" && o.DefaultDB != nil {
		p, err := o.DefaultDB()
		if err != nil {
			return nil, err
		}
		o.DB = p
	}
	db, err := store.OpenServer(ctx, o.DB)
	if err != nil {
		return nil, &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("cannot open the server database: %w", err)}
	}
	return db, nil
}

// NewCmdAdmin builds `ksn admin` and its subcommands.
func NewCmdAdmin(f *Factory) *cobra.Command {
	opts := &AdminOptions{IO: f.IO, DefaultDB: func() (string, error) { return serverDBPath(f) }, Env: f.Env}
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Manage a reputation server: licenses, verdict overrides, restrictions, retention",
		Long: `Manage the database of a reputation server ('ksn serve'): licenses, verdict
overrides, and the service-wide restriction of file reputation. Every
subcommand works while the server runs; the server sees changes at once
(restrictions within a second).

Feeds are loaded into the server database with
'ksn feed import --db <server database> FILE...'.

Submissions are kept sealed under a key per half-year and destroyed when the
half-year is over ('purge'; the server does it by itself), with aggregate
statistics kept ('stats'). 'keygen' makes the key-encryption key of a new
server, 'verify' checks that a key opens what is sealed.`,
	}
	cmd.PersistentFlags().StringVar(&opts.DB, "db", "", "server database `PATH` (default: server.db in the data directory)")
	cmd.AddCommand(newCmdAdminLicense(opts), newCmdAdminVerdict(opts), newCmdAdminRestrict(opts), newCmdAdminStats(opts),
		newCmdAdminKeygen(opts), newCmdAdminPurge(opts), newCmdAdminVerify(opts))
	return cmd
}

// parseExpiry turns --expires into a time: a duration from now, or
// "never" (nil).
func parseExpiry(now time.Time, s string) (*time.Time, error) {
	if s == "" || strings.EqualFold(s, "never") {
		return nil, nil
	}
	d, err := config.ParseDuration(s)
	if err != nil {
		return nil, usageError("e.g. --expires 90d, or never", "--expires: %v", err)
	}
	t := now.Add(d).UTC().Truncate(time.Second)
	return &t, nil
}

func newCmdAdminLicense(opts *AdminOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "license",
		Short: "Create, list, revoke and extend license keys",
	}
	var label, expires string
	var createJSON bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a license and print its key (shown only this once)",
		Long: `Create a license and print its key on standard output. The server stores only
the key's SHA-256, so the key cannot be shown again: hand it to the user,
who runs 'ksn license activate <key>'.`,
		Example: `  ksn admin license create --label "build farm" --expires 90d`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLicenseCreate(orBackground(cmd.Context()), opts, label, expires, createJSON)
		},
	}
	create.Flags().StringVar(&label, "label", "", "a name for the license (who or what uses it)")
	create.Flags().StringVar(&expires, "expires", "", "`DURATION` until it expires (e.g. 90d); default never")
	create.Flags().BoolVar(&createJSON, "json", false, "print id, key, label and expiry as JSON")

	var listJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List licenses (never their keys)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLicenseList(orBackground(cmd.Context()), opts, listJSON)
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print a JSON array")

	revoke := &cobra.Command{
		Use:   "revoke <key-or-id>",
		Short: "Denylist a license: the server refuses its key from now on (final)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLicenseRevoke(orBackground(cmd.Context()), opts, args[0])
		},
	}

	var extendTo string
	extend := &cobra.Command{
		Use:     "extend <key-or-id> --expires DURATION",
		Short:   "Set when a license expires, counted from now (or never)",
		Example: "  ksn admin license extend 3 --expires 30d\n  ksn admin license extend 3 --expires never",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLicenseExtend(orBackground(cmd.Context()), opts, args[0], extendTo)
		},
	}
	extend.Flags().StringVar(&extendTo, "expires", "", "`DURATION` from now (e.g. 30d), or never")
	_ = extend.MarkFlagRequired("expires")

	cmd.AddCommand(create, list, revoke, extend)
	return cmd
}

// licenseJSONOut is the documented schema of `ksn admin license` JSON
// output. Key is only ever set by create.
type licenseJSONOut struct {
	ID        int64      `json:"id"`
	Key       string     `json:"key,omitempty"`
	Label     string     `json:"label"`
	State     string     `json:"state"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

func licenseOut(l store.License, now time.Time) licenseJSONOut {
	return licenseJSONOut{ID: l.ID, Label: l.Label, State: l.State(now), CreatedAt: l.CreatedAt,
		ExpiresAt: l.ExpiresAt, RevokedAt: l.RevokedAt}
}

func runLicenseCreate(ctx context.Context, opts *AdminOptions, label, expires string, asJSON bool) error {
	now := opts.now()
	exp, err := parseExpiry(now, expires)
	if err != nil {
		return err
	}
	db, err := opts.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	key, l, err := db.CreateLicense(ctx, label, exp)
	if err != nil {
		return err
	}
	if asJSON {
		out := licenseOut(l, now)
		out.Key = key
		return writeJSONLine(opts.IO, out)
	}
	fmt.Fprintln(opts.IO.Out, key)
	fmt.Fprintf(opts.IO.ErrOut, "ksn: license %d created (expires %s); the key above is shown only now\n", l.ID, expiryText(l.ExpiresAt))
	opts.IO.Hint("on the client: ksn license activate <key>")
	return nil
}

func expiryText(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

func runLicenseList(ctx context.Context, opts *AdminOptions, asJSON bool) error {
	db, err := opts.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	ls, err := db.ListLicenses(ctx)
	if err != nil {
		return err
	}
	now := opts.now()
	if asJSON {
		out := make([]licenseJSONOut, 0, len(ls))
		for _, l := range ls {
			out = append(out, licenseOut(l, now))
		}
		return writeJSONLine(opts.IO, out)
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tCREATED\tEXPIRES\tLABEL")
	for _, l := range ls {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", l.ID, l.State(now), l.CreatedAt.UTC().Format(time.RFC3339),
			expiryText(l.ExpiresAt), term.SafeText(l.Label))
	}
	return tw.Flush()
}

// notFound maps store.ErrNotFound to a usage error (exit 2): the operator
// named something that does not exist.
func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return &exitcode.Error{Code: exitcode.Usage, Err: err, Hint: "see 'ksn admin license list'"}
	}
	if errors.Is(err, store.ErrBadLicenseRef) {
		return &exitcode.Error{Code: exitcode.Usage, Err: err}
	}
	return err
}

func runLicenseRevoke(ctx context.Context, opts *AdminOptions, keyOrID string) error {
	db, err := opts.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	l, err := db.RevokeLicense(ctx, keyOrID)
	if err != nil {
		return notFound(err)
	}
	fmt.Fprintf(opts.IO.Out, "license %d denylisted\n", l.ID)
	return nil
}

func runLicenseExtend(ctx context.Context, opts *AdminOptions, keyOrID, expires string) error {
	now := opts.now()
	if expires == "" {
		return usageError("e.g. --expires 30d, or never", "--expires is required")
	}
	exp, err := parseExpiry(now, expires)
	if err != nil {
		return err
	}
	db, err := opts.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	l, err := db.ExtendLicense(ctx, keyOrID, exp)
	if err != nil {
		return notFound(err)
	}
	fmt.Fprintf(opts.IO.Out, "license %d expires %s\n", l.ID, expiryText(l.ExpiresAt))
	if l.State(now) == store.LicenseDenylisted {
		opts.IO.Warnf("license %d is denylisted; a new expiry does not lift that", l.ID)
	}
	return nil
}

func newCmdAdminVerdict(opts *AdminOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verdict",
		Short: "Pin or remove an operator's verdict on a file digest (wins over every feed)",
	}
	var name, category, alg string
	set := &cobra.Command{
		Use:   "set <digest> <verdict>",
		Short: "Pin a verdict (malicious, suspicious, clean, unknown) on a digest",
		Long: `Pin a verdict on a file digest, given in hex. The algorithm follows from the
length (64: SHA-256, 40: SHA-1, 32: MD5); a 64-character BLAKE3 digest needs
--algorithm blake3. The override wins over every feed, also in answers the
running server gives.`,
		Example: `  ksn admin verdict set 275a021b...0f malicious --name EICAR-Test-File
  ksn admin verdict set <sha256> clean   # correct a false positive`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerdictSet(orBackground(cmd.Context()), opts, args[0], args[1], alg, name, category)
		},
	}
	set.Flags().StringVar(&name, "name", "", "threat name to report")
	set.Flags().StringVar(&category, "category", "", "category to report (e.g. trojan, pua)")
	set.Flags().StringVar(&alg, "algorithm", "", "digest algorithm (blake3, sha256, sha1, md5); default by length")

	var unsetAlg string
	unset := &cobra.Command{
		Use:   "unset <digest>",
		Short: "Remove the override of a digest; the feeds' verdicts apply again",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerdictUnset(orBackground(cmd.Context()), opts, args[0], unsetAlg)
		},
	}
	unset.Flags().StringVar(&unsetAlg, "algorithm", "", "digest algorithm (blake3, sha256, sha1, md5); default by length")
	cmd.AddCommand(set, unset)
	return cmd
}

// parseDigestArg decodes a hex digest and decides its algorithm: --algorithm
// when given, else by length (SHA-256 for 64 characters: feeds publish
// SHA-256 far more often than BLAKE3).
func parseDigestArg(s, algFlag string) (checksum.Algorithm, []byte, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return "", nil, usageError("", "%q is not a hex digest", term.SafeText(s))
	}
	var alg checksum.Algorithm
	if algFlag != "" {
		if alg, err = checksum.ParseAlgorithm(algFlag); err != nil {
			return "", nil, usageError("", "--algorithm: %v", err)
		}
	} else {
		switch len(b) {
		case 32:
			alg = checksum.SHA256
		case 20:
			alg = checksum.SHA1
		case 16:
			alg = checksum.MD5
		default:
			return "", nil, usageError("", "a digest of %d hex characters is neither SHA-256 (64), SHA-1 (40) nor MD5 (32)", 2*len(b))
		}
	}
	if len(b) != alg.Size() {
		return "", nil, usageError("", "a %s digest has %d hex characters, not %d", alg, 2*alg.Size(), 2*len(b))
	}
	return alg, b, nil
}

func runVerdictSet(ctx context.Context, opts *AdminOptions, digest, verdict, algFlag, name, category string) error {
	alg, b, err := parseDigestArg(digest, algFlag)
	if err != nil {
		return err
	}
	v, err := reputation.ParseVerdict(verdict)
	if err != nil {
		return usageError("", "%v", err)
	}
	db, err := opts.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.SetOverride(ctx, reputation.FileIndicator{
		Algorithm: alg, Digest: b, Size: -1, Verdict: v, ThreatName: name, Category: category,
	}); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "%s %x: %s (override)\n", alg, b, v)
	return nil
}

func runVerdictUnset(ctx context.Context, opts *AdminOptions, digest, algFlag string) error {
	alg, b, err := parseDigestArg(digest, algFlag)
	if err != nil {
		return err
	}
	db, err := opts.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.UnsetOverride(ctx, alg, b); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return &exitcode.Error{Code: exitcode.Usage, Err: err}
		}
		return err
	}
	fmt.Fprintf(opts.IO.Out, "%s %x: override removed\n", alg, b)
	return nil
}

func newCmdAdminRestrict(opts *AdminOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "restrict",
		Short: "Switch file reputation off service-wide for a while, or back on",
		Long: `Switch file reputation off service-wide: the server answers file lookups with
503 "restricted" and a Retry-After until the time is up, and clients fall
back to their local verdicts. Useful while a bad feed is being corrected.
Running servers notice within a second.`,
	}
	var dur string
	files := &cobra.Command{
		Use:     "files --for DURATION",
		Short:   "Restrict file reputation for DURATION",
		Example: "  ksn admin restrict files --for 10m",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRestrictFiles(orBackground(cmd.Context()), opts, dur)
		},
	}
	files.Flags().StringVar(&dur, "for", "", "how long (e.g. 10m, 2h, 1d)")
	_ = files.MarkFlagRequired("for")
	off := &cobra.Command{
		Use:   "off",
		Short: "Lift the restriction",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRestrictOff(orBackground(cmd.Context()), opts)
		},
	}
	cmd.AddCommand(files, off)
	return cmd
}

func runRestrictFiles(ctx context.Context, opts *AdminOptions, dur string) error {
	d, err := config.ParseDuration(dur)
	if err != nil {
		return usageError("e.g. --for 10m", "--for: %v", err)
	}
	if d <= 0 {
		return usageError("to lift a restriction: ksn admin restrict off", "--for must be more than 0")
	}
	db, err := opts.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	until := opts.now().Add(d)
	if err := db.SetRestriction(ctx, until); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "file reputation restricted until %s\n", until.UTC().Truncate(time.Second).Format(time.RFC3339))
	return nil
}

func runRestrictOff(ctx context.Context, opts *AdminOptions) error {
	db, err := opts.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.SetRestriction(ctx, time.Time{}); err != nil {
		return err
	}
	fmt.Fprintln(opts.IO.Out, "file reputation available")
	return nil
}

func newCmdAdminStats(opts *AdminOptions) *cobra.Command {
	var asJSON bool
	var so statsOptions
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Count licenses, submissions and indicators; show the aggregate statistics",
		Long: `Count licenses, sealed submissions (per half-year, and the half-years
purged) and indicators; show the restriction; and show the aggregate
statistics kept of every submission: records per kind and per day, scan
times per size class (mean and percentiles), system configurations, and the
objects most participants reported (by digest). Nothing original is shown,
and no key is needed.

A participant is counted once per object per half-year, and the counts are
summed over half-years: an installation reporting a file in two half-years
counts twice (its code changes every half-year, by design).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAdminStats(orBackground(cmd.Context()), opts, asJSON, so)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.Flags().IntVar(&so.Days, "days", 14, "daily counts of the last `N` days (0: all)")
	cmd.Flags().IntVar(&so.Top, "top", 10, "show the `N` objects most participants reported")
	return cmd
}

// statsOptions are the bounds of `ksn admin stats`.
type statsOptions struct {
	Days, Top int
}

// statsJSON is the documented schema of `ksn admin stats --json`.
type statsJSON struct {
	Licenses        int            `json:"licenses"`
	Submissions     int            `json:"submissions"` // sealed records held
	Sealed          []heldJSON     `json:"sealed"`      // per half-year held
	Purged          []purgedJSON   `json:"purged"`      // half-years destroyed
	Indicators      map[string]int `json:"indicators"`  // file indicators by source
	Links           map[string]int `json:"links"`       // link indicators by source
	RestrictedUntil *time.Time     `json:"files_restricted_until"`
	Aggregates      aggregatesJSON `json:"aggregates"`
}

func runAdminStats(ctx context.Context, opts *AdminOptions, asJSON bool, so statsOptions) error {
	if so.Days < 0 || so.Top < 0 {
		return usageError("", "--days and --top must be 0 or more")
	}
	db, err := opts.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := db.Stats(ctx)
	if err != nil {
		return err
	}
	agg, err := db.Aggregates(ctx, store.AggregateOptions{Days: so.Days, Top: so.Top})
	if err != nil {
		return err
	}
	sealed, err := db.SealedCounts(ctx)
	if err != nil {
		return err
	}
	purged, err := db.PurgedHalfYears(ctx)
	if err != nil {
		return err
	}
	out := statsJSON{Licenses: st.Licenses, Submissions: st.Submissions, Sealed: []heldJSON{}, Purged: []purgedJSON{},
		Indicators: st.Indicators, Links: st.Links, Aggregates: aggregatesOut(agg)}
	for _, h := range sealed {
		out.Sealed = append(out.Sealed, heldJSON{h.HalfYear, h.Records, purgeAfter(h.HalfYear, 0)})
	}
	for _, p := range purged {
		out.Purged = append(out.Purged, purgedJSON{p.HalfYear, p.Records, p.ParticipantRows, p.PurgedAt})
	}
	var until *time.Time
	if !st.RestrictedUntil.IsZero() && opts.now().Before(st.RestrictedUntil) {
		until = &st.RestrictedUntil
	}
	if asJSON {
		out.RestrictedUntil = until
		return writeJSONLine(opts.IO, out)
	}
	fmt.Fprintf(opts.IO.Out, "database     %s\n", db.Path())
	fmt.Fprintf(opts.IO.Out, "licenses     %d\n", st.Licenses)
	fmt.Fprintf(opts.IO.Out, "submissions  %d\n", st.Submissions)
	for _, h := range out.Sealed {
		fmt.Fprintf(opts.IO.Out, "sealed       %s: %d records (the half-year ends %s)\n", h.HalfYear, h.Records, h.Ends.Format(time.DateOnly))
	}
	for _, p := range out.Purged {
		fmt.Fprintf(opts.IO.Out, "purged       %s: %d records, on %s\n", p.HalfYear, p.Records, p.PurgedAt.Format(time.DateOnly))
	}
	for _, c := range []struct {
		label  string
		counts map[string]int
	}{{"indicators", st.Indicators}, {"links", st.Links}} {
		sources := make([]string, 0, len(c.counts))
		for src := range c.counts {
			sources = append(sources, src)
		}
		slices.Sort(sources)
		for _, src := range sources {
			fmt.Fprintf(opts.IO.Out, "%-12s %d (%s)\n", c.label, c.counts[src], term.SafeText(src))
		}
	}
	if until != nil {
		fmt.Fprintf(opts.IO.Out, "files        restricted until %s\n", until.UTC().Format(time.RFC3339))
	} else {
		fmt.Fprintln(opts.IO.Out, "files        available")
	}
	return printAggregates(opts, out.Aggregates)
}

// writeJSONLine prints v as one line of JSON.
func writeJSONLine(ios *term.IOStreams, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(ios.Out, "%s\n", b)
	return err
}
