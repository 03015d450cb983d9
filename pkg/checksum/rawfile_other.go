//go:build !unix

package checksum

import "os"

func openRaw(path string) (fileReader, error) { return os.Open(path) }
