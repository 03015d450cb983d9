package cli

import (
	"github.com/ksnproject/ksn/pkg/linkcheck"
	"github.com/ksnproject/ksn/pkg/network"
	"github.com/ksnproject/ksn/pkg/report"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/spf13/cobra"
)

// URLOptions are `ksn url`'s flags.
type URLOptions struct {
	report.LinkOptions          // --json, --explain, --quiet, --fail-on
	Links              []string // as given; "-" reads links from standard input
}

// NewCmdURL builds `ksn url`.
func NewCmdURL(f *Factory) *cobra.Command {
	opts := &URLOptions{}
	var failOn string
	cmd := &cobra.Command{
		Use:   "url [flags] <link>...",
		Short: "Look up the reputation of links without revealing them",
		Long: `Look up the reputation of links, in the local reputation database and, while
you participate, in the reputation network, without the network learning
the link.

Each link is put in canonical form (as Safe Browsing defines it: lower-case
host, IDNs in Punycode, IPv4 in dotted decimal, "." and ".." resolved, the
fragment, the port and any user name and password dropped). From it come up
to 30 expressions (host suffixes times path prefixes, such as
"evil.example/" and "evil.example/dl/x.exe"); the SHA-256 of each is
matched against the lists. The network is sent only the first 4 bytes of
those hashes, and answers with the full hashes it lists under them; the
match is made on this machine. Expressions that hold a query or a
token-like path segment are matched locally only, and nothing of a link to
a private network (a local address, an intranet name) is sent at all.

Links come from the arguments, or one a line from standard input ('-', or
no arguments with standard input not a terminal).

--explain shows, for each link, the canonical form, every expression with
its hash, the prefixes a lookup would send and the redacted form a
submission would carry, and sends nothing: its verdicts are local.`,
		Example: `  ksn url https://example.com/login
  ksn url --explain 'http://user:pw@Example.COM/a/../b?token=1#top'
  grep -o 'https\?://[^ ]*' mail.txt | ksn url --json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.FailOn, err = parseFailOn(failOn); err != nil {
				return err
			}
			opts.Links = args
			if len(args) == 0 {
				if f.IO.IsStdinTTY() {
					return usageError("name links, or pipe them in one a line", "no link to check")
				}
				opts.Links = []string{"-"}
			}
			if err := linkcheck.CheckInputs(opts.Links); err != nil {
				return err
			}
			ctx := cmd.Context()
			local, err := openLocal(ctx, f.OpenLocal)
			if err != nil {
				return err
			}
			defer local.Close()

			cfg := linkcheck.Config{Sources: []reputation.Source{local.Source}}
			// --explain is a dry run: no request, no record.
			var use network.Use
			if !opts.Explain {
				use = network.Open(ctx, f.IO, f.LoadConsent, network.SessionOptions{Msg: f.IO})
				defer use.Collector.Close()
				cfg.Sources = append(cfg.Sources, use.Session.Sources()...)
				if use.Collector != nil {
					cfg.Collector = use.Collector
				}
			}
			out := report.NewLinks(f.IO, opts.LinkOptions)
			cfg.Sink = out
			sum, err := linkcheck.Run(ctx, linkcheck.Options{Links: opts.Links, Stdin: f.IO.In, FailOn: opts.FailOn}, cfg)
			if err != nil {
				return err
			}
			use.Finish(ctx)
			if err := out.Finish(sum); err != nil {
				return err
			}
			return use.Session.Failure()
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.JSON, "json", false, "print one JSON object per link (NDJSON), in input order")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "print only links at or above --fail-on, like clamscan -i")
	fl.BoolVar(&opts.Explain, "explain", false, "show what a lookup and a submission would send, and send nothing")
	fl.StringVar(&failOn, "fail-on", "malicious", "exit 1 when a link is at least this bad: malicious or suspicious")
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions([]string{"malicious", "suspicious"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}
