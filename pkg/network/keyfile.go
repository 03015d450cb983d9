package network

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// maxKeyFile bounds what ReadKeyFile reads: a key is short, and a wrong
// file must not be read whole.
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
