package server

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
	"regexp"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/statement"
	"github.com/ksnproject/ksn/pkg/store"
	"golang.org/x/net/netutil"
)

// shutdownGrace is how long a stopping server lets requests in flight
// finish before it closes their connections.
const shutdownGrace = 10 * time.Second

// DefaultMaxConnections bounds the connections a server holds open at
// once (RunOptions.MaxConnections): more wait in the kernel's queue until
// one closes, rather than each costing a goroutine and buffers.
const DefaultMaxConnections = 1024

// RunOptions are what Run needs: `ksn serve`'s flags, parsed, and the
// callbacks through which the command tells the operator what happens.
type RunOptions struct {
	Listen string // host:port; port 0 picks a free one
	// MetricsListen, when set, is where /metrics is served instead of on
	// Listen (host:port), so that it can be kept off the public port.
	MetricsListen string
	DB            string // the server database: a SQLite file's path or a postgres:// URL
	// DefaultDB says that DB is the default place, in ksn's own data
	// directory, which is made when missing; a SQLite file given by the
	// operator is made only in a directory that exists.
	DefaultDB bool
	TLSCert   string // PEM files; both or neither
	TLSKey    string
	// Rate, Burst and MinPrevalence are those of Config; Rate and Burst
	// (and SubmitRate and SubmitBurst) are the license's, of which each
	// of Replicas (0 or 1: this one alone) enforces its share.
	Rate          float64
	Burst         int
	SubmitRate    float64 // records; a bucket of their own (Config)
	SubmitBurst   int
	Replicas      int
	MinPrevalence int
	// MaxConnections bounds the open connections (0: the default,
	// DefaultMaxConnections).
	MaxConnections int
	// StatementFile, when set, is served and stored (see LoadStatement).
	StatementFile string
	// AddrFile, when set, receives the server's URL and a newline once it
	// listens, for scripts that listen on port 0.
	AddrFile string
	// Keys says where the data keys and the key-encryption key are; the
	// default key-encryption key file is made on the first start.
	Keys KeyPlaces
	// PurgeGrace is how long after a half-year ends it is purged.
	PurgeGrace time.Duration
	// Now is the clock of the server and its purges; nil means time.Now.
	Now func() time.Time
	// Logger receives the request log and the purges; nil discards them.
	Logger *slog.Logger
	// Warn hears what the operator should fix but does not stop the
	// server (a key file others may read, clear text off loopback).
	Warn func(msg string)
	// Listening is told, once the server listens and before it serves,
	// where it listens and with which key.
	Listening func(Listening)
}

// Listening is what Run tells once it listens.
type Listening struct {
	URL        string // scheme://host:port
	MetricsURL string // http://host:port/metrics when on a listener of its own
	DB         string // the database's absolute path
	DBCreated  bool   // whether this start made the database
	KEKFile    string // the key-encryption key file in use
	KEKCreated bool   // whether this start made that file
	// KEKMovedFrom is where the key-encryption key file was before this
	// start moved it out of the database's directory ("": not moved).
	KEKMovedFrom string
	KeyDir       string // the data keys' directory
	KeysMoved    int    // data keys this start moved out of the database
}

// Run is `ksn serve`: it opens the database, binds it to its key-encryption
// key, listens, purges at start and hourly, and serves until ctx ends, then
// lets the requests in flight finish (up to shutdownGrace). Its errors
// carry their exit code: usage for what the operator must fix before a
// start, service error for a server that stopped by itself.
func Run(ctx context.Context, o RunOptions) error {
	var tlsCfg *tls.Config
	if o.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("cannot load the TLS certificate: %w", err)}
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	created, err := mayCreate(o.DB, o.DefaultDB)
	if err != nil {
		return err
	}
	db, err := store.OpenServerDatabase(ctx, o.DB)
	if err != nil {
		return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("cannot open the server database: %w", err)}
	}
	if !store.IsPostgresURL(o.DB) {
		db = store.QueueWrites(db) // one writer: submitters never race for SQLite's lock
	}
	defer db.Close()

	st, err := LoadStatement(ctx, db, o.StatementFile)
	if err != nil {
		return err
	}

	placed, err := o.Keys.place(ctx, o.Warn, db, true)
	if err != nil {
		return err
	}
	kc := placed.KEK
	kek, kekCreated, err := loadKEK(ctx, o.Warn, db, kc, true)
	if err != nil {
		return err
	}
	if err := db.UnlockSubmissions(ctx, kek); err != nil {
		return wrongKEK(err, kc, db.Path())
	}

	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	warmLookups(ctx, db, logger)
	rate, burst := share(o.Rate, o.Burst, DefaultRate, DefaultBurst, o.Replicas)
	submitRate, submitBurst := share(o.SubmitRate, o.SubmitBurst, DefaultSubmitRate, DefaultSubmitBurst, o.Replicas)
	handler := New(Config{
		Store:         db,
		Statement:     st,
		Rate:          rate,
		Burst:         burst,
		SubmitRate:    submitRate,
		SubmitBurst:   submitBurst,
		Logger:        logger,
		Now:           o.Now,
		MinPrevalence: o.MinPrevalence,

		MetricsElsewhere: o.MetricsListen != "",
	})
	metricsSrv, metricsURL, err := serveMetrics(o, handler, logger)
	if err != nil {
		return err
	}
	if metricsSrv != nil {
		defer metricsSrv.Close()
	}

	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("cannot listen on %s: %w", o.Listen, err)}
	}
	maxConns := o.MaxConnections
	if maxConns <= 0 {
		maxConns = DefaultMaxConnections
	}
	ln = netutil.LimitListener(ln, maxConns)
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
		ln = tls.NewListener(ln, tlsCfg)
	} else if !isLoopback(ln.Addr()) {
		warnf(o.Warn, "listening on %s without TLS: license keys and submissions cross the network in clear; give --tls-cert and --tls-key", ln.Addr())
	}

	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		// Above the server's own request timeout (DefaultRequestTimeout),
		// so that a slow handler gets a problem answer rather than a cut
		// connection. A body must arrive sooner still, within
		// Config.BodyTimeout of its turn to be read (readBatch).
		ReadTimeout:  time.Minute,
		WriteTimeout: time.Minute,
		IdleTimeout:  30 * time.Second, // a client's requests come in a burst; an idle connection is only held

		MaxHeaderBytes: 64 << 10,
		// The server's own logger, so that the http package's complaints
		// (TLS handshakes, ...) do not go to the global log unformatted,
		// with client addresses removed: they name the client
		// ("TLS handshake error from 192.0.2.1:5678"), and DESIGN §3
		// promises that participants' addresses are not collected.
		ErrorLog: log.New(addrRedactor{logger}, "", 0),
	}
	url := fmt.Sprintf("%s://%s", scheme, ln.Addr())
	if o.Listening != nil {
		o.Listening(Listening{URL: url, MetricsURL: metricsURL, DB: db.Path(), DBCreated: created, KEKFile: kc.Path, KEKCreated: kekCreated,
			KEKMovedFrom: placed.KEKFrom, KeyDir: placed.KeyDir, KeysMoved: placed.Moved})
	}
	if o.AddrFile != "" {
		if err := writeAddrFile(o.AddrFile, url); err != nil {
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
		(&Retention{Store: db, Grace: o.PurgeGrace, MinPrevalence: o.MinPrevalence, Now: o.Now, Logger: logger}).Run(rctx)
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

// serveMetrics starts serving /metrics on o.MetricsListen, when set, in
// plain HTTP: it is for a scraper on the operator's network, never for
// clients. The server stops with Run.
func serveMetrics(o RunOptions, h *Server, logger *slog.Logger) (*http.Server, string, error) {
	if o.MetricsListen == "" {
		return nil, "", nil
	}
	ln, err := net.Listen("tcp", o.MetricsListen)
	if err != nil {
		return nil, "", &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("cannot listen on %s (--metrics-listen): %w", o.MetricsListen, err)}
	}
	if !isLoopback(ln.Addr()) {
		warnf(o.Warn, "serving /metrics on %s without TLS: keep that port to the scraper's network", ln.Addr())
	}
	srv := &http.Server{
		Handler:           h.MetricsHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          log.New(addrRedactor{logger}, "", 0),
	}
	go srv.Serve(netutil.LimitListener(ln, 16)) // ends with Close
	return srv, fmt.Sprintf("http://%s%s", ln.Addr(), api.PathMetrics), nil
}

// writeAddrFile writes url and a newline to path whole, then renames it
// into place: a reader polling for the file never sees half a URL.
func writeAddrFile(path, url string) error {
	tmp := path + ".tmp"
	err := os.WriteFile(tmp, []byte(url+"\n"), 0o644)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	return err
}

// statementStore is where a server keeps the statement it serves.
type statementStore interface {
	SetStatement(ctx context.Context, text string) error
	Statement(ctx context.Context) (text string, ok bool, err error)
}

// LoadStatement decides the statement to serve: the one in file when given
// (which is then stored, so that a restart without it keeps serving it),
// else the one stored, else the built-in one.
func LoadStatement(ctx context.Context, db statementStore, file string) (statement.Statement, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return statement.Statement{}, &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("--statement: %w", err)}
		}
		if len(b) == 0 {
			return statement.Statement{}, exitcode.New(exitcode.Usage, "--statement: %s is empty", file)
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

// clientAddr matches an IPv4 or bracketed IPv6 address with a port, as
// net/http prints a connection's remote address.
var clientAddr = regexp.MustCompile(`\b\d{1,3}(?:\.\d{1,3}){3}:\d+\b|\[[0-9A-Fa-f:.%a-zA-Z]+\]:\d+`)

// addrRedactor is the writer behind http.Server.ErrorLog: it removes client
// addresses and passes the message to the server's logger.
type addrRedactor struct{ log *slog.Logger }

// Write logs one message of the http package as a warning, without
// addresses.
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

// NewLogger writes a server's log to w, as text or as JSON lines.
func NewLogger(w io.Writer, asJSON bool) *slog.Logger {
	if asJSON {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// warmUpLimit bounds how long a server reads what it answers lookups from
// before it listens; past it, it listens anyway and the reading goes on
// while SQLite answers alone.
const warmUpLimit = time.Minute

// warmLookups has the database read what it answers lookups from, when it
// keeps something in memory, so that the server is at full speed as soon
// as it listens.
func warmLookups(ctx context.Context, db store.ServerStore, logger *slog.Logger) {
	w, ok := db.(store.LookupWarmer)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, warmUpLimit)
	defer cancel()
	start := time.Now()
	keys, err := w.WarmLookups(ctx)
	if err != nil {
		logger.Warn("lookup filter not ready; lookups ask the database meanwhile", "error", err)
		return
	}
	logger.Info("lookup filter ready", "keys", keys, "took", time.Since(start).Round(time.Millisecond))
}
