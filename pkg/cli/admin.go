package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/server"
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

// admin returns the server's administration over the chosen database.
// SQLite's WAL mode and busy timeout let an operator run it beside a
// running `ksn serve`.
func (o *AdminOptions) admin() *server.Admin {
	return &server.Admin{DB: o.DB, DefaultDB: o.DefaultDB, Now: o.Now, Warn: func(msg string) { o.IO.Warnf("%s", msg) }}
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

// parseExpiry turns --expires into an expiry: a duration from now, or
// "never".
func parseExpiry(s string) (server.Expiry, error) {
	if s == "" || strings.EqualFold(s, "never") {
		return server.Expiry{Never: true}, nil
	}
	d, err := config.ParseDuration(s)
	if err != nil {
		return server.Expiry{}, usageError("e.g. --expires 90d, or never", "--expires: %v", err)
	}
	return server.Expiry{In: d}, nil
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

func licenseOut(l server.LicenseStatus) licenseJSONOut {
	return licenseJSONOut{ID: l.ID, Label: l.Label, State: l.State, CreatedAt: l.CreatedAt,
		ExpiresAt: l.ExpiresAt, RevokedAt: l.RevokedAt}
}

func runLicenseCreate(ctx context.Context, opts *AdminOptions, label, expires string, asJSON bool) error {
	exp, err := parseExpiry(expires)
	if err != nil {
		return err
	}
	key, l, err := opts.admin().CreateLicense(ctx, label, exp)
	if err != nil {
		return err
	}
	if asJSON {
		out := licenseOut(l)
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
	ls, err := opts.admin().ListLicenses(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		out := make([]licenseJSONOut, 0, len(ls))
		for _, l := range ls {
			out = append(out, licenseOut(l))
		}
		return writeJSONLine(opts.IO, out)
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tCREATED\tEXPIRES\tLABEL")
	for _, l := range ls {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", l.ID, l.State, l.CreatedAt.UTC().Format(time.RFC3339),
			expiryText(l.ExpiresAt), term.SafeText(l.Label))
	}
	return tw.Flush()
}

func runLicenseRevoke(ctx context.Context, opts *AdminOptions, keyOrID string) error {
	l, err := opts.admin().RevokeLicense(ctx, keyOrID)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "license %d denylisted\n", l.ID)
	return nil
}

func runLicenseExtend(ctx context.Context, opts *AdminOptions, keyOrID, expires string) error {
	if expires == "" {
		return usageError("e.g. --expires 30d, or never", "--expires is required")
	}
	exp, err := parseExpiry(expires)
	if err != nil {
		return err
	}
	l, err := opts.admin().ExtendLicense(ctx, keyOrID, exp)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "license %d expires %s\n", l.ID, expiryText(l.ExpiresAt))
	if l.State == server.LicenseDenylisted {
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

func runVerdictSet(ctx context.Context, opts *AdminOptions, digest, verdict, algFlag, name, category string) error {
	p, err := opts.admin().SetOverride(ctx, server.Override{Digest: digest, Algorithm: algFlag, Verdict: verdict, ThreatName: name, Category: category})
	if err != nil {
		return digestError(err, digest)
	}
	fmt.Fprintf(opts.IO.Out, "%s %x: %s (override)\n", p.Algorithm, p.Digest, p.Verdict)
	return nil
}

func runVerdictUnset(ctx context.Context, opts *AdminOptions, digest, algFlag string) error {
	p, err := opts.admin().UnsetOverride(ctx, digest, algFlag)
	if err != nil {
		return digestError(err, digest)
	}
	fmt.Fprintf(opts.IO.Out, "%s %x: override removed\n", p.Algorithm, p.Digest)
	return nil
}

// digestError quotes a digest argument that is not hex as the terminal
// shows text it did not make (term.SafeText).
func digestError(err error, digest string) error {
	if errors.Is(err, server.ErrNotHexDigest) {
		return usageError("", "%q is not a hex digest", term.SafeText(digest))
	}
	return err
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
	until, err := opts.admin().Restrict(ctx, d)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "file reputation restricted until %s\n", until.UTC().Truncate(time.Second).Format(time.RFC3339))
	return nil
}

func runRestrictOff(ctx context.Context, opts *AdminOptions) error {
	if err := opts.admin().LiftRestriction(ctx); err != nil {
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
	st, err := opts.admin().Stats(ctx, so.Days, so.Top)
	if err != nil {
		return err
	}
	out := statsJSON{Licenses: st.Licenses, Submissions: st.Submissions, Sealed: []heldJSON{}, Purged: []purgedJSON{},
		Indicators: st.Indicators, Links: st.Links, Aggregates: aggregatesOut(st)}
	for _, h := range st.Sealed {
		out.Sealed = append(out.Sealed, heldJSON(h))
	}
	for _, p := range st.Purged {
		out.Purged = append(out.Purged, purgedJSON{p.HalfYear, p.Records, p.ParticipantRows, p.PurgedAt})
	}
	if asJSON {
		out.RestrictedUntil = st.Restricted
		return writeJSONLine(opts.IO, out)
	}
	fmt.Fprintf(opts.IO.Out, "database     %s\n", st.DB)
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
	if st.Restricted != nil {
		fmt.Fprintf(opts.IO.Out, "files        restricted until %s\n", st.Restricted.UTC().Format(time.RFC3339))
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
