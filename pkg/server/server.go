package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/statement"
	"github.com/ksnproject/ksn/pkg/store"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for the zero fields of Config.
const (
	// DefaultRate is a license's sustained rate in items (digests or
	// records) per second. A team's own server protects itself from a
	// runaway client, not from its users: a check of a 20,000-file tree
	// should pass without a pause.
	DefaultRate = 2000
	// DefaultBurst lets twenty full batches (api.MaxBatch items) through at
	// once, so a status call and a large check never collide with the limit.
	DefaultBurst = 20 * api.MaxBatch
	// DefaultSubmitRate is a license's sustained submission rate in
	// records per second, a budget apart from its lookups'.
	DefaultSubmitRate = 2000
	// DefaultSubmitBurst is the most records a license may submit at
	// once: fifty full batches, so that an installation's first
	// delivery, a backlog of up to 50,000 records (an opt-in after a
	// long scan collects 30,000), goes through without a refusal.
	DefaultSubmitBurst = 50 * api.MaxBatch
	// DefaultMaxBodyBytes bounds a request body: a full lookup batch is about
	// 200 KiB, a full submission batch of file records about 1 MiB.
	DefaultMaxBodyBytes = 4 << 20
	// DefaultRequestTimeout bounds the work on one request.
	DefaultRequestTimeout = 30 * time.Second
	// DefaultCacheTTL is how long clients may cache a verdict.
	DefaultCacheTTL = time.Hour
	// restrictionCheckEvery is how stale the file-reputation switch may be:
	// reading it on every lookup would add a query per request.
	restrictionCheckEvery = time.Second
)

// Config configures a Server. Only Store is required.
type Config struct {
	// Store is the reputation database; *store.Server in production.
	Store store.ServerStore
	// Statement is served by GET /v1/statement and named by /v1/status;
	// the zero value means the statement built into the binary.
	Statement statement.Statement
	// Rate is each license's sustained rate in items per second, Burst the
	// most items it may spend at once (its token bucket's size).
	Rate  float64
	Burst int
	// SubmitRate and SubmitBurst are the same for submissions (records),
	// which have a token bucket of their own.
	SubmitRate  float64
	SubmitBurst int
	// MaxBodyBytes bounds a request body (413 beyond it): a submission's;
	// lookups have smaller limits of their own, sized to a full batch.
	MaxBodyBytes int64
	// MaxDecoding is how many bodies of each class (lookups, submissions)
	// are read and handled at once; BodyTimeout how long a request may
	// take to send its body once its turn came.
	MaxDecoding int
	BodyTimeout time.Duration
	// RequestTimeout bounds the handling of one request.
	RequestTimeout time.Duration
	// CacheTTL is announced to clients in /v1/status.
	CacheTTL time.Duration
	// MinPrevalence is the fewest participants a file must have been
	// reported by for lookups to say so (and to date it from the
	// aggregates): below it, that somebody reported a given file at all
	// is not told, or prevalence would tell a license holder which files
	// some participant has. 0 or 1 tells every count.
	MinPrevalence int
	// Logger receives one record per request; nil discards them.
	Logger *slog.Logger
	// Now is the clock of licenses, rate limits and the restriction
	// switch; tests inject one. Nil means time.Now.
	Now func() time.Time
	// MetricsElsewhere says that /metrics is served on a listener of its
	// own (MetricsHandler), so that the API's port does not show the
	// server's request counts and runtime to every client: the API then
	// answers /metrics like any unknown path.
	MetricsElsewhere bool
	// Registry receives the server's metrics and is what /metrics serves;
	// nil means a new registry of the server's own (with the Go runtime and
	// process collectors).
	Registry *prometheus.Registry
}

// Server is the HTTP handler of the API. Create it with New.
type Server struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics
	handler http.Handler

	mu      sync.Mutex
	budgets map[bucket]*budget // two per license: lookups, submissions

	lookupTurns, submitTurns turns // bodies read at once (limits.go)

	licenses licenseCache // licenses of keys seen within licenseCheckEvery

	restrMu      sync.Mutex
	restrUntil   time.Time // from the store
	restrChecked time.Time // when it was read; zero: never
	restrReading bool      // a request is reading it now
}

// New returns the server's handler for cfg, with defaults for its zero
// fields. It panics without a Store: that is a programming error.
func New(cfg Config) *Server {
	if cfg.Store == nil {
		panic("server.New: Config.Store is nil")
	}
	if cfg.Statement.ID == "" {
		cfg.Statement = statement.Builtin()
	}
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultBurst
	}
	if cfg.SubmitRate <= 0 {
		cfg.SubmitRate = DefaultSubmitRate
	}
	if cfg.SubmitBurst <= 0 {
		cfg.SubmitBurst = DefaultSubmitBurst
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxDecoding <= 0 {
		cfg.MaxDecoding = DefaultMaxDecoding
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = DefaultBodyTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:     cfg,
		log:     log,
		now:     cfg.Now,
		budgets: make(map[bucket]*budget),

		lookupTurns: make(turns, cfg.MaxDecoding),
		submitTurns: make(turns, cfg.MaxDecoding),
	}
	s.metrics = newMetrics(cfg.Registry)
	s.handler = s.routes()
	return s
}

// MetricsHandler serves /metrics alone (other paths are 404), for a
// listener of its own (Config.MetricsElsewhere).
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+api.PathMetrics, s.metrics.handler())
	return mux
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Limits are what /v1/status announces.
func (s *Server) limits() api.Limits {
	return api.Limits{
		MaxBatch:        api.MaxBatch,
		MaxBodyBytes:    s.cfg.MaxBodyBytes,
		ItemsPerSecond:  s.cfg.Rate,
		Burst:           s.cfg.Burst,
		CacheTTLSeconds: int(s.cfg.CacheTTL / time.Second),
		SubmitPerSecond: s.cfg.SubmitRate,
		SubmitBurst:     s.cfg.SubmitBurst,
	}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(method, path string, h http.HandlerFunc) {
		mux.HandleFunc(method+" "+path, h)
		// Any other method on a known path: a problem document, not the
		// mux's plain-text 405.
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", method)
			writeProblem(w, r, problem{Status: http.StatusMethodNotAllowed, Type: problemMethodNotAllowed,
				Detail: fmt.Sprintf("%s takes %s", path, method)})
		})
	}
	handle(http.MethodGet, api.PathHealth, s.handleHealth)
	if !s.cfg.MetricsElsewhere {
		handle(http.MethodGet, api.PathMetrics, s.metrics.handler().ServeHTTP)
	}
	handle(http.MethodGet, api.PathStatement, s.handleStatement)
	handle(http.MethodGet, api.PathStatus, s.authed(s.handleStatus))
	handle(http.MethodPost, api.PathLookupFiles, s.authed(s.handleLookupFiles))
	handle(http.MethodPost, api.PathSubmissions, s.authed(s.handleSubmissions))
	handle(http.MethodPost, api.PathLookupURLs, s.authed(s.handleLookupURLs))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, problem{Status: http.StatusNotFound, Type: problemNotFound, Detail: "no such endpoint"})
	})
	return s.observe(s.recoverPanics(s.limitRequest(mux)))
}

// reqInfo is what handlers tell the logging middleware about a request.
type reqInfo struct {
	licenseID int64
	items     int
}

type reqInfoKey struct{}

func info(r *http.Request) *reqInfo {
	if ri, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{} // not under observe (direct handler tests)
}

// statusWriter remembers the status code for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader remembers the first status written.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write counts a body written without a header as 200, as net/http does.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs and counts every request. The log record never carries the
// key, a body or the client's address (DESIGN §3 promises that
// participants' addresses are not collected), and names the license only
// of a refusal.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &reqInfo{}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, ri)))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(start)
		ep := endpoint(r.URL.Path)
		s.metrics.observe(ep, sw.status, d)
		attrs := []slog.Attr{
			slog.String("method", knownMethod(r.Method)),
			slog.String("endpoint", ep),
			slog.Int("status", sw.status),
			slog.Duration("duration", d),
		}
		// No answered request is logged with its license: the statement
		// promises that the key is not stored with what a participant
		// sends, and a line tying a license to a submission's time and
		// size would do just that; so would a lookup's line just before
		// it, from the same client (a check looks up, then delivers).
		// Refusals keep it, for the operator who has to find out why a
		// license is turned away: a refused request stored nothing.
		if ri.licenseID != 0 && sw.status >= 400 {
			attrs = append(attrs, slog.Int64("license", ri.licenseID))
		}
		if ri.items != 0 {
			attrs = append(attrs, slog.Int("items", ri.items))
		}
		// Errors are what an operator must look at: the server failing.
		// A 503 (restricted, timed out) is the service working as told.
		level := slog.LevelInfo
		switch {
		case sw.status >= 500 && sw.status != http.StatusServiceUnavailable:
			level = slog.LevelError
		case sw.status >= 500:
			level = slog.LevelWarn
		}
		s.log.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

// endpoint names a path for logs and metric labels. Unknown paths share
// one name, so that a scanner probing random URLs can neither grow the
// metrics without bound nor write what it likes into the logs.
func endpoint(path string) string {
	switch path {
	case api.PathStatus, api.PathStatement, api.PathLookupFiles, api.PathLookupURLs,
		api.PathSubmissions, api.PathHealth, api.PathMetrics:
		return path
	}
	return "other"
}

// recoverPanics turns a panic in a handler into 500 internal, logged with
// its stack, so one bad request does not take the connection's goroutine
// down silently.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			writeProblem(w, r, problem{Status: http.StatusInternalServerError, Type: api.ProblemInternal})
		}()
		next.ServeHTTP(w, r)
	})
}

// limitRequest bounds every request's body and duration.
func (s *Server) limitRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// storeFailed answers a database error: 503 when the request ran out of
// time (the client may retry), else 500. The error is logged, not sent:
// it may name files and tables.
func (s *Server) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(r.Context().Err(), context.DeadlineExceeded) {
		s.log.Warn("request timed out", slog.String("endpoint", endpoint(r.URL.Path)), slog.Any("error", err))
		writeProblem(w, r, problem{Status: http.StatusServiceUnavailable, Type: api.ProblemInternal,
			Detail: "the request took too long; try again", RetryAfter: 1})
		return
	}
	s.log.Error("database", slog.String("endpoint", endpoint(r.URL.Path)), slog.Any("error", err))
	writeProblem(w, r, problem{Status: http.StatusInternalServerError, Type: api.ProblemInternal})
}

// knownMethod is an HTTP method as logged: a standard one as it is, any
// other as "other", since the method is the client's text and could be
// tens of kilobytes long.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "other"
}
