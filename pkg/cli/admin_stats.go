package cli

import (
	"context"

	"github.com/ksnproject/ksn/pkg/report"
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
		return report.JSONLine(opts.IO.Out, st)
	}
	return report.Stats(opts.IO.Out, st)
}
