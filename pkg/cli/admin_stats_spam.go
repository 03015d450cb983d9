package cli

import (
	"github.com/ksnproject/ksn/pkg/report"
	"github.com/spf13/cobra"
)

func newCmdAdminStatsSpam(opts *AdminOptions) *cobra.Command {
	var asJSON bool
	var top, minPrevalence int
	cmd := &cobra.Command{
		Use:   "spam",
		Short: "Show the spam statistics: message bodies and sender networks",
		Long: `Show the statistics kept of spam records: per message body (by the
SHA-256 of its normalised body) and per sender network (a /24 of IPv4, a
/48 of IPv6), how many participants reported it, how many records, and how
many of those a participant judged spam or not spam (ksn mail report).
Most participants first. Nothing original is shown, and no key is needed.

Like every per-object count, a body or network fewer than the server's
--min-prevalence participants reported is deleted with its half-year;
--min-prevalence here shows only those at least N reported.

--json prints one object: {"bodies": [...], "nets": [...]}, each entry
{"object", "participants", "reports", "spam", "ham", "first_seen",
"last_seen"}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := opts.admin().SpamStats(cmd.Context(), top, minPrevalence)
			if err != nil {
				return err
			}
			return report.SpamStats(opts.IO.Out, st.Bodies, st.Nets, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.Flags().IntVar(&top, "top", 10, "show the `N` bodies and the N networks most participants reported")
	cmd.Flags().IntVar(&minPrevalence, "min-prevalence", 0, "show only what at least `N` participants reported")
	return cmd
}
