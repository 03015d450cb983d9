package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/network"
	"github.com/ksnproject/ksn/pkg/term"
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
				stats, err := c.OutboxStats(ctx)
				if err != nil {
					return err
				}
				return printQueueStats(f.IO, c, stats, asJSON)
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
				out := bufio.NewWriter(f.IO.Out)
				err := c.Records(ctx, func(r network.Record) error {
					if asJSON {
						b, err := json.Marshal(wireRecord(r))
						if err != nil {
							return err
						}
						_, err = fmt.Fprintf(out, "%s\n", b)
						return err
					}
					_, err := fmt.Fprintf(out, "%s  %-6s  %s  %s\n", r.ID, r.Kind, r.CreatedAt.UTC().Format(time.RFC3339), term.SafeText(string(r.Body)))
					return err
				})
				if err != nil {
					return err
				}
				return out.Flush()
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
				fmt.Fprintf(f.IO.Out, "Deleted %s from the local outbox.\n", plural(n, "record"))
				return nil
			})
		},
	}
}

// wireRecord is a record as it goes over the wire (and in queue show --json).
type wireRecordJSON struct {
	ID        string          `json:"id"`
	Kind      string          `json:"kind"`
	CreatedAt time.Time       `json:"created_at"`
	Body      json.RawMessage `json:"body"`
}

func wireRecord(r network.Record) wireRecordJSON {
	return wireRecordJSON{ID: r.ID, Kind: string(r.Kind), CreatedAt: r.CreatedAt.UTC(), Body: r.Body}
}

func withOutbox(ctx context.Context, f *Factory, fn func(context.Context, *network.Consent) error) error {
	ctx = orBackground(ctx)
	c, err := f.LoadConsent(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Usable(); err != nil {
		return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("the local outbox cannot be opened: %v", err),
			Hint: "make ksn's state directory usable, or set KSN_HOME to a directory you own"}
	}
	return fn(ctx, c)
}

type queueJSON struct {
	Records     int        `json:"records"`
	Bytes       int64      `json:"bytes"`
	Oldest      *time.Time `json:"oldest"`
	Newest      *time.Time `json:"newest"`
	DroppedFull int64      `json:"dropped_full"`
	DroppedAge  int64      `json:"dropped_age"`
	MaxRecords  int        `json:"max_records"`
	MaxAge      string     `json:"max_age"`
	File        string     `json:"file"`
}

func queueSummary(c *network.Consent, s network.OutboxStats) queueJSON {
	maxRecords, maxAge, _ := c.OutboxLimits()
	q := queueJSON{Records: s.Records, Bytes: s.Bytes, DroppedFull: s.DroppedFull, DroppedAge: s.DroppedAge,
		MaxRecords: maxRecords, MaxAge: maxAge, File: c.StateFile()}
	if !s.Oldest.IsZero() {
		o, n := s.Oldest.UTC(), s.Newest.UTC()
		q.Oldest, q.Newest = &o, &n
	}
	return q
}

func printQueueStats(ios *term.IOStreams, c *network.Consent, s network.OutboxStats, asJSON bool) error {
	q := queueSummary(c, s)
	if asJSON {
		b, err := json.Marshal(q)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(ios.Out, "%s\n", b)
		return err
	}
	fmt.Fprintf(ios.Out, "%s, %s (at most %d, kept up to %s)\n", plural(q.Records, "record"), term.Bytes(q.Bytes), q.MaxRecords, q.MaxAge)
	if q.Records > 0 {
		fmt.Fprintf(ios.Out, "oldest %s, newest %s\n", formatTime(s.Oldest), formatTime(s.Newest))
	}
	fmt.Fprintf(ios.Out, "dropped: %d when full, %d too old\n", q.DroppedFull, q.DroppedAge)
	fmt.Fprintf(ios.Out, "%s: %s\n", network.DescribeState(c.Status()), q.File)
	return nil
}
