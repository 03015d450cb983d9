package cli

import (
	"fmt"
	"strconv"

	"github.com/ksnproject/ksn/pkg/report"
	"github.com/ksnproject/ksn/pkg/server"
	"github.com/spf13/cobra"
)

func newCmdAdminLicense(opts *AdminOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "license",
		Short: "Create, list, revoke and extend license keys; set their seats",
	}
	var label, expires string
	var createJSON bool
	var seats int
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a license and print its key (shown only this once)",
		Long: `Create a license and print its key on standard output. The server stores only
the key's SHA-256, so the key cannot be shown again: hand it to the user,
who runs 'ksn license activate <key>'.

--seats is how many installations the license is for: per half-year, its
first N participant codes count toward how many participants reported a
file (prevalence), any further ones do not, so that one license cannot
make a file look widespread by sending under made-up codes.`,
		Example: `  ksn admin license create --label "build farm" --expires 90d --seats 12`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			exp, err := server.ParseExpiry(expires)
			if err != nil {
				return err
			}
			if seats < 1 {
				return usageError("e.g. --seats 5", "--seats: %d is not a number of 1 or more", seats)
			}
			l, err := opts.admin().CreateLicense(cmd.Context(), label, exp, seats)
			if err != nil {
				return err
			}
			return report.LicenseCreated(opts.IO, l, createJSON)
		},
	}
	create.Flags().StringVar(&label, "label", "", "a name for the license (who or what uses it)")
	create.Flags().StringVar(&expires, "expires", "", "`DURATION` until it expires (e.g. 90d); default never")
	create.Flags().IntVar(&seats, "seats", 1, "`N` installations count toward prevalence per half-year")
	create.Flags().BoolVar(&createJSON, "json", false, "print id, key, label, expiry and seats as JSON")

	var listJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List licenses (never their keys)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ls, err := opts.admin().ListLicenses(cmd.Context())
			if err != nil {
				return err
			}
			return report.Licenses(opts.IO.Out, ls, listJSON)
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print a JSON array")

	revoke := &cobra.Command{
		Use:   "revoke <key-or-id>",
		Short: "Denylist a license: the server refuses its key from now on (final)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := opts.admin().RevokeLicense(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(opts.IO.Out, "license %d denylisted\n", l.ID)
			return nil
		},
	}

	var extendTo string
	extend := &cobra.Command{
		Use:     "extend <key-or-id> --expires DURATION",
		Short:   "Set when a license expires, counted from now (or never)",
		Example: "  ksn admin license extend 3 --expires 30d\n  ksn admin license extend 3 --expires never",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if extendTo == "" {
				return usageError("e.g. --expires 30d, or never", "--expires is required")
			}
			exp, err := server.ParseExpiry(extendTo)
			if err != nil {
				return err
			}
			l, err := opts.admin().ExtendLicense(cmd.Context(), args[0], exp)
			if err != nil {
				return err
			}
			fmt.Fprintf(opts.IO.Out, "license %d expires %s\n", l.ID, server.ExpiryText(l.ExpiresAt))
			if l.State == server.LicenseDenylisted {
				opts.IO.Warnf("license %d is denylisted; a new expiry does not lift that", l.ID)
			}
			return nil
		},
	}
	extend.Flags().StringVar(&extendTo, "expires", "", "`DURATION` from now (e.g. 30d), or never")
	_ = extend.MarkFlagRequired("expires")

	seatsCmd := &cobra.Command{
		Use:     "seats <key-or-id> N",
		Short:   "Set how many installations of a license count toward prevalence",
		Example: "  ksn admin license seats 3 12",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[1])
			if err != nil || n < 1 {
				return usageError("e.g. ksn admin license seats 3 12", "seats: %q is not a number of 1 or more", args[1])
			}
			l, err := opts.admin().SetSeats(cmd.Context(), args[0], n)
			if err != nil {
				return err
			}
			fmt.Fprintf(opts.IO.Out, "license %d has %d seats\n", l.ID, l.Seats)
			return nil
		},
	}

	cmd.AddCommand(create, list, revoke, extend, seatsCmd)
	return cmd
}
