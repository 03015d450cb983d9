package cli

import (
	"time"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/report"
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
	paths, pathsErr := f.Paths() // when it fails, DefaultDB says why
	opts := &AdminOptions{IO: f.IO, Env: f.Env, StateDir: paths.State, DefaultDB: func() (string, error) {
		if pathsErr != nil {
			return "", &exitcode.Error{Code: exitcode.Usage, Err: pathsErr}
		}
		return server.DefaultDBPath(paths.Data, f.Env), nil
	}}
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
	cmd.AddCommand(adminCommands(opts)...)
	return cmd
}

// adminCommands are the subcommands of `ksn admin`, on opts.
func adminCommands(opts *AdminOptions) []*cobra.Command {
	return []*cobra.Command{newCmdAdminInit(opts), newCmdAdminLicense(opts), newCmdAdminVerdict(opts), newCmdAdminRestrict(opts),
		newCmdAdminStats(opts), newCmdAdminKeygen(opts), newCmdAdminPurge(opts), newCmdAdminVerify(opts)}
}

func newCmdAdminInit(opts *AdminOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create a server database, or bring its schema up to date",
		Long: `Create the server database --db names (a SQLite file, in a directory that
exists; on PostgreSQL, the tables of a database the operator made) or
bring an existing one's schema up to date. The other admin commands refuse
a database that does not exist, so that a mistyped --db is an error rather
than a new, empty database; 'ksn serve' creates its database by itself.`,
		Example: "  ksn admin init --db /srv/ksn/server.db",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			where, created, err := opts.admin().Init(cmd.Context())
			if err != nil {
				return err
			}
			report.DatabaseReady(opts.IO.Out, where, created)
			return nil
		},
	}
}
