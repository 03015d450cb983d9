package cli

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionInfo is what `ksn version --json` prints.
type versionInfo struct {
	Version  string `json:"version"`  // the module version, or "dev"
	Go       string `json:"go"`       // the Go toolchain that built it
	Platform string `json:"platform"` // GOOS/GOARCH
	Revision string `json:"revision,omitempty"`
	Modified bool   `json:"modified,omitempty"` // built from a tree with changes
}

func buildInfo(version string) versionInfo {
	v := versionInfo{Version: version, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
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

// fullVersion is what --version prints after "ksn ".
func fullVersion(version string) string {
	v := buildInfo(version)
	return fmt.Sprintf("%s (%s, %s)", v.Version, v.Go, v.Platform)
}

// NewCmdVersion builds `ksn version`.
func NewCmdVersion(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print ksn's version, the Go version that built it and the platform",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := buildInfo(f.Version)
			if asJSON {
				b, _ := json.Marshal(v)
				fmt.Fprintf(f.IO.Out, "%s\n", b)
				return nil
			}
			fmt.Fprintf(f.IO.Out, "ksn %s\n", fullVersion(f.Version))
			if v.Revision != "" {
				mod := ""
				if v.Modified {
					mod = " (with local changes)"
				}
				fmt.Fprintf(f.IO.Out, "revision %s%s\n", v.Revision, mod)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print version, go, platform and revision as JSON")
	return cmd
}
