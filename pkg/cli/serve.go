package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/server"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/spf13/cobra"
)

// DefaultListen is where `ksn serve` listens unless told otherwise:
// loopback, so that a server started to try things out is not reachable
// from the network (DESIGN §6: safe defaults).
const DefaultListen = "127.0.0.1:7415"

// ServeOptions are `ksn serve`'s flags and dependencies.
type ServeOptions struct {
	IO            *term.IOStreams
	Listen        string
	DB            string // the server database; resolved by the command when empty
	TLSCert       string
	TLSKey        string
	Rate          float64
	Burst         int
	SubmitRate    float64
	SubmitBurst   int
	Replicas      int // how many replicas share the database (and the licenses' rates)
	StatementFile string
	LogJSON       bool
	AddrFile      string // where to write the URL once listening (scripts, tests)
	// KEKFile is the key-encryption key file (--kek-file, else KSN_KEK_FILE);
	// empty: <DB>.kek, made on first start.
	KEKFile    string
	KEKFrom    string        // "--kek-file" or "KSN_KEK_FILE"; "" for the default
	PurgeGrace time.Duration // how long after a half-year ends it is purged
	// MinPrevalence is the fewest participants a lookup reports (see
	// server.Config.MinPrevalence).
	MinPrevalence int
	// Now is the clock of the server and its purges; nil means time.Now.
	Now func() time.Time
	// Logger, when set, replaces the text (or JSON) logger on IO.ErrOut;
	// tests use it.
	Logger *slog.Logger
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
line per request (license id, endpoint, status, duration; never keys, bodies
or client addresses). SIGINT or SIGTERM stop it gracefully.

--statement FILE serves that text as the participation statement and
stores it in the database, so a restart without the flag keeps serving it
(a changed statement pauses every participant until they accept it again).
Without a stored statement the one built into ksn is served.

Submitted records are stored only sealed (AES-256-GCM) under a data key of
the UTC half-year they arrive in (January-June, July-December); data keys are
stored only wrapped by a key-encryption key kept in a file, never in the
database: --kek-file FILE, else $KSN_KEK_FILE, else <database>.kek, which
the first start creates (mode 0600; the line after "listening" says which
file is used). Keep that file safe and out of the database's backups. A
database keeps the key it was first started with: another key is refused.
At start and hourly the server purges every half-year that ended more than
--purge-grace ago: its data key and records are destroyed (and logged);
the aggregate statistics, which hold no record, stay. 'ksn admin purge'
does the same on demand.`,
		Example: `  ksn serve
  ksn serve --listen 0.0.0.0:7415 --tls-cert cert.pem --tls-key key.pem
  ksn serve --listen 127.0.0.1:0 --db /tmp/test.db   # any free port; the line says which`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (opts.TLSCert == "") != (opts.TLSKey == "") {
				return usageError("give both --tls-cert and --tls-key, or neither", "--tls-cert and --tls-key go together")
			}
			if opts.Rate < 0 || opts.Burst < 0 || opts.SubmitRate < 0 || opts.SubmitBurst < 0 || opts.Replicas < 0 {
				return usageError("", "--rate, --burst, --submit-rate, --submit-burst and --replicas must be positive")
			}
			if opts.DB == "" {
				p, err := serverDBPath(f)
				if err != nil {
					return err
				}
				opts.DB = p
			}
			d, err := config.ParseDuration(grace)
			if err != nil || d < 0 {
				return usageError("e.g. --purge-grace 7d", "--purge-grace: not a duration of 0 or more: %q", grace)
			}
			opts.PurgeGrace = d
			if opts.MinPrevalence < 0 {
				return usageError("e.g. --min-prevalence 3", "--min-prevalence: %d is not a count", opts.MinPrevalence)
			}
			kek := server.ChooseKEK(opts.KEKFile, f.Env)
			opts.KEKFile, opts.KEKFrom = kek.Path, kek.From
			if runF != nil {
				return runF(opts)
			}
			return runServe(orBackground(cmd.Context()), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Listen, "listen", DefaultListen, "`ADDRESS` to listen on (host:port; port 0 picks a free one)")
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
	fl.StringVar(&opts.KEKFile, "kek-file", "", "key-encryption key `FILE` (default: $KSN_KEK_FILE, else the database's path + .kek, created on first start)")
	fl.StringVar(&grace, "purge-grace", "7d", "purge a half-year's sealed records this `DURATION` after it ends")
	fl.IntVar(&opts.MinPrevalence, "min-prevalence", 3, "report how many participants reported a file only from `N` up (below, that anyone did is not told)")
	return cmd
}

// serverDBPath is the default server database: $KSN_DATABASE_URL, else
// <data dir>/server.db.
func serverDBPath(f *Factory) (string, error) {
	if f.Env != nil {
		if v := f.Env(server.DatabaseURLEnv); v != "" {
			return v, nil
		}
	}
	paths, err := f.Paths()
	if err != nil {
		return "", &exitcode.Error{Code: exitcode.Usage, Err: err}
	}
	return filepath.Join(paths.Data, server.DefaultDBFileName), nil
}

func runServe(ctx context.Context, opts *ServeOptions) error {
	// SIGTERM is how service managers and containers stop a server; the
	// command's context already ends on SIGINT.
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()

	logger := opts.Logger
	if logger == nil {
		logger = newServerLogger(opts.IO.ErrOut, opts.LogJSON)
	}
	return server.Run(ctx, server.RunOptions{
		Listen:        opts.Listen,
		DB:            opts.DB,
		TLSCert:       opts.TLSCert,
		TLSKey:        opts.TLSKey,
		Rate:          opts.Rate,
		Burst:         opts.Burst,
		SubmitRate:    opts.SubmitRate,
		SubmitBurst:   opts.SubmitBurst,
		Replicas:      opts.Replicas,
		MinPrevalence: opts.MinPrevalence,
		StatementFile: opts.StatementFile,
		AddrFile:      opts.AddrFile,
		KEK:           server.KEKSource{Path: opts.KEKFile, From: opts.KEKFrom},
		PurgeGrace:    opts.PurgeGrace,
		Now:           opts.Now,
		Logger:        logger,
		Warn:          func(msg string) { opts.IO.Warnf("%s", msg) },
		Listening: func(l server.Listening) {
			fmt.Fprintf(opts.IO.ErrOut, "ksn serve: listening on %s (database %s)\n", l.URL, l.DB)
			if l.KEKCreated {
				fmt.Fprintf(opts.IO.ErrOut, "ksn serve: created the key-encryption key %s: keep it safe and out of the database's backups; without it the sealed submissions cannot be read\n", l.KEKFile)
			} else {
				fmt.Fprintf(opts.IO.ErrOut, "ksn serve: submissions sealed with the key-encryption key %s\n", l.KEKFile)
			}
		},
	})
}

// newServerLogger writes the server's log to w, as text or as JSON lines.
func newServerLogger(w io.Writer, asJSON bool) *slog.Logger {
	if asJSON {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
