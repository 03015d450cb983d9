package cli

import (
	"context"
	"encoding/hex"
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
	cmd.AddCommand(newCmdAdminStatsSpam(opts))
	return cmd
}

// statsOptions are the bounds of `ksn admin stats`.
type statsOptions struct {
	Days, Top int
}

func runAdminStats(ctx context.Context, opts *AdminOptions, asJSON bool, so statsOptions) error {
	st, err := opts.admin().Stats(ctx, so.Days, so.Top)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSONLine(opts.IO, st)
	}
	fmt.Fprintf(opts.IO.Out, "database     %s\n", st.DB)
	fmt.Fprintf(opts.IO.Out, "licenses     %d\n", st.Licenses)
	fmt.Fprintf(opts.IO.Out, "submissions  %d\n", st.Submissions)
	for _, h := range st.Sealed {
		fmt.Fprintf(opts.IO.Out, "sealed       %s: %d records (the half-year ends %s)\n", h.HalfYear, h.Records, h.Ends.Format(time.DateOnly))
	}
	for _, p := range st.Purged {
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
	return printAggregates(opts, st)
}

// printAggregates writes the human form of the aggregates.
func printAggregates(opts *AdminOptions, st server.StatsReport) error {
	a := st.Aggregates
	w := opts.IO.Out
	fmt.Fprintf(w, "\nrecords received  file %d, url %d, system %d (distinct: %d files, %d links)\n",
		a.Kinds["file"], a.Kinds["url"], a.Kinds["system"], a.Objects["file"], a.Objects["url"])
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
