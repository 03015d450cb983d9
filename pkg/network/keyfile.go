package network

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/exitcode"
)

// maxKeyFile bounds what ReadKeyFile and ActivateLicense read: a key is
// short, and a wrong file must not be read whole.
const maxKeyFile = 4096

// ReadKeyFile reads a service's key from the file name, or from stdin when
// name is "-" (so that keys stay out of shell history and the process
// list). A file with nothing but space in it is an error.
func ReadKeyFile(stdin io.Reader, name string) (string, error) {
	r := stdin
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return "", err
		}
		defer file.Close()
		r = file
	}
	b, err := io.ReadAll(io.LimitReader(r, maxKeyFile))
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(string(b)) == "" {
		return "", fmt.Errorf("%s holds no key", name)
	}
	return string(b), nil
}

// EnableFromFile is `ksn source enable`: the source looked up, its key
// read from keyFile ("-": stdin; "": none), then EnableSource. Every
// failure is a usage error.
func EnableFromFile(p config.Paths, stdin io.Reader, name, keyFile, baseURL string, dailyQuota int) (SourceConfig, error) {
	if _, ok := LookupPublic(name); !ok {
		return SourceConfig{}, usage("known: "+PublicNames(), "no public source is named %q", name)
	}
	key := ""
	if keyFile != "" {
		var err error
		if key, err = ReadKeyFile(stdin, keyFile); err != nil {
			return SourceConfig{}, usage("", "--key-file: %v", err)
		}
	}
	cfg, err := EnableSource(p, name, key, baseURL, dailyQuota)
	if err != nil {
		return cfg, usage("see 'ksn source enable --help'", "%v", err)
	}
	return cfg, nil
}

// ActivateLicense is `ksn license activate`: the key given, or with "-"
// the first line of stdin, checked and stored. What is wrong with the key
// is a usage error.
func ActivateLicense(p config.Paths, stdin io.Reader, key string) (string, error) {
	if key == "-" {
		line, err := bufio.NewReader(io.LimitReader(stdin, maxKeyFile)).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", usage("", "reading the license key from standard input: %v", err)
		}
		key = line
	}
	key = strings.TrimSpace(key)
	if !ValidLicenseKey(key) {
		return "", usage("paste the key exactly as the operator gave it", "that does not look like a license key")
	}
	if err := StoreLicenseKey(p, key); err != nil {
		return "", fmt.Errorf("storing the license key: %w", err)
	}
	return key, nil
}

func usage(hint, format string, args ...any) error {
	return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf(format, args...), Hint: hint}
}
