package network

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ksnproject/ksn/pkg/client"
	"github.com/ksnproject/ksn/pkg/config"
)

// licenseFile holds the key given to `ksn license activate`, readable by
// its owner only: it admits requests to the reputation server.
const licenseFile = "license.key"

// LicenseKey returns the key to send and where it came from: the
// environment (KSN_LICENSE_KEY) first, then the stored file. No key is not
// an error.
func LicenseKey(paths config.Paths, env config.Env) (key, source string, err error) {
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

// LicenseInfo is the license key ksn sends, masked, and where it comes
// from; its JSON form is the output of `ksn license --json`.
type LicenseInfo struct {
	Activated bool   `json:"activated"`
	Key       string `json:"key"`    // masked (MaskKey)
	Source    string `json:"source"` // "env KSN_LICENSE_KEY" or the file; "" without a key
}

// License says which key is sent, masked, and where it comes from.
func License(paths config.Paths, env config.Env) (LicenseInfo, error) {
	key, source, err := LicenseKey(paths, env)
	return LicenseInfo{Activated: key != "", Key: MaskKey(key), Source: source}, err
}

// MaskKey shows enough of a key to tell two apart, never enough to use it.
func MaskKey(key string) string {
	if len(key) <= 8 {
		return strings.Repeat("*", len(key))
	}
	return key[:4] + strings.Repeat("*", len(key)-8) + key[len(key)-4:]
}

// ValidLicenseKey reports whether key can be a license key: it travels in
// an Authorization header, so printable ASCII without spaces, and short.
// ksn serve's keys are "ksn_" and 32 characters.
func ValidLicenseKey(key string) bool {
	printable := strings.IndexFunc(key, func(r rune) bool { return r <= ' ' || r > '~' }) < 0
	return key != "" && printable && len(key) <= 256
}

// StoreLicenseKey keeps key in the state directory, readable by its owner
// only, written atomically: a crash leaves the old key or the new one,
// never half of one.
func StoreLicenseKey(paths config.Paths, key string) error {
	return writeSecret(filepath.Join(paths.State, licenseFile), []byte(key+"\n"))
}

// writeSecret replaces the file at path with data, readable by its owner
// only (its directory too), atomically and durably: keys and the choice
// of sources are written so.
func writeSecret(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
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

// newClient builds the API client from the settings and the license key.
func (c *Consent) newClient() (*client.Client, error) {
	key, _, err := LicenseKey(c.env.Paths, c.env.Getenv)
	if err != nil {
		return nil, err
	}
	o, err := c.clientOptions()
	if err != nil {
		return nil, err
	}
	o.LicenseKey = key
	return client.New(o)
}

// clientOptions are the client's options from the settings, without the
// license key (the statement is fetched without one).
func (c *Consent) clientOptions() (client.Options, error) {
	o := client.Options{
		Endpoint:  c.Endpoint(),
		Timeout:   c.settings.Duration("timeout"),
		Proxy:     c.settings.String("proxy"),
		UserAgent: "ksn/" + c.env.Version,
	}
	if f := c.settings.String("tls.ca_file"); f != "" {
		pool, err := caPool(f)
		if err != nil {
			return o, err
		}
		o.RootCAs = pool
	}
	return o, nil
}

// caPool is the system's trusted roots plus the certificates of a private
// CA's PEM file (tls.ca_file).
func caPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("tls.ca_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls.ca_file: %s holds no PEM certificate", file)
	}
	return pool, nil
}
