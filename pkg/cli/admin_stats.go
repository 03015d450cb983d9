package cli

import (
	"context"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/ksnproject/ksn/pkg/server"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/spf13/cobra"
)

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

// heldJSON is a half-year of sealed records in `ksn admin stats --json`.
type heldJSON struct {
	HalfYear string    `json:"half_year"`
	Records  int64     `json:"records"`
	Ends     time.Time `json:"ends"`
}

// aggregatesJSON is the aggregate statistics in `ksn admin stats --json`.
type aggregatesJSON struct {
	Records    map[string]int64 `json:"records"` // per kind, ever received
	Objects    map[string]int64 `json:"objects"` // distinct objects per kind
	Daily      []dailyJSON      `json:"daily"`
	ScanTime   []scanTimeJSON   `json:"scan_time"`
	Systems    []systemJSON     `json:"systems"`
	TopObjects []objectJSON     `json:"top_objects"`
}

type dailyJSON struct {
	Day     string `json:"day"`
	Kind    string `json:"kind"`
	Records int64  `json:"records"`
}

type scanTimeJSON struct {
	Class   string  `json:"class"`
	Records int64   `json:"records"`
	MeanMS  float64 `json:"mean_ms"`
	P50MS   float64 `json:"p50_ms"`
	P90MS   float64 `json:"p90_ms"`
	P99MS   float64 `json:"p99_ms"`
}

type systemJSON struct {
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	OSVersion  string `json:"os_version"`
	KSNVersion string `json:"ksn_version"`
	CPUs       string `json:"cpus"`
	MemoryGiB  string `json:"memory_gib"`
	Records    int64  `json:"records"`
}

type objectJSON struct {
	Kind         string    `json:"kind"`
	Object       string    `json:"object"` // hex: a file's SHA-256, a link's SHA-256 of host/path
	Participants int64     `json:"participants"`
	Reports      int64     `json:"reports"`
	FirstSeen    time.Time `json:"first_seen"`
	LastSeen     time.Time `json:"last_seen"`
}

// aggregatesOut is the JSON form of a report's aggregate statistics.
func aggregatesOut(rep server.StatsReport) aggregatesJSON {
	a := rep.Aggregates
	out := aggregatesJSON{Records: a.Kinds, Objects: a.Objects, Daily: []dailyJSON{}, ScanTime: []scanTimeJSON{},
		Systems: []systemJSON{}, TopObjects: []objectJSON{}}
	for _, d := range a.Daily {
		out.Daily = append(out.Daily, dailyJSON(d))
	}
	for _, s := range a.ScanTime {
		out.ScanTime = append(out.ScanTime, scanTimeJSON{s.Class, s.Records, s.MeanMS, s.P50MS, s.P90MS, s.P99MS})
	}
	for _, s := range a.Systems {
		out.Systems = append(out.Systems, systemJSON{s.OS, s.Arch, s.OSVersion, s.KSNVersion, s.CPUs, s.Memory, s.Records})
	}
	for _, o := range a.TopObjects {
		out.TopObjects = append(out.TopObjects, objectJSON{o.Kind, fmt.Sprintf("%x", o.Object), o.Participants, o.Reports, o.FirstSeen, o.LastSeen})
	}
	return out
}

// printAggregates writes the human form of the aggregates.
func printAggregates(opts *AdminOptions, a aggregatesJSON) error {
	w := opts.IO.Out
	fmt.Fprintf(w, "\nrecords received  file %d, url %d, system %d (distinct: %d files, %d links)\n",
		a.Records["file"], a.Records["url"], a.Records["system"], a.Objects["file"], a.Objects["url"])
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
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
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Records, s.OS, s.Arch, s.OSVersion, s.KSNVersion, s.CPUs, s.MemoryGiB)
		}
	}
	if len(a.TopObjects) > 0 {
		fmt.Fprintln(tw, "\nPARTICIPANTS\tREPORTS\tFIRST SEEN\tLAST SEEN\tKIND\tOBJECT")
		for _, o := range a.TopObjects {
			fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\n", o.Participants, o.Reports, o.FirstSeen.Format(time.DateOnly), o.LastSeen.Format(time.DateOnly), o.Kind, o.Object)
		}
	}
	return tw.Flush()
}
