package cli

import (
	"fmt"
	"strings"

	"github.com/ksnproject/ksn/pkg/config"
	"github.com/spf13/cobra"
)

// EnvironmentText lists every variable ksn reads and every file it keeps:
// `ksn help environment`, and the ENVIRONMENT and FILES of the man page.
func EnvironmentText() string {
	var b strings.Builder
	b.WriteString(`ENVIRONMENT
  KSN_HOME           keep every file under this directory (config, data,
                     state, cache) instead of the XDG directories
  KSN_LICENSE_KEY    the license key to send, over the stored one
  KSN_PARTICIPATION  off (or anything but on/1/true/yes) pauses
                     participation; nothing in the environment grants it
  DO_NOT_TRACK       1 or true pauses participation, like KSN_PARTICIPATION=off
  KSN_NO_CACHE       1: ask the network even about files it answered
                     recently (ksn check --no-cache)
  KSN_KEK_FILE       ksn serve: the key-encryption key file
  NO_COLOR           any value: no colour (also TERM=dumb)
  PAGER              pages the statement on a terminal
  SSL_CERT_FILE, SSL_CERT_DIR
                     the CA certificates trusted for an https:// endpoint
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY
                     the proxy, when the proxy setting is empty
  XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_STATE_HOME, XDG_CACHE_HOME
                     where the files below live without KSN_HOME

  Every setting ('ksn config list') has its variable, which wins over the
  config file:
`)
	for _, k := range config.Keys {
		fmt.Fprintf(&b, "  %-26s %s\n", config.EnvName(k.Name), k.Name)
	}
	b.WriteString(`
FILES
  (XDG defaults; with KSN_HOME, $KSN_HOME/config, data, state and cache)
  ~/.config/ksn/config.toml              settings ('ksn config')
  ~/.local/share/ksn/reputation.db       the local reputation database
                                         (baseline, imported feeds,
                                         overrides, network answers cached)
  ~/.local/state/ksn/participation.db    decisions (append-only) and the
                                         outbox of collected records
  ~/.local/state/ksn/license.key         the license key (mode 0600)
  ~/.cache/ksn/                          remembered server waits, caches;
                                         safe to delete`)
	return b.String()
}

// newEnvironmentTopic is `ksn help environment`.
func newEnvironmentTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "environment",
		Short: "The environment variables ksn reads and the files it keeps",
		Long:  EnvironmentText(),
	}
}
