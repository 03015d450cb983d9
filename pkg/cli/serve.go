package cli

import (
	"context"
	"os/signal"
	"syscall"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/report"
	"github.com/ksnproject/ksn/pkg/server"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/spf13/cobra"
)

// DefaultListen is where `ksn serve` listens unless told otherwise:
// loopback, so that a server started to try things out is not reachable
// from the network (DESIGN §6: safe defaults).
const DefaultListen = "127.0.0.1:7415"

// ServeOptions are `ksn serve`'s flags and dependencies: the server's
// own options (DB resolved by the command when empty; Keys.KEK from
// --kek-file, else KSN_KEK_FILE), and how it logs.
type ServeOptions struct {
	IO *term.IOStreams
	server.RunOptions
	LogJSON bool
}

// NewCmdServe builds `ksn serve`.
func NewCmdServe(f *Factory, runF func(*ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{IO: f.IO}
	var grace string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the reputation server that participating clients talk to",
		Long: `Run ksn's reputation server: the HTTP API of /v1 (lookups, submissions,
the statement, status), /healthz and Prometheus /metrics.

/metrics shows request counts and the process's runtime to whoever asks.
--metrics-listen ADDRESS serves it there instead (say 127.0.0.1:9415, or an
address only the scraper's network reaches), and the API's port then
answers it 404: the way to keep it off a public port.

The server keeps its own database: a SQLite file (default: server.db in
ksn's data directory), or PostgreSQL with --db postgres://... (or
$KSN_DATABASE_URL), where several replicas behind a load balancer share
one database: licenses, submissions, operator settings and the reputation
indicators it answers with. Each of --replicas N enforces 1/N of every
license's --rate and --burst (lookups) and --submit-rate and --submit-burst
(submissions), so that together they keep to them. Load feeds into it with
'ksn feed import --db <server database> FILE...', manage licenses, verdict
overrides and restrictions with 'ksn admin' (both work while the server runs).

It listens on loopback unless --listen says otherwise; give it a certificate
(--tls-cert, --tls-key) before exposing it. Once it listens it prints one line
"ksn serve: listening on URL (database PATH)" to standard error, then one log
line per request (endpoint, status, duration, items; the license id only of
a refused request, so that nothing ties a license to what it looked up or
sent; never keys, bodies or client addresses). SIGINT or SIGTERM stop it gracefully.

Requests are bounded: bodies per endpoint (a full batch's worth), items
charged to the license's rate as they are decoded (oversized requests cost
a full batch), a few bodies read at a time, each within a deadline, and at
most --max-connections connections open.

--statement FILE serves that text as the participation statement and
stores it in the database, so a restart without the flag keeps serving it
(a changed statement pauses every participant until they accept it again).
Without a stored statement the one built into ksn is served.

Submitted records are stored only sealed (AES-256-GCM) under a data key of
the UTC half-year they arrive in (January-June, July-December). Data keys
are files in a key directory, never in the database: --key-dir DIR, by
default server-keys/<database id>/ in ksn's state directory (not its data
directory). Each is wrapped by a key-encryption key (KEK): --kek-file FILE,
else $KSN_KEK_FILE, else server-kek/<database id>.kek in the state
directory, which the first start creates (mode 0600; one an earlier version
made beside the database is moved there, as are data keys it kept in the
database). The lines after "listening" name both. Back the KEK up, apart
from the database; never back up the key directory. At start and hourly
the server purges every half-year that ended more than --purge-grace ago:
its key file and records are deleted, which leaves them unreadable in every
copy of the database, with the KEK or without; the aggregate statistics
stay, but for per-object counts of fewer than --min-prevalence
participants, which go with their half-year. A purge that a reader keeps
from emptying the WAL is tried again every minute. A database keeps the KEK
it was first started with: another is refused. 'ksn admin purge' purges on
demand.

Replicas on PostgreSQL share the keys as they share the database: one key
directory (the state directory's default for replicas on one machine,
--key-dir on a shared file system for several) and copies of one KEK
file. A replica whose directory lacks a key the database's records are
sealed under, or holds another, is refused at start. PostgreSQL vacuums
after a purge where SQLite checkpoints its WAL.`,
		Example: `  ksn serve
  ksn serve --listen 0.0.0.0:7415 --tls-cert cert.pem --tls-key key.pem
  ksn serve --listen 127.0.0.1:0 --db /tmp/test.db   # any free port; the line says which`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			paths, err := f.Paths()
			if err != nil {
				return &exitcode.Error{Code: exitcode.Usage, Err: err}
			}
			if opts.DB == "" {
				opts.DB, opts.DefaultDB = server.DefaultDBPath(paths.Data, f.Env), true
			}
			if err := opts.CheckFlags(grace); err != nil {
				return err
			}
			opts.Keys.StateDir, opts.Keys.KEK = paths.State, server.ChooseKEK(opts.Keys.KEK.Path, f.Env)
			if runF != nil {
				return runF(opts)
			}
			return runServe(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Listen, "listen", DefaultListen, "`ADDRESS` to listen on (host:port; port 0 picks a free one)")
	fl.StringVar(&opts.MetricsListen, "metrics-listen", "", "serve /metrics on `ADDRESS` (host:port) instead of the API's port")
	fl.StringVar(&opts.DB, "db", "", "server database: SQLite `PATH` or postgres:// URL (default: $KSN_DATABASE_URL, else server.db in the data directory)")
	fl.StringVar(&opts.TLSCert, "tls-cert", "", "TLS certificate `FILE` (PEM); serve HTTPS")
	fl.StringVar(&opts.TLSKey, "tls-key", "", "TLS private key `FILE` (PEM)")
	fl.Float64Var(&opts.Rate, "rate", server.DefaultRate, "items (digests, records) per second each license may send")
	fl.IntVar(&opts.Burst, "burst", server.DefaultBurst, "items a license may send at once")
	fl.Float64Var(&opts.SubmitRate, "submit-rate", server.DefaultSubmitRate, "records per second each license may submit (a budget apart from lookups)")
	fl.IntVar(&opts.SubmitBurst, "submit-burst", server.DefaultSubmitBurst, "records a license may submit at once (a first delivery's backlog)")
	fl.IntVar(&opts.Replicas, "replicas", 1, "how many replicas serve one PostgreSQL database; each enforces this share of --rate and --burst")
	fl.StringVar(&opts.StatementFile, "statement", "", "serve the participation statement in `FILE` (and keep it)")
	fl.BoolVar(&opts.LogJSON, "log-json", false, "log as JSON lines instead of text")
	fl.StringVar(&opts.AddrFile, "addr-file", "", "once listening, write the server's URL and a newline to `FILE` (for scripts using --listen host:0)")
	fl.StringVar(&opts.Keys.KEK.Path, "kek-file", "", "key-encryption key `FILE` (default: $KSN_KEK_FILE, else one in the state directory, created on first start)")
	fl.StringVar(&opts.Keys.KeyDir, "key-dir", "", "keep the half-years' data keys in `DIR`, one per database (default: in the state directory)")
	fl.StringVar(&grace, "purge-grace", "7d", "purge a half-year's sealed records this `DURATION` after it ends")
	fl.IntVar(&opts.MaxConnections, "max-connections", server.DefaultMaxConnections, "hold at most `N` connections open; more wait until one closes")
	fl.IntVar(&opts.MinPrevalence, "min-prevalence", 3, "report how many participants reported a file only from `N` up (below, that anyone did is not told)")
	return cmd
}

func runServe(ctx context.Context, opts *ServeOptions) error {
	// SIGTERM is how service managers and containers stop a server; the
	// command's context already ends on SIGINT.
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()

	o := opts.RunOptions
	o.Warn = func(msg string) { opts.IO.Warnf("%s", msg) }
	o.Listening = func(l server.Listening) { report.Listening(opts.IO.ErrOut, l) }
	if o.Logger == nil {
		o.Logger = server.NewLogger(opts.IO.ErrOut, opts.LogJSON)
	}
	return server.Run(ctx, o)
}
