package cli

import (
	"context"

	"github.com/ksnproject/ksn/pkg/mail"
	"github.com/ksnproject/ksn/pkg/network"
	"github.com/ksnproject/ksn/pkg/report"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/spf13/cobra"
)

// NewCmdMail builds `ksn mail` and `ksn mail report`.
func NewCmdMail(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mail",
		Short: "Tell the network which messages are spam (spam statistics)",
	}
	var spam, ham bool
	report := &cobra.Command{
		Use:   "report --spam|--ham FILE...",
		Short: "Record your judgement of messages (.eml files or mboxes) as spam or not",
		Long: `Record, for each message of the files, your judgement (spam, or ham: not
spam) with the message's spam statistics: the digests of its normalised
body, attachments and pictures, and the public addresses of the servers
that relayed it. Never an address, a name, a subject, a body or a file
name. The records go to the outbox like those 'ksn check' makes (see 'ksn
queue'); nothing is kept while participation is paused or at the basic
level.`,
		Example: "  ksn mail report --spam ~/Junk/*.eml\n  ksn mail report --ham inbox.mbox",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if spam == ham {
				return usageError("ksn mail report --spam FILE, or --ham FILE", "give one of --spam and --ham")
			}
			j := mail.JudgementHam
			if spam {
				j = mail.JudgementSpam
			}
			return f.withConsent(cmd.Context(), func(ctx context.Context, c *network.Consent) error {
				failed := 0
				n, kept, err := c.ReportMail(ctx, args, j, func(path string, err error) {
					f.IO.Errorf("%s: %v", term.SafeText(path), err)
					failed++
				})
				if err != nil {
					return err
				}
				return report.MailJudged(f.IO.Out, n, kept, failed, j)
			})
		},
	}
	report.Flags().BoolVar(&spam, "spam", false, "the messages are spam")
	report.Flags().BoolVar(&ham, "ham", false, "the messages are not spam")
	cmd.AddCommand(report)
	return cmd
}
