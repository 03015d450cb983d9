package cli

import (
	"context"
	"errors"
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
