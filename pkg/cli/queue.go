package cli

import (
	"context"
	"fmt"

	"github.com/ksnproject/ksn/pkg/network"
	"github.com/ksnproject/ksn/pkg/report"
	"github.com/spf13/cobra"
)

// NewCmdQueue builds `ksn queue` and its subcommands.
func NewCmdQueue(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "queue",
		Short: "What was collected locally and not sent",
		Long: `Summarise the local outbox: the records kept on this machine while you do
not participate, which are sent when you opt in. 'ksn queue show' lists them
exactly as they would be sent; 'ksn queue clear' deletes them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withOutbox(cmd.Context(), f, func(ctx context.Context, c *network.Consent) error {
				q, err := c.OutboxSummary(ctx)
				if err != nil {
					return err
				}
				return report.Outbox(f.IO.Out, q, c.Status(), asJSON)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summary as JSON")
	cmd.AddCommand(newCmdQueueShow(f), newCmdQueueClear(f))
	return cmd
}

func newCmdQueueShow(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show",
		Short: "List the collected records exactly as they would be sent",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withOutbox(cmd.Context(), f, func(ctx context.Context, c *network.Consent) error {
				return report.Records(ctx, f.IO.Out, asJSON, c.Records)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per record (NDJSON), as it would be sent")
	return cmd
}

func newCmdQueueClear(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "clear",
		Short: "Delete every collected record",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withOutbox(cmd.Context(), f, func(ctx context.Context, c *network.Consent) error {
				n, err := c.ClearOutbox(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintf(f.IO.Out, "Deleted %s from the local outbox.\n", report.Plural(n, "record"))
				return nil
			})
		},
	}
}

// withOutbox runs fn with the participation state, which must be usable.
func withOutbox(ctx context.Context, f *Factory, fn func(context.Context, *network.Consent) error) error {
	return f.withConsent(ctx, func(ctx context.Context, c *network.Consent) error {
		if err := stateUsable(c, "the local outbox cannot be opened", "make ksn's state directory usable, or set KSN_HOME to a directory you own"); err != nil {
			return err
		}
		return fn(ctx, c)
	})
}
