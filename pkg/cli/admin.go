package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ksnproject/ksn/pkg/server"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/spf13/cobra"
)

// AdminOptions are what every `ksn admin` subcommand shares.
type AdminOptions struct {
	IO *term.IOStreams
	// DB is the server database; DefaultDB gives it when empty.
	DB        string
	DefaultDB func() (string, error)
	// KeyDir (--key-dir) and StateDir place the database's keys as for
	// `ksn serve` (server.KeyPlaces).
	KeyDir   string
	StateDir string
	// Now is the clock that relative times (--expires 90d, --for 10m)
	// count from; tests set it.
	Now func() time.Time
	// Env reads the environment (KSN_KEK_FILE); nil reads nothing.
	Env func(string) string
}

// admin returns the server's administration over the chosen database.
// SQLite's WAL mode and busy timeout let an operator run it beside a
// running `ksn serve`.
func (o *AdminOptions) admin() *server.Admin {
	return &server.Admin{DB: o.DB, DefaultDB: o.DefaultDB, KeyDir: o.KeyDir, StateDir: o.StateDir, Now: o.Now,
		Warn: func(msg string) { o.IO.Warnf("%s", msg) }}
}

// NewCmdAdmin builds `ksn admin` and its subcommands.
func NewCmdAdmin(f *Factory) *cobra.Command {
	opts := &AdminOptions{IO: f.IO, DefaultDB: func() (string, error) { return serverDBPath(f) }, Env: f.Env}
	if paths, err := f.Paths(); err == nil { // else DefaultDB fails with the reason
		opts.StateDir = paths.State
	}
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Manage a reputation server: licenses, verdict overrides, restrictions, retention",
		Long: `Manage the database of a reputation server ('ksn serve'): licenses, verdict
overrides, and the service-wide restriction of file reputation. Every
subcommand works while the server runs; the server sees changes at once
(restrictions within a second).

Feeds are loaded into the server database with
'ksn feed import --db <server database> FILE...'.

Submissions are kept sealed under a key per half-year and destroyed when the
half-year is over ('purge'; the server does it by itself), with aggregate
statistics kept ('stats'). 'keygen' makes the key-encryption key of a new
server, 'verify' checks that a key opens what is sealed.`,
	}
	cmd.PersistentFlags().StringVar(&opts.DB, "db", "", "server database: SQLite `PATH` or postgres:// URL (default: $KSN_DATABASE_URL, else server.db in the data directory)")
	cmd.PersistentFlags().StringVar(&opts.KeyDir, "key-dir", "", "the database's data key `DIR`, as given to ksn serve (default: in the state directory)")
	cmd.AddCommand(newCmdAdminLicense(opts), newCmdAdminVerdict(opts), newCmdAdminRestrict(opts), newCmdAdminStats(opts),
		newCmdAdminKeygen(opts), newCmdAdminPurge(opts), newCmdAdminVerify(opts))
	return cmd
}

// writeJSONLine prints v as one line of JSON.
func writeJSONLine(ios *term.IOStreams, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(ios.Out, "%s\n", b)
	return err
}
