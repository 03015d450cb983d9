// Package buildinfo is what a ksn binary knows of its own build: its
// version, the Go toolchain that built it, the platform, and the source
// revision. `ksn version` and `ksn --version` print it.
//
// It imports only the standard library.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Info is a binary's build. Its JSON form is the output of `ksn version
// --json`.
type Info struct {
	Version  string `json:"version"`  // the module version, or "dev"
	Go       string `json:"go"`       // the Go toolchain that built it
	Platform string `json:"platform"` // GOOS/GOARCH
	Revision string `json:"revision,omitempty"`
	Modified bool   `json:"modified,omitempty"` // built from a tree with changes
}

// Read describes the running binary, whose module version is version.
func Read(version string) Info {
	v := Info{Version: version, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	return v
}

// String is the version with the toolchain and the platform, as
// `ksn --version` prints it after "ksn ".
func (v Info) String() string { return fmt.Sprintf("%s (%s, %s)", v.Version, v.Go, v.Platform) }
