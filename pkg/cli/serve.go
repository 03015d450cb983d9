package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/server"
	"github.com/ksnproject/ksn/pkg/statement"
	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/spf13/cobra"
)

// DefaultListen is where `ksn serve` listens unless told otherwise:
// loopback, so that a server started to try things out is not reachable
// from the network (DESIGN §6: safe defaults).
const DefaultListen = "127.0.0.1:7415"

// shutdownGrace is how long a stopping server lets requests in flight
// finish before it closes their connections.
const shutdownGrace = 10 * time.Second

// ServeOptions are `ksn serve`'s flags and dependencies.
type ServeOptions struct {
	IO            *term.IOStreams
	Listen        string
	DB            string // the server database; resolved by the command when empty
	TLSCert       string
	TLSKey        string
	Rate          float64
	Burst         int
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

The server keeps its own SQLite database (default: server.db in ksn's data
directory): licenses, submissions, operator settings and the reputation
indicators it answers with. Load feeds into it with
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
			if opts.Rate < 0 || opts.Burst < 0 {
				return usageError("", "--rate and --burst must be positive")
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
			if opts.KEKFile != "" {
				opts.KEKFrom = "--kek-file"
			} else if f.Env != nil && f.Env(kekEnv) != "" {
				opts.KEKFile, opts.KEKFrom = f.Env(kekEnv), kekEnv
			}
			if runF != nil {
				return runF(opts)
			}
			return runServe(orBackground(cmd.Context()), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Listen, "listen", DefaultListen, "`ADDRESS` to listen on (host:port; port 0 picks a free one)")
	fl.StringVar(&opts.DB, "db", "", "server database `PATH` (default: server.db in the data directory)")
	fl.StringVar(&opts.TLSCert, "tls-cert", "", "TLS certificate `FILE` (PEM); serve HTTPS")
	fl.StringVar(&opts.TLSKey, "tls-key", "", "TLS private key `FILE` (PEM)")
	fl.Float64Var(&opts.Rate, "rate", server.DefaultRate, "items (digests, records) per second each license may send")
	fl.IntVar(&opts.Burst, "burst", server.DefaultBurst, "items a license may send at once")
	fl.StringVar(&opts.StatementFile, "statement", "", "serve the participation statement in `FILE` (and keep it)")
	fl.BoolVar(&opts.LogJSON, "log-json", false, "log as JSON lines instead of text")
	fl.StringVar(&opts.AddrFile, "addr-file", "", "once listening, write the server's URL and a newline to `FILE` (for scripts using --listen host:0)")
	fl.StringVar(&opts.KEKFile, "kek-file", "", "key-encryption key `FILE` (default: $KSN_KEK_FILE, else the database's path + .kek, created on first start)")
	fl.StringVar(&grace, "purge-grace", "7d", "purge a half-year's sealed records this `DURATION` after it ends")
	fl.IntVar(&opts.MinPrevalence, "min-prevalence", 3, "report how many participants reported a file only from `N` up (below, that anyone did is not told)")
	return cmd
}

// serverDBPath is the default server database, <data dir>/server.db.
func serverDBPath(f *Factory) (string, error) {
	paths, err := f.Paths()
	if err != nil {
		return "", &exitcode.Error{Code: exitcode.Usage, Err: err}
	}
	return filepath.Join(paths.Data, store.DefaultServerFileName), nil
}

func runServe(ctx context.Context, opts *ServeOptions) error {
	// SIGTERM is how service managers and containers stop a server; the
	// command's context already ends on SIGINT.
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()

	var tlsCfg *tls.Config
	if opts.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(opts.TLSCert, opts.TLSKey)
		if err != nil {
			return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("cannot load the TLS certificate: %w", err)}
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	db, err := store.OpenServer(ctx, opts.DB)
	if err != nil {
		return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("cannot open the server database: %w", err)}
	}
	defer db.Close()

	st, err := serverStatement(ctx, db, opts.StatementFile)
	if err != nil {
		return err
	}

	kc := kekChoice{path: opts.KEKFile, from: opts.KEKFrom}
	switch {
	case kc.path == "":
		kc = chooseKEK("", nil, db.Path())
	case kc.from == "":
		kc.from = "--kek-file"
	}
	kek, kekCreated, err := loadKEK(ctx, opts.IO, db, kc, true)
	if err != nil {
		return err
	}
	if err := db.UnlockSubmissions(ctx, kek); err != nil {
		return wrongKEK(err, kc, db.Path())
	}

	logger := opts.Logger
	if logger == nil {
		logger = newServerLogger(opts.IO.ErrOut, opts.LogJSON)
	}
	handler := server.New(server.Config{
		Store:         db,
		Statement:     st,
		Rate:          opts.Rate,
		Burst:         opts.Burst,
		Logger:        logger,
		Now:           opts.Now,
		MinPrevalence: opts.MinPrevalence,
	})

	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("cannot listen on %s: %w", opts.Listen, err)}
	}
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
		ln = tls.NewListener(ln, tlsCfg)
	} else if !isLoopback(ln.Addr()) {
		opts.IO.Warnf("listening on %s without TLS: license keys and submissions cross the network in clear; give --tls-cert and --tls-key", ln.Addr())
	}

	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		// Above the server's own request timeout (server.DefaultRequestTimeout),
		// so that a slow handler gets a problem answer rather than a cut
		// connection.
		ReadTimeout:    time.Minute,
		WriteTimeout:   time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		// The server's own logger, so that the http package's complaints
		// (TLS handshakes, ...) do not go to the global log unformatted,
		// with client addresses removed: they name the client
		// ("TLS handshake error from 192.0.2.1:5678"), and DESIGN §3
		// promises that participants' addresses are not collected.
		ErrorLog: log.New(addrRedactor{logger}, "", 0),
	}
	fmt.Fprintf(opts.IO.ErrOut, "ksn serve: listening on %s://%s (database %s)\n", scheme, ln.Addr(), db.Path())
	if kekCreated {
		fmt.Fprintf(opts.IO.ErrOut, "ksn serve: created the key-encryption key %s: keep it safe and out of the database's backups; without it the sealed submissions cannot be read\n", kc.path)
	} else {
		fmt.Fprintf(opts.IO.ErrOut, "ksn serve: submissions sealed with the key-encryption key %s\n", kc.path)
	}
	if opts.AddrFile != "" {
		// Written whole, then renamed: a reader polling for the file never
		// sees half a URL.
		tmp := opts.AddrFile + ".tmp"
		err := os.WriteFile(tmp, []byte(fmt.Sprintf("%s://%s\n", scheme, ln.Addr())), 0o644)
		if err == nil {
			err = os.Rename(tmp, opts.AddrFile)
		}
		if err != nil {
			ln.Close()
			return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("--addr-file: %w", err)}
		}
	}

	// The retention schedule: a purge now, then hourly; it ends, before
	// the database closes, with the server.
	rctx, stopRetention := context.WithCancel(ctx)
	retained := make(chan struct{})
	go func() {
		defer close(retained)
		(&server.Retention{Store: db, Grace: opts.PurgeGrace, Now: opts.Now, Logger: logger}).Run(rctx)
	}()
	defer func() { stopRetention(); <-retained }()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return &exitcode.Error{Code: exitcode.ServiceError, Err: fmt.Errorf("server stopped: %w", err)}
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return &exitcode.Error{Code: exitcode.ServiceError, Err: fmt.Errorf("shutdown: %w", err)}
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return &exitcode.Error{Code: exitcode.ServiceError, Err: fmt.Errorf("server stopped: %w", err)}
	}
	return nil
}

// serverStatement decides the statement to serve: the file given (which
// is then stored), else the one stored, else the built-in one.
func serverStatement(ctx context.Context, db *store.Server, file string) (statement.Statement, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return statement.Statement{}, &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("--statement: %w", err)}
		}
		if len(b) == 0 {
			return statement.Statement{}, usageError("", "--statement: %s is empty", file)
		}
		if err := db.SetStatement(ctx, string(b)); err != nil {
			return statement.Statement{}, err
		}
		return statement.New("", string(b), "server"), nil
	}
	text, ok, err := db.Statement(ctx)
	if err != nil {
		return statement.Statement{}, err
	}
	if ok {
		return statement.New("", text, "server"), nil
	}
	return statement.Builtin(), nil
}

func newServerLogger(w io.Writer, asJSON bool) *slog.Logger {
	if asJSON {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// clientAddr matches an IPv4 or bracketed IPv6 address with a port, as
// net/http prints a connection's remote address.
var clientAddr = regexp.MustCompile(`\b\d{1,3}(?:\.\d{1,3}){3}:\d+\b|\[[0-9A-Fa-f:.%a-zA-Z]+\]:\d+`)

// addrRedactor is the writer behind http.Server.ErrorLog: it removes client
// addresses and passes the message to the server's logger.
type addrRedactor struct{ log *slog.Logger }

func (a addrRedactor) Write(p []byte) (int, error) {
	msg := clientAddr.ReplaceAllString(strings.TrimRight(string(p), "\n"), "[client]")
	a.log.Warn(msg)
	return len(p), nil
}

// isLoopback reports whether addr is a loopback address, where traffic
// never leaves the machine. An unspecified address (0.0.0.0, ::) is not.
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
