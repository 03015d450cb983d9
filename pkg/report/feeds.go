package report

import (
	"cmp"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"text/tabwriter"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/feeds"
	"github.com/ksnproject/ksn/pkg/term"
)

// Imports writes what `ksn feed import` did, file by file: a line each
// (a failure on standard error), or, with asJSON, one array of every
// file's report when the imports are over (Finish).
type Imports struct {
	ios     *term.IOStreams
	asJSON  bool
	reports []feeds.ImportReport
	Failed  int // files that could not be imported
}

// NewImports returns the report of an import to ios.
func NewImports(ios *term.IOStreams, asJSON bool) *Imports {
	return &Imports{ios: ios, asJSON: asJSON, reports: []feeds.ImportReport{}}
}

// Add reports the import of path: res, or err, which kept all of it out.
func (r *Imports) Add(path string, res feeds.Imported, err error) {
	switch {
	case err != nil:
		r.Failed++
		r.reports = append(r.reports, feeds.FailedImport(path, err))
		if !r.asJSON {
			r.ios.Errorf("%s", term.SafeText(err.Error()))
		}
	case r.asJSON:
		r.reports = append(r.reports, res.Report(path))
	default:
		Imported(r.ios, path, res)
	}
}

// Finish writes the JSON array, and returns the exit: 2, silent (each
// failure was said), when a file could not be imported.
func (r *Imports) Finish() error {
	if r.asJSON {
		if err := JSONLine(r.ios.Out, r.reports); err != nil {
			return err
		}
	}
	if r.Failed > 0 {
		return exitcode.Silent(exitcode.Usage)
	}
	return nil
}

// StartImportProgress shows on ios the progress of the import of path
// (after term.ProgressDelay): the indicators counted in what it returns.
func StartImportProgress(ios *term.IOStreams, path string) (*atomic.Int64, *term.Progress) {
	count := new(atomic.Int64)
	return count, ios.StartProgress(term.ProgressDelay, func() string {
		return fmt.Sprintf("importing %s: %d indicators", term.SafeText(filepath.Base(path)), count.Load())
	})
}

// StartDownloadProgress shows on ios the progress of feed downloads: the
// bytes counted in what it returns.
func StartDownloadProgress(ios *term.IOStreams) (*atomic.Int64, *term.Progress) {
	got := new(atomic.Int64)
	return got, ios.StartProgress(term.ProgressDelay, func() string { return "downloading feeds: " + term.Bytes(got.Load()) })
}

// Imported says what importing one file (path) did, and warns of the
// lines it skipped.
func Imported(ios *term.IOStreams, path string, res feeds.Imported) {
	sum, stats := res.Summary, res.Stats
	fmt.Fprintf(ios.Out, "%s (%s): %s: %d added, %d updated, %d unchanged in %s\n",
		term.SafeText(path), res.Format, Plural(sum.Indicators, "indicator"), stats.Added, stats.Updated, stats.Unchanged,
		term.Duration(res.Elapsed))
	if res.CVD != nil {
		cvd(ios, res.CVD)
	}
	malformed(ios, path, sum)
}

// Updates is what `ksn feed update` did: one line per feed.
func Updates(ios *term.IOStreams, results []feeds.UpdateResult, asJSON bool) error {
	if asJSON {
		return JSONLine(ios.Out, feeds.UpdateReports(results))
	}
	for _, r := range results {
		update(ios, r)
	}
	return nil
}

// update is one feed's line of `ksn feed update`.
func update(ios *term.IOStreams, r feeds.UpdateResult) {
	name := r.Feed.Name
	switch r.Outcome {
	case feeds.Failed:
		fmt.Fprintf(ios.Out, "%s: failed: %s\n", name, term.SafeText(r.Err.Error()))
	case feeds.Unchanged:
		why := "the server sent the file already imported"
		if r.NotModified {
			why = "not modified since the last update"
		}
		fmt.Fprintf(ios.Out, "%s: unchanged: %s (%s)\n", name, why, Plural(r.Imported.Summary.Indicators, "indicator"))
	default:
		res := r.Imported
		fmt.Fprintf(ios.Out, "%s: %s: %s (%d new, %d changed, %d unchanged) from %s in %s\n", name, r.Outcome,
			Plural(res.Summary.Indicators, "indicator"), res.Stats.Added, res.Stats.Updated, res.Stats.Unchanged, term.Bytes(r.Bytes), term.Duration(r.Elapsed))
		if res.CVD != nil {
			cvd(ios, res.CVD)
		}
		malformed(ios, name, res.Summary)
	}
}

// cvd says what was checked of a ClamAV container and what of it was
// read and skipped.
func cvd(ios *term.IOStreams, c *feeds.CVDInfo) {
	h := c.Header
	checks := "MD5 and signature not checked (a .cld: ClamAV rewrites it and checks neither)"
	switch {
	case c.SignatureVerified && c.MD5Verified:
		checks = "signature verified with ClamAV's key, MD5 matches"
	case c.MD5Verified:
		checks = "MD5 matches; NOT signed with ClamAV's key (imported because of --allow-unsigned)"
	}
	fmt.Fprintf(ios.Out, "  ClamAV database version %d, built %s by %s, %d signatures, functionality level %d: %s\n",
		h.Version, h.Built, h.Builder, h.Signatures, h.Level, checks)
	for _, m := range c.Members {
		fmt.Fprintf(ios.Out, "  read %s: %d entries\n", m.Name, m.Summary.Indicators)
	}
	if len(c.Skipped) > 0 {
		fmt.Fprintf(ios.Out, "  skipped: %s (not whole-file hashes)\n", c.SkippedList())
	}
}

// malformed warns about the lines an import skipped.
func malformed(ios *term.IOStreams, path string, sum feeds.Summary) {
	if sum.Malformed == 0 {
		return
	}
	noun := "lines"
	if sum.Malformed == 1 {
		noun = "line"
	}
	ios.Warnf("%s: %d malformed %s skipped", term.SafeText(path), sum.Malformed, noun)
	for _, le := range sum.Errors {
		fmt.Fprintf(ios.ErrOut, "  %s\n", term.SafeText(le.Error()))
	}
	if extra := sum.Malformed - len(sum.Errors); extra > 0 {
		fmt.Fprintf(ios.ErrOut, "  ... and %d more\n", extra)
	}
}

// Feeds is the table of `ksn feed list`, then why each enabled feed's
// last update failed.
func Feeds(ios *term.IOStreams, entries []feeds.Entry, asJSON bool) error {
	if asJSON {
		return JSONLine(ios.Out, entries)
	}
	w := tabwriter.NewWriter(ios.Out, 0, 2, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tFORMAT\tSTATE\tUPDATED\tAGE\tINDICATORS\tETAG\tURL")
	for _, e := range entries {
		state := "enabled"
		switch {
		case !e.Enabled:
			state = "disabled"
		case e.LastError != "":
			state = "failed"
		case e.Stale && e.CheckedAt != nil:
			state = "stale"
		}
		updated, age, etag := "never", "-", cmp.Or(e.ETag, "-")
		if e.UpdatedAt != nil {
			updated = e.UpdatedAt.Local().Format("2006-01-02 15:04")
		}
		if e.CheckedAt != nil {
			age = feeds.Ago(e.Age())
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.Name, e.Format, state, updated, age, e.Indicators,
			term.SafeText(etag), term.SafeText(e.URL))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for _, e := range entries {
		if e.LastError != "" && e.Enabled {
			fmt.Fprintf(ios.Out, "%s %s: %s\n", ios.Styles().Bad.Render("last update failed:"), e.Name, term.SafeText(e.LastError))
		}
	}
	return nil
}

// FeedNotice is what a check or a link run says at its end about the
// feeds' age: a warning, or a hint given once.
func FeedNotice(ios *term.IOStreams, n feeds.Notice) {
	switch n.Kind {
	case feeds.Warning:
		ios.Warnf("%s", n.Text)
	case feeds.Hint:
		ios.Hint(n.Text + " (shown once)")
	}
}
