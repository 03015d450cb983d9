package cli

import (
	"fmt"
	"time"

	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/server"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/spf13/cobra"
)

func newCmdAdminVerdict(opts *AdminOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verdict",
		Short: "Pin or remove an operator's verdict on a file digest or a link (wins over every feed)",
	}
	var name, category, alg string
	set := &cobra.Command{
		Use:   "set <digest|link> <verdict>",
		Short: "Pin a verdict (malicious, suspicious, clean, unknown) on a digest or a link",
		Long: `Pin a verdict on a file digest, given in hex, or on a link. A digest's
algorithm follows from its length (64: SHA-256, 40: SHA-1, 32: MD5); a
64-character BLAKE3 digest needs --algorithm blake3. A link is kept as a
feed's listing of it is (its canonical host and path, and query if any),
so it covers what that listing would: a host alone covers the whole host;
a one-label host needs a scheme (http://intranet/). The override wins over
every feed, also in answers the running server gives, except for a link
ksn never asks a server about (one with a query, or a private host); set
in a local reputation database (--db), over every source.`,
		Example: `  ksn admin verdict set 275a021b...0f malicious --name EICAR-Test-File
  ksn admin verdict set <sha256> clean   # correct a false positive
  ksn admin verdict set https://intranet.example/tools/ clean`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := opts.admin().SetOverride(cmd.Context(), server.Override{Digest: args[0], Algorithm: alg, Verdict: args[1], ThreatName: name, Category: category})
			if err != nil {
				return err
			}
			fmt.Fprintf(opts.IO.Out, "%s: %s (override)\n", term.SafeText(p.Subject()), p.Verdict)
			return nil
		},
	}
	set.Flags().StringVar(&name, "name", "", "threat name to report")
	set.Flags().StringVar(&category, "category", "", "category to report (e.g. trojan, pua)")
	set.Flags().StringVar(&alg, "algorithm", "", "digest algorithm (blake3, sha256, sha1, md5); default by length")

	var unsetAlg string
	unset := &cobra.Command{
		Use:   "unset <digest|link>",
		Short: "Remove the override of a digest or link; the feeds' verdicts apply again",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := opts.admin().UnsetOverride(cmd.Context(), args[0], unsetAlg)
			if err != nil {
				return err
			}
			fmt.Fprintf(opts.IO.Out, "%s: override removed\n", term.SafeText(p.Subject()))
			return nil
		},
	}
	unset.Flags().StringVar(&unsetAlg, "algorithm", "", "digest algorithm (blake3, sha256, sha1, md5); default by length")
	cmd.AddCommand(set, unset)
	return cmd
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
			d, err := config.ParseDuration(dur)
			if err != nil {
				return usageError("e.g. --for 10m", "--for: %v", err)
			}
			until, err := opts.admin().Restrict(cmd.Context(), d)
			if err != nil {
				return err
			}
			fmt.Fprintf(opts.IO.Out, "file reputation restricted until %s\n", until.UTC().Truncate(time.Second).Format(time.RFC3339))
			return nil
		},
	}
	files.Flags().StringVar(&dur, "for", "", "how long (e.g. 10m, 2h, 1d)")
	_ = files.MarkFlagRequired("for")
	off := &cobra.Command{
		Use:   "off",
		Short: "Lift the restriction",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.admin().LiftRestriction(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintln(opts.IO.Out, "file reputation available")
			return nil
		},
	}
	cmd.AddCommand(files, off)
	return cmd
}
