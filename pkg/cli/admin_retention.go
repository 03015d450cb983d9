package cli

import (
	"fmt"

	"github.com/ksnproject/ksn/pkg/report"
	"github.com/ksnproject/ksn/pkg/server"
	"github.com/spf13/cobra"
)

func newCmdAdminKeygen(opts *AdminOptions) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen --out FILE",
		Short: "Make a new key-encryption key for 'ksn serve --kek-file'",
		Long: `Make a new random key-encryption key (KEK) and write it to FILE, mode 0600.
An existing FILE is never overwritten.

The server stores submissions only sealed under a data key per half-year,
and stores data keys only wrapped by the KEK, which never goes into the
database. Keep the file where the database's backups are not: a backup then
reveals no submission, and a destroyed half-year stays destroyed.

The file is text: comment lines starting with '#', and one line
"ksn-kek-v1:" followed by the 32 bytes of the key in base64.`,
		Example: `  ksn admin keygen --out /etc/ksn/server.kek
  ksn serve --kek-file /etc/ksn/server.kek`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError("e.g. ksn admin keygen --out server.kek", "--out is required")
			}
			if err := server.Keygen(out); err != nil {
				return err
			}
			fmt.Fprintf(opts.IO.ErrOut, "ksn: wrote a new key-encryption key to %s (mode 0600)\n", out)
			opts.IO.Hint("ksn serve --kek-file " + out + "   (a database keeps the key it was first started with)")
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write the key to `FILE` (required; never overwritten)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func newCmdAdminPurge(opts *AdminOptions) *cobra.Command {
	var grace string
	var asJSON bool
	var minPrevalence int
	cmd := &cobra.Command{
		Use:   "purge",
		Short: "Destroy the sealed submissions of half-years that have ended",
		Long: `Destroy every half-year that ended more than --grace ago: its data key file
(in the key directory) is deleted, and its sealed records, participant and
seat rows go from the database (with SQLite's secure_delete, then a
checkpoint that empties the WAL), so that what was sealed under the key can
never be read again, in this database or any copy of it, not even with the
key-encryption key. The aggregate statistics are kept, but for the
per-object counts (files, links) of fewer than --min-prevalence
participants, which go with the half-year: give it the value 'ksn serve'
has. 'ksn serve' does this at start and hourly; this command does it now.
It needs no key-encryption key.

When a reader (a long query, a backup tool) keeps the checkpoint from
completing, it says so ("checkpointed": false in JSON): destroyed pages
may then stay in the -wal file until a later purge completes it, which a
running server tries every minute.`,
		Example: `  ksn admin purge --db /srv/ksn/server.db`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := server.ParseGrace("--grace", grace)
			if err != nil {
				return err
			}
			if err := server.CheckMinPrevalence(minPrevalence); err != nil {
				return err
			}
			res, err := opts.admin().Purge(cmd.Context(), d, minPrevalence)
			if err != nil {
				return err
			}
			return report.Purge(opts.IO, res, minPrevalence, asJSON)
		},
	}
	cmd.Flags().StringVar(&grace, "grace", "7d", "keep a half-year this `DURATION` after it ends")
	cmd.Flags().IntVar(&minPrevalence, "min-prevalence", 3, "delete per-object counts of fewer than `N` participants with their half-year")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

func newCmdAdminVerify(opts *AdminOptions) *cobra.Command {
	var kekFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check that the key-encryption key opens every sealed submission",
		Long: `Open every sealed submission with the key-encryption key and count, per
half-year, how many there are and how many open; nothing of them is printed.
Use it to check a key file before starting a server with it, or a restored
backup: the records of a half-year whose data key was purged do not open
(a backup taken before a purge keeps none of them readable). The key is
--kek-file, else $KSN_KEK_FILE, else the database's default in ksn's state
directory (as for 'ksn serve'); the data keys are in --key-dir, else their
default there. It exits 2 when the key is not the database's, 7 when a
record does not open.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rep, err := opts.admin().Verify(cmd.Context(), server.ChooseKEK(kekFile, opts.Env))
			if err != nil {
				return err
			}
			return report.Verify(opts.IO, rep, asJSON)
		},
	}
	cmd.Flags().StringVar(&kekFile, "kek-file", "", "key-encryption key `FILE` (default: $KSN_KEK_FILE, else the database's in the state directory)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}
