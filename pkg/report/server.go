package report

import (
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/server"
	"github.com/ksnproject/ksn/pkg/term"
)

// Listening tells the operator, on w (standard error), where `ksn serve`
// listens and where its keys are.
func Listening(w io.Writer, l server.Listening) {
	fmt.Fprintf(w, "ksn serve: listening on %s (database %s)\n", l.URL, l.DB)
	if l.DBCreated {
		fmt.Fprintf(w, "ksn serve: created the server database %s, which was not there\n", l.DB)
	}
	if l.MetricsURL != "" {
		fmt.Fprintf(w, "ksn serve: metrics on %s\n", l.MetricsURL)
	}
	if l.KEKMovedFrom != "" {
		fmt.Fprintf(w, "ksn serve: moved the key-encryption key from %s to %s, out of the database's directory\n", l.KEKMovedFrom, l.KEKFile)
	}
	if l.KEKCreated {
		fmt.Fprintf(w, "ksn serve: created the key-encryption key %s: keep it safe and out of the database's backups; without it the sealed submissions cannot be read\n", l.KEKFile)
	} else {
		fmt.Fprintf(w, "ksn serve: submissions sealed with the key-encryption key %s\n", l.KEKFile)
	}
	if l.KeysMoved > 0 {
		fmt.Fprintf(w, "ksn serve: moved %d data keys out of the database into %s\n", l.KeysMoved, l.KeyDir)
	}
	fmt.Fprintf(w, "ksn serve: data keys in %s (never back it up: a purge deletes keys there)\n", l.KeyDir)
}

// DatabaseReady says what `ksn admin init` did to the server database
// where: created it, or found it up to date.
func DatabaseReady(w io.Writer, where string, created bool) {
	if created {
		fmt.Fprintf(w, "created the server database %s\n", where)
	} else {
		fmt.Fprintf(w, "the server database %s is up to date\n", where)
	}
}

// LicenseCreated prints a new license's key alone on standard output, and
// on standard error what was made and what the user does with it.
func LicenseCreated(ios *term.IOStreams, l server.LicenseStatus, asJSON bool) error {
	if asJSON {
		return JSONLine(ios.Out, l)
	}
	fmt.Fprintln(ios.Out, l.Key)
	more := ""
	if l.Seats > 1 {
		more = fmt.Sprintf(", %d seats", l.Seats)
	}
	fmt.Fprintf(ios.ErrOut, "ksn: license %d created (expires %s%s); the key above is shown only now\n", l.ID, server.ExpiryText(l.ExpiresAt), more)
	ios.Hint("on the client: ksn license activate <key>")
	return nil
}

// Licenses is the table of `ksn admin license list`; never a key.
func Licenses(w io.Writer, ls []server.LicenseStatus, asJSON bool) error {
	if asJSON {
		return JSONLine(w, ls)
	}
	tw := table(w)
	fmt.Fprintln(tw, "ID\tSTATE\tSEATS\tCREATED\tEXPIRES\tLABEL")
	for _, l := range ls {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\n", l.ID, l.State, l.Seats, l.CreatedAt.UTC().Format(time.RFC3339),
			server.ExpiryText(l.ExpiresAt), term.SafeText(l.Label))
	}
	return tw.Flush()
}

// Purge says what `ksn admin purge` destroyed and kept (per-object counts
// went below minPrevalence participants), and warns when a reader kept
// what was destroyed in the database's files.
func Purge(ios *term.IOStreams, res server.PurgeReport, minPrevalence int, asJSON bool) error {
	if !res.Checkpointed {
		ios.Warnf("a reader keeps destroyed rows in the database's files (SQLite: the WAL checkpoint; PostgreSQL: the VACUUM after the purge) until a later purge completes it (a running server tries every minute)")
	}
	if asJSON {
		return JSONLine(ios.Out, res)
	}
	w := ios.Out
	for _, p := range res.Purged {
		rare := ""
		if p.ObjectRows > 0 {
			rare = fmt.Sprintf(", %d per-object counts of fewer than %d participants deleted", p.ObjectRows, minPrevalence)
		}
		fmt.Fprintf(w, "%s: data key destroyed, %d sealed records deleted%s\n", p.HalfYear, p.Records, rare)
	}
	if len(res.Purged) == 0 {
		fmt.Fprintln(w, "nothing to purge")
	}
	for _, k := range res.Kept {
		fmt.Fprintf(w, "%s: %d sealed records kept until %s\n", k.HalfYear, k.Records, k.PurgeAfter.Format(time.RFC3339))
	}
	return nil
}

// Verify is `ksn admin verify`: per half-year, the sealed records and
// how many opened; and its exit, 7 when a record did not open.
func Verify(ios *term.IOStreams, rep server.VerifyReport, asJSON bool) error {
	if asJSON {
		if err := JSONLine(ios.Out, rep); err != nil {
			return err
		}
	} else {
		tw := table(ios.Out)
		fmt.Fprintln(tw, "HALF-YEAR\tRECORDS\tOPEN")
		for _, h := range rep.HalfYears {
			fmt.Fprintf(tw, "%s\t%d\t%d\n", h.HalfYear, h.Records, h.Opened)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if !rep.OK {
		return exitcode.New(exitcode.ServiceError, "some sealed records do not open with %s: they are damaged", rep.KEKFile)
	}
	if !asJSON {
		fmt.Fprintf(ios.ErrOut, "ksn: every sealed submission opens with %s\n", rep.KEKFile)
	}
	return nil
}

// Stats is `ksn admin stats`: the counts, the restriction, then the
// aggregates' tables.
func Stats(w io.Writer, st server.StatsReport, asJSON bool) error {
	if asJSON {
		return JSONLine(w, st)
	}
	fmt.Fprintf(w, "database     %s\n", st.DB)
	fmt.Fprintf(w, "licenses     %d\n", st.Licenses)
	fmt.Fprintf(w, "submissions  %d\n", st.Submissions)
	for _, h := range st.Sealed {
		fmt.Fprintf(w, "sealed       %s: %d records (the half-year ends %s)\n", h.HalfYear, h.Records, h.Ends.Format(time.DateOnly))
	}
	for _, p := range st.Purged {
		fmt.Fprintf(w, "purged       %s: %d records, on %s\n", p.HalfYear, p.Records, p.PurgedAt.Format(time.DateOnly))
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
			fmt.Fprintf(w, "%-12s %d (%s)\n", c.label, c.counts[src], term.SafeText(src))
		}
	}
	if st.Restricted != nil {
		fmt.Fprintf(w, "files        restricted until %s\n", st.Restricted.UTC().Format(time.RFC3339))
	} else {
		fmt.Fprintln(w, "files        available")
	}
	return aggregates(w, st)
}

// aggregates writes the human form of the aggregates.
func aggregates(w io.Writer, st server.StatsReport) error {
	a := st.Aggregates
	fmt.Fprintf(w, "\nrecords received  file %d, url %d, system %d (distinct: %d files, %d links)\n",
		a.Kinds["file"], a.Kinds["url"], a.Kinds["system"], a.Objects["file"], a.Objects["url"])
	tw := table(w)
	if len(a.Daily) > 0 {
		fmt.Fprintln(tw, "\nDAY\tKIND\tRECORDS")
		for _, d := range a.Daily {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", d.Day, d.Kind, d.Records)
		}
	}
	if len(a.ScanTime) > 0 {
		fmt.Fprintln(tw, "\nSCAN TIME\tRECORDS\tMEAN ms\tP50 ms\tP90 ms\tP99 ms")
		for _, s := range a.ScanTime {
			fmt.Fprintf(tw, "%s\t%d\t%.3g\t%.3g\t%.3g\t%.3g\n", s.Class, s.Records, s.MeanMS, s.P50MS, s.P90MS, s.P99MS)
		}
	}
	if len(a.Systems) > 0 {
		fmt.Fprintln(tw, "\nSYSTEMS\tOS\tARCH\tOS VERSION\tKSN\tCPUS\tMEMORY GiB")
		for _, s := range a.Systems {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Records, s.OS, s.Arch, s.OSVersion, s.KSNVersion, s.CPUs, s.Memory)
		}
	}
	if len(a.TopObjects) > 0 {
		fmt.Fprintln(tw, "\nPARTICIPANTS\tREPORTS\tFIRST SEEN\tLAST SEEN\tKIND\tOBJECT")
		for _, o := range a.TopObjects {
			fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\n", o.Participants, o.Reports, o.FirstSeen.Format(time.DateOnly), o.LastSeen.Format(time.DateOnly), o.Kind, hex.EncodeToString(o.Object))
		}
	}
	return tw.Flush()
}

// SpamStats is `ksn admin stats spam`: a table of message bodies and one
// of sender networks, most participants first.
func SpamStats(w io.Writer, bodies, nets []server.SpamStat, asJSON bool) error {
	if asJSON {
		return JSONLine(w, struct {
			Bodies []server.SpamStat `json:"bodies"`
			Nets   []server.SpamStat `json:"nets"`
		}{bodies, nets})
	}
	tw := table(w)
	for _, part := range []struct {
		label, none string
		rows        []server.SpamStat
	}{{"BODY SHA-256", "message bodies", bodies}, {"SENDER NETWORK", "sender networks", nets}} {
		if len(part.rows) == 0 {
			fmt.Fprintf(tw, "no %s reported\n\n", part.none)
			continue
		}
		fmt.Fprintf(tw, "PARTICIPANTS\tREPORTS\tSPAM\tHAM\tFIRST SEEN\tLAST SEEN\t%s\n", part.label)
		for _, r := range part.rows {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%s\t%s\t%s\n", r.Participants, r.Reports, r.Spam, r.Ham,
				r.FirstSeen.Format(time.DateOnly), r.LastSeen.Format(time.DateOnly), r.Object)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// table is a tabwriter with the columns every admin table uses.
func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }
