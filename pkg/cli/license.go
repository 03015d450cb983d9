package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ksnproject/ksn/pkg/config"
	"github.com/spf13/cobra"
)

// licenseFile holds the key given to `ksn license activate`, readable by
// its owner only: it admits requests to the reputation server.
const licenseFile = "license.key"

// NewCmdLicense builds `ksn license` and `ksn license activate`.
func NewCmdLicense(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "license",
		Short: "Show the license key used for the reputation server",
		Long: `Show which license key ksn sends to the reputation server (masked) and
where it comes from. KSN_LICENSE_KEY overrides the stored key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			paths, err := f.Paths()
			if err != nil {
				return err
			}
			key, source, err := licenseKey(paths, f.Env)
			if err != nil {
				return err
			}
			if asJSON {
				b, _ := json.Marshal(map[string]any{"activated": key != "", "key": maskKey(key), "source": source})
				fmt.Fprintf(f.IO.Out, "%s\n", b)
				return nil
			}
			if key == "" {
				fmt.Fprintln(f.IO.Out, "No license key: activate one with 'ksn license activate <key>'.")
				return nil
			}
			fmt.Fprintf(f.IO.Out, "License key %s (from %s)\n", maskKey(key), source)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print activated, the masked key and its source as JSON")
	activate := &cobra.Command{
		Use:   "activate <key>",
		Short: "Store the license key the reputation server gave you",
		Long: `Store the license key (mode 0600 in the state directory). The key is only
sent to the configured endpoint, and only while you participate.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key := strings.TrimSpace(args[0])
			// A key travels in an Authorization header: printable ASCII,
			// no spaces. ksn serve's keys are "ksn_" and 32 characters.
			printable := strings.IndexFunc(key, func(r rune) bool { return r <= ' ' || r > '~' }) < 0
			if key == "" || !printable || len(key) > 256 {
				return usageError("paste the key exactly as the operator gave it", "that does not look like a license key")
			}
			paths, err := f.Paths()
			if err != nil {
				return err
			}
			if err := writeSecret(filepath.Join(paths.State, licenseFile), key+"\n"); err != nil {
				return fmt.Errorf("storing the license key: %w", err)
			}
			fmt.Fprintf(f.IO.Out, "License key %s stored.\n", maskKey(key))
			if env := f.Env("KSN_LICENSE_KEY"); env != "" {
				f.IO.Warnf("KSN_LICENSE_KEY is set and overrides the stored key")
			}
			return nil
		},
	}
	cmd.AddCommand(activate)
	return cmd
}

// licenseKey returns the key to send and where it came from: the
// environment first, then the stored file. No key is not an error.
func licenseKey(paths config.Paths, env config.Env) (key, source string, err error) {
	if k := strings.TrimSpace(env("KSN_LICENSE_KEY")); k != "" {
		return k, "env KSN_LICENSE_KEY", nil
	}
	p := filepath.Join(paths.State, licenseFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("reading the license key: %w", err)
	}
	return strings.TrimSpace(string(b)), p, nil
}

// maskKey shows enough of a key to tell two apart, never enough to use it.
func maskKey(key string) string {
	if key == "" {
		return ""
	}
	if len(key) <= 8 {
		return strings.Repeat("*", len(key))
	}
	return key[:4] + strings.Repeat("*", len(key)-8) + key[len(key)-4:]
}

// writeSecret writes a file only its owner can read, atomically: a crash
// leaves the old key or the new one, never half of one.
func writeSecret(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".license-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
